#include "net/socks5.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdexcept>

namespace smtpprobe::net {
namespace {

constexpr unsigned char version = 0x05;
constexpr unsigned char method_none = 0x00;
constexpr unsigned char method_password = 0x02;
constexpr unsigned char method_unacceptable = 0xFF;

unsigned byte(std::string const& s, std::size_t i) {
    return static_cast<unsigned char>(s[i]);
}

std::string hex2(unsigned value) {
    char const* digits = "0123456789abcdef";
    return std::string("0x") + digits[(value >> 4) & 15] + digits[value & 15];
}

std::string method_name(unsigned method) {
    switch (method) {
    case method_none:
        return "no authentication";
    case 0x01:
        return "GSSAPI";
    case method_password:
        return "username/password";
    default:
        return "method " + hex2(method);
    }
}

} // namespace

std::string_view socks5_reply_text(unsigned code) noexcept {
    switch (code) {
    case 0:
        return "succeeded";
    case 1:
        return "general SOCKS server failure";
    case 2:
        return "connection not allowed by ruleset";
    case 3:
        return "network unreachable";
    case 4:
        return "host unreachable";
    case 5:
        return "connection refused";
    case 6:
        return "TTL expired";
    case 7:
        return "command not supported";
    case 8:
        return "address type not supported";
    default:
        return "unassigned reply code";
    }
}

Socks5Handshake::Socks5Handshake(Socks5Request request) : request_(std::move(request)) {
    if (request_.host.empty() || request_.host.size() > 255)
        throw std::invalid_argument("SOCKS5 carries host names of 1 to 255 bytes");
    if (!request_.user.empty() &&
        (request_.user.size() > 255 || request_.password.empty() || request_.password.size() > 255))
        throw std::invalid_argument(
            "SOCKS5 user/password authentication (RFC 1929) needs a user name and a password "
            "of 1 to 255 bytes each");
}

std::string Socks5Handshake::connect_request() const {
    std::string out{char(version), char(0x01), char(0x00)}; // CONNECT, reserved
    unsigned char address[16];
    if (::inet_pton(AF_INET, request_.host.c_str(), address) == 1) {
        out += char(0x01);
        out.append(reinterpret_cast<char const*>(address), 4);
    } else if (::inet_pton(AF_INET6, request_.host.c_str(), address) == 1) {
        out += char(0x04);
        out.append(reinterpret_cast<char const*>(address), 16);
    } else {
        out += char(0x03);
        out += static_cast<char>(request_.host.size());
        out += request_.host;
    }
    out += static_cast<char>(request_.port >> 8);
    out += static_cast<char>(request_.port & 0xFF);
    return out;
}

ProxyProgress Socks5Handshake::send_request() {
    step_ = ProxyStep::request;
    state_ = State::reply;
    std::string const req = connect_request();
    note("SOCKS -> " + hex_bytes(req, 64) + " (CONNECT " + request_.host + " port " +
         std::to_string(request_.port) + ")");
    return {ProxyProgress::State::need_more, req};
}

ProxyProgress Socks5Handshake::start() {
    state_ = State::method;
    step_ = ProxyStep::greeting;
    std::string greeting{char(version)};
    if (request_.user.empty()) {
        greeting += {char(1), char(method_none)};
        note("SOCKS -> " + hex_bytes(greeting) + " (offering: no authentication)");
    } else {
        greeting += {char(2), char(method_none), char(method_password)};
        note("SOCKS -> " + hex_bytes(greeting) +
             " (offering: no authentication, username/password)");
    }
    return {ProxyProgress::State::need_more, greeting};
}

ProxyProgress Socks5Handshake::feed(std::string_view bytes) {
    if (state_ == State::done) {
        leftover_ += bytes;
        return {ProxyProgress::State::done, {}};
    }
    if (state_ == State::failed || state_ == State::idle)
        return {ProxyProgress::State::failed, {}};
    // Bounded: no SOCKS5 message is longer than 262 bytes, so a burst is kept only to that.
    buffer_.append(bytes.substr(0, 1024));
    ProxyProgress out;
    std::string pending;
    for (int round = 0; round < 8; ++round) {
        out = advance();
        pending += out.send;
        if (out.state != ProxyProgress::State::need_more || out.send.empty())
            break;
    }
    out.send = std::move(pending);
    return out;
}

ProxyProgress Socks5Handshake::advance() {
    auto failed = [this](ProxyStep step, std::string message) {
        state_ = State::failed;
        return fail(step, std::move(message));
    };
    switch (state_) {
    case State::method: {
        if (buffer_.size() < 2)
            return {};
        note("SOCKS <- " + hex_bytes(buffer_.substr(0, 2)));
        unsigned const v = byte(buffer_, 0);
        unsigned const m = byte(buffer_, 1);
        if (v != version) {
            std::string message =
                "not a SOCKS5 proxy: its first reply byte is " + hex2(v) + ", not 0x05";
            if (v == 'H')
                message += " (it looks like an HTTP proxy: use http://)";
            return failed(ProxyStep::greeting, message);
        }
        buffer_.erase(0, 2);
        if (m == method_unacceptable)
            return failed(ProxyStep::greeting,
                          request_.user.empty()
                              ? "the proxy accepts none of the offered methods (no "
                                "authentication): it probably wants a user name and password"
                              : "the proxy accepts none of the offered methods (no "
                                "authentication, username/password)");
        if (m == method_none) {
            note("SOCKS: the proxy chose no authentication");
            return send_request();
        }
        if (m == method_password && !request_.user.empty()) {
            note("SOCKS: the proxy chose username/password; sending them (RFC 1929, not shown)");
            step_ = ProxyStep::authentication;
            state_ = State::auth;
            std::string auth{char(0x01)};
            auth += static_cast<char>(request_.user.size());
            auth += request_.user;
            auth += static_cast<char>(request_.password.size());
            auth += request_.password;
            return {ProxyProgress::State::need_more, auth};
        }
        return failed(ProxyStep::greeting,
                      "the proxy chose " + method_name(m) + ", which was not offered");
    }
    case State::auth: {
        if (buffer_.size() < 2)
            return {};
        note("SOCKS <- " + hex_bytes(buffer_.substr(0, 2)));
        unsigned const v = byte(buffer_, 0);
        unsigned const status = byte(buffer_, 1);
        // RFC 1929 says version 1; some servers echo the SOCKS version 5 instead.
        if (v != 0x01 && v != version)
            return failed(ProxyStep::authentication,
                          "malformed authentication reply: version " + hex2(v) + ", not 0x01");
        buffer_.erase(0, 2);
        if (status != 0)
            return failed(ProxyStep::authentication,
                          "the proxy rejected the user name or password (RFC 1929 status " +
                              hex2(status) + ")");
        note("SOCKS: the proxy accepted the user name and password");
        return send_request();
    }
    case State::reply: {
        if (buffer_.size() < 2)
            return {};
        unsigned const v = byte(buffer_, 0);
        unsigned const rep = byte(buffer_, 1);
        if (v != version) {
            note("SOCKS <- " + hex_bytes(buffer_));
            return failed(ProxyStep::request,
                          "malformed CONNECT reply: version " + hex2(v) + ", not 0x05");
        }
        if (rep != 0) {
            note("SOCKS <- " + hex_bytes(buffer_));
            return failed(ProxyStep::request, "the proxy refused the connection: " +
                                                  std::string(socks5_reply_text(rep)) +
                                                  " (SOCKS reply " + std::to_string(rep) + ")");
        }
        if (buffer_.size() < 4)
            return {};
        if (byte(buffer_, 2) != 0) {
            note("SOCKS <- " + hex_bytes(buffer_));
            return failed(ProxyStep::request, "malformed CONNECT reply: reserved byte is " +
                                                  hex2(byte(buffer_, 2)) + ", not 0x00");
        }
        unsigned const atyp = byte(buffer_, 3);
        std::size_t total = 0;
        if (atyp == 0x01)
            total = 4 + 4 + 2;
        else if (atyp == 0x04)
            total = 4 + 16 + 2;
        else if (atyp == 0x03 && buffer_.size() >= 5)
            total = 5 + byte(buffer_, 4) + 2;
        else if (atyp == 0x03)
            return {};
        else {
            note("SOCKS <- " + hex_bytes(buffer_));
            return failed(ProxyStep::request,
                          "malformed CONNECT reply: unknown address type " + hex2(atyp));
        }
        if (buffer_.size() < total)
            return {};
        std::string address;
        if (atyp == 0x03) {
            address = printable(buffer_.substr(5, byte(buffer_, 4)));
        } else {
            char text[INET6_ADDRSTRLEN] = {};
            ::inet_ntop(atyp == 0x01 ? AF_INET : AF_INET6, buffer_.data() + 4, text, sizeof text);
            address = text;
        }
        unsigned const port = byte(buffer_, total - 2) << 8 | byte(buffer_, total - 1);
        // microsocks and others send 0.0.0.0:0: "not telling".
        bool const unset = port == 0 && (address == "0.0.0.0" || address == "::");
        if (!unset)
            bound_ = address + " port " + std::to_string(port);
        note("SOCKS <- " + hex_bytes(buffer_.substr(0, total), 64) + " (succeeded" +
             (unset ? std::string(")") : "; the proxy's outbound address: " + bound_ + ")"));
        leftover_ = buffer_.substr(total);
        buffer_.clear();
        state_ = State::done;
        return {ProxyProgress::State::done, {}};
    }
    case State::done:
        return {ProxyProgress::State::done, {}};
    case State::idle:
    case State::failed:
        break;
    }
    return {ProxyProgress::State::failed, {}};
}

ProxyProgress Socks5Handshake::stop(bool eof) {
    if (state_ == State::done)
        return {ProxyProgress::State::done, {}};
    if (state_ == State::failed)
        return {ProxyProgress::State::failed, {}};
    std::string const what = state_ == State::method ? "its method choice"
                             : state_ == State::auth ? "its authentication reply"
                                                     : "its CONNECT reply";
    state_ = State::failed;
    std::string const got =
        buffer_.empty() ? "" : " (after " + std::to_string(buffer_.size()) + " byte(s) of it)";
    return fail(step_, eof ? "the proxy closed the connection before " + what + got
                           : "the proxy did not answer in time" + got);
}

} // namespace smtpprobe::net
