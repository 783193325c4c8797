#pragma once
// The common shape of the proxy handshakes (SOCKS5, HTTP CONNECT): sans-I/O state machines.
// Bytes received go in through feed(); what to send, whether the tunnel is up, or why it
// failed comes out. net::connect (net/connect.hpp) drives one over a socket.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::net {

/// The step of the proxy handshake, for "proxy X: <step>: <what went wrong>".
enum class ProxyStep {
    connect,        ///< the TCP connection to the proxy
    greeting,       ///< SOCKS5 method negotiation
    authentication, ///< RFC 1929 user/password, or HTTP 407
    request,        ///< SOCKS5 CONNECT / HTTP CONNECT and its reply
};

std::string_view to_string(ProxyStep step) noexcept;

struct ProxyProgress {
    enum class State { need_more, done, failed };
    State state = State::need_more;
    std::string send; ///< bytes to send now (may be empty)
};

class ProxyHandshake {
public:
    virtual ~ProxyHandshake() = default;
    /// The first bytes to send (the greeting or the request).
    virtual ProxyProgress start() = 0;
    /// Consumes every byte given; once done, bytes past the handshake are in leftover().
    virtual ProxyProgress feed(std::string_view bytes) = 0;
    /// The proxy closed the connection (`eof`) or did not answer in time: always failed, with
    /// the most specific message the bytes so far allow.
    virtual ProxyProgress stop(bool eof) = 0;

    ProxyStep step() const noexcept { return step_; }
    std::string const& error() const noexcept { return error_; }
    /// Bytes received after the end of the handshake: the start of the tunnelled stream.
    std::string const& leftover() const noexcept { return leftover_; }
    /// What the proxy says its outbound address is ("192.0.2.7 port 41234"), empty if not.
    std::string const& bound_address() const noexcept { return bound_; }
    /// Lines for the transcript's "===" notation since the last call; never a secret.
    std::vector<std::string> take_notes() { return std::exchange(notes_, {}); }

protected:
    ProxyProgress fail(ProxyStep step, std::string message) {
        step_ = step;
        error_ = std::move(message);
        failed_ = true;
        return {ProxyProgress::State::failed, {}};
    }
    void note(std::string line) {
        if (notes_.size() < 200)
            notes_.push_back(std::move(line));
    }

    ProxyStep step_ = ProxyStep::greeting;
    bool failed_ = false;
    std::string error_;
    std::string leftover_;
    std::string bound_;
    std::vector<std::string> notes_;
};

/// Bytes as " 05 00 ..." for a transcript note, at most `limit` of them.
std::string hex_bytes(std::string_view bytes, std::size_t limit = 32);
/// A received line made safe to print: control bytes as \xNN, cut at `limit` characters.
std::string printable(std::string_view line, std::size_t limit = 200);

} // namespace smtpprobe::net
