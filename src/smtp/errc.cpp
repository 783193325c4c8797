#include "smtp/errc.hpp"

namespace smtpprobe::smtp {
namespace {

class Category final : public std::error_category {
public:
    char const* name() const noexcept override { return "smtp"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::malformed_reply:
            return "malformed reply line";
        case errc::code_mismatch:
            return "reply code changes inside a multi-line reply";
        case errc::reply_too_long:
            return "reply line too long";
        case errc::too_many_lines:
            return "reply has too many lines";
        case errc::data_after_starttls:
            return "data received after the STARTTLS 220 reply, before the TLS handshake";
        case errc::truncated_reply:
            return "connection closed in the middle of a reply";
        case errc::unexpected_code:
            return "unexpected reply code";
        }
        return "unknown smtp error";
    }
};

} // namespace

std::error_category const& smtp_category() noexcept {
    static Category const category;
    return category;
}

} // namespace smtpprobe::smtp
