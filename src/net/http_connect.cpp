#include "net/http_connect.hpp"

#include "smtp/base64.hpp"

#include <stdexcept>

namespace smtpprobe::net {
namespace {

bool has_control(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string authority(std::string const& host, unsigned short port) {
    bool const v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

} // namespace

HttpConnectHandshake::HttpConnectHandshake(HttpConnectRequest request)
    : request_(std::move(request)) {
    if (request_.host.empty() || has_control(request_.host) || has_control(request_.user) ||
        has_control(request_.password) || has_control(request_.user_agent) ||
        request_.user.find(':') != std::string::npos)
        throw std::invalid_argument("the CONNECT request cannot carry this host, user name or "
                                    "password (no CR, LF or NUL; no ':' in the user name)");
    step_ = ProxyStep::request;
}

ProxyProgress HttpConnectHandshake::start() {
    state_ = State::status_line;
    std::string const target = authority(request_.host, request_.port);
    std::string out = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
    std::string shown = out;
    if (!request_.user.empty()) {
        out += "Proxy-Authorization: Basic " +
               smtp::base64_encode(request_.user + ":" + request_.password) + "\r\n";
        shown += "Proxy-Authorization: Basic <hidden>\r\n";
    }
    std::string const tail = "User-Agent: " + request_.user_agent + "\r\n\r\n";
    out += tail;
    shown += tail;
    std::size_t pos = 0;
    for (int i = 0; i < 10 && pos < shown.size(); ++i) {
        std::size_t const end = shown.find("\r\n", pos);
        if (end == pos)
            break;
        note("HTTP -> " + shown.substr(pos, end - pos));
        pos = end + 2;
    }
    return {ProxyProgress::State::need_more, out};
}

ProxyProgress HttpConnectHandshake::feed(std::string_view bytes) {
    if (state_ == State::done) {
        leftover_ += bytes;
        return {ProxyProgress::State::done, {}};
    }
    if (state_ == State::failed || state_ == State::idle)
        return {ProxyProgress::State::failed, {}};
    buffer_ += bytes;
    // The bounds, checked the same way whether a line is complete or still arriving.
    auto too_big = [this](std::size_t line_length, std::size_t header_length) {
        std::string what;
        if (line_length > max_line)
            what = "the proxy's response has a line longer than " + std::to_string(max_line) +
                   " bytes";
        else if (header_length > max_header)
            what = "the proxy's response header is longer than " + std::to_string(max_header) +
                   " bytes";
        if (!what.empty())
            state_ = State::failed;
        return what;
    };
    for (int round = 0; round <= max_lines + 1; ++round) {
        std::size_t const nl = buffer_.find('\n');
        std::size_t const length = nl == std::string::npos ? buffer_.size() : nl;
        std::size_t const header = header_bytes_ + (nl == std::string::npos ? length : nl + 1);
        if (std::string what = too_big(length, header); !what.empty())
            return fail(ProxyStep::request, std::move(what));
        if (nl == std::string::npos)
            return {};
        header_bytes_ = header;
        std::string text = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!text.empty() && text.back() == '\r')
            text.pop_back();
        ProxyProgress const out = line(text);
        if (out.state != ProxyProgress::State::need_more)
            return out;
    }
    return {};
}

ProxyProgress HttpConnectHandshake::line(std::string_view text) {
    note("HTTP <- " + printable(text));
    if (++lines_ > max_lines) {
        state_ = State::failed;
        return fail(ProxyStep::request, "the proxy's response has more than " +
                                            std::to_string(max_lines) + " header lines");
    }
    if (state_ == State::status_line) {
        // "HTTP/1.1 200 Connection established"
        bool const ok = text.size() >= 12 && text.substr(0, 7) == "HTTP/1." && text[7] >= '0' &&
                        text[7] <= '9' && text[8] == ' ' && text[9] >= '1' && text[9] <= '5' &&
                        text[10] >= '0' && text[10] <= '9' && text[11] >= '0' && text[11] <= '9' &&
                        (text.size() == 12 || text[12] == ' ');
        if (!ok) {
            state_ = State::failed;
            return fail(ProxyStep::request,
                        "not an HTTP proxy: its first line is \"" + printable(text, 80) + "\"");
        }
        status_ = (text[9] - '0') * 100 + (text[10] - '0') * 10 + (text[11] - '0');
        status_line_ = printable(text.substr(9), 120);
        state_ = State::headers;
        return {};
    }
    if (text.empty())
        return finish_header();
    return {};
}

ProxyProgress HttpConnectHandshake::finish_header() {
    if (status_ >= 200 && status_ < 300) {
        state_ = State::done;
        leftover_ = std::move(buffer_);
        buffer_.clear();
        return {ProxyProgress::State::done, {}};
    }
    state_ = State::failed;
    std::string const target = authority(request_.host, request_.port);
    // RFC 9110 §15.5.8 says 407; tinyproxy 1.11 answers wrong Basic credentials with 401.
    if (status_ == 407 || (status_ == 401 && !request_.user.empty()))
        return fail(ProxyStep::authentication,
                    request_.user.empty()
                        ? "the proxy requires authentication (HTTP " + status_line_ +
                              "): give a user in the proxy URL and a password with "
                              "--proxy-password-env or --proxy-password-file"
                        : "the proxy rejected the user name or password (HTTP " + status_line_ +
                              ")");
    if (status_ == 403)
        return fail(ProxyStep::request,
                    "the proxy refused to connect to " + target + " (HTTP " + status_line_ + ")");
    return fail(ProxyStep::request,
                "the proxy did not open a tunnel to " + target + " (HTTP " + status_line_ + ")");
}

ProxyProgress HttpConnectHandshake::stop(bool eof) {
    if (state_ == State::done)
        return {ProxyProgress::State::done, {}};
    if (state_ == State::failed)
        return {ProxyProgress::State::failed, {}};
    // A refusal whose header never ended is still a refusal.
    if (status_ != 0 && (status_ < 200 || status_ >= 300))
        return finish_header();
    state_ = State::failed;
    std::string const where = status_ == 0 ? "before its status line" : "inside its header";
    return fail(ProxyStep::request, eof ? "the proxy closed the connection " + where
                                        : "the proxy did not answer in time (" + where + ")");
}

} // namespace smtpprobe::net
