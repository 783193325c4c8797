#pragma once
// HTTP CONNECT tunnel handshake (RFC 9110 §9.3.6) with optional Basic proxy authentication
// (RFC 7617), sans-I/O. The response header is bounded in size; every line of it is noted
// for the transcript.

#include "net/proxy_handshake.hpp"

#include <string>

namespace smtpprobe::net {

struct HttpConnectRequest {
    std::string host; ///< name or address (IPv6 without brackets)
    unsigned short port = 0;
    std::string user; ///< empty: no Proxy-Authorization
    std::string password;
    std::string user_agent = "smtpprobe";
};

class HttpConnectHandshake final : public ProxyHandshake {
public:
    static constexpr std::size_t max_line = 4096;
    static constexpr std::size_t max_header = 16384;
    static constexpr int max_lines = 100;

    /// Throws std::invalid_argument for a host or user with CR, LF or NUL in it.
    explicit HttpConnectHandshake(HttpConnectRequest request);

    ProxyProgress start() override;
    ProxyProgress feed(std::string_view bytes) override;
    ProxyProgress stop(bool eof) override;

    int status() const noexcept { return status_; }

private:
    ProxyProgress line(std::string_view text);
    ProxyProgress finish_header();

    HttpConnectRequest request_;
    enum class State { idle, status_line, headers, done, failed } state_ = State::idle;
    std::string buffer_;
    std::size_t header_bytes_ = 0;
    int lines_ = 0;
    int status_ = 0;
    std::string status_line_;
};

} // namespace smtpprobe::net
