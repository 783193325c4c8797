#pragma once
// SOCKS5 client handshake (RFC 1928) with user/password authentication (RFC 1929), sans-I/O.

#include "net/proxy_handshake.hpp"

#include <string>

namespace smtpprobe::net {

struct Socks5Request {
    /// An IPv4/IPv6 literal is sent as an address (ATYP 1/4), anything else as a name (ATYP 3)
    /// for the proxy to resolve.
    std::string host;
    unsigned short port = 0;
    std::string user; ///< empty: offer only "no authentication"
    std::string password;
};

/// The RFC 1928 §6 reply codes in words: "host unreachable" for 4.
std::string_view socks5_reply_text(unsigned code) noexcept;

class Socks5Handshake final : public ProxyHandshake {
public:
    /// Throws std::invalid_argument for a name over 255 bytes, or a user or password that
    /// RFC 1929 cannot carry (1 to 255 bytes each).
    explicit Socks5Handshake(Socks5Request request);

    ProxyProgress start() override;
    ProxyProgress feed(std::string_view bytes) override;
    ProxyProgress stop(bool eof) override;

private:
    enum class State { idle, method, auth, reply, done, failed };
    ProxyProgress advance();
    std::string connect_request() const;
    ProxyProgress send_request();

    Socks5Request request_;
    State state_ = State::idle;
    std::string buffer_;
};

} // namespace smtpprobe::net
