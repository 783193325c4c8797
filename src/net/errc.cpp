#include "net/errc.hpp"

#include <string>

namespace smtpprobe::net {
namespace {

class Category final : public std::error_category {
public:
    char const* name() const noexcept override { return "net"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::timeout:
            return "timed out";
        case errc::closed_by_peer:
            return "connection closed by the server";
        case errc::connect_failed:
            return "could not connect";
        case errc::resolve_failed:
            return "could not resolve the host name";
        case errc::tls_handshake_failed:
            return "TLS handshake failed";
        case errc::tls_io_failed:
            return "TLS error";
        case errc::interrupted:
            return "interrupted";
        case errc::proxy_failed:
            return "no tunnel through the proxy";
        }
        return "unknown network error";
    }
};

} // namespace

std::error_category const& net_category() noexcept {
    static Category const category;
    return category;
}

} // namespace smtpprobe::net
