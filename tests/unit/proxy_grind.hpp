#pragma once
// Drives a proxy handshake over a scripted reply, split at every point: the outcome must not
// depend on how the bytes arrive.

#include "net/proxy_handshake.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace smtpprobe::test {

struct Outcome {
    net::ProxyProgress::State state = net::ProxyProgress::State::need_more;
    std::string sent; ///< every byte the client sent, in order
    std::string error;
    net::ProxyStep step = net::ProxyStep::greeting;
    std::string leftover; ///< the tunnelled stream: leftover() plus what came after done
    std::string bound;
    std::vector<std::string> notes;

    bool operator==(Outcome const&) const = default;
};

using HandshakeFactory = std::function<std::unique_ptr<net::ProxyHandshake>()>;

/// Feeds `reply` in the pieces given (their concatenation is the reply); then, if still not
/// finished, calls stop(eof).
inline Outcome drive(HandshakeFactory const& make, std::vector<std::string_view> const& pieces,
                     bool eof_at_end = true) {
    std::unique_ptr<net::ProxyHandshake> h = make();
    Outcome out;
    net::ProxyProgress p = h->start();
    out.sent += p.send;
    std::string after; // bytes the driver would have handed to the stream directly
    for (std::string_view piece : pieces) {
        if (p.state == net::ProxyProgress::State::done) {
            after += piece;
            continue;
        }
        if (p.state == net::ProxyProgress::State::failed)
            break;
        p = h->feed(piece);
        out.sent += p.send;
    }
    if (p.state == net::ProxyProgress::State::need_more)
        p = h->stop(eof_at_end);
    out.state = p.state;
    out.error = h->error();
    out.step = h->step();
    out.leftover = h->leftover() + after;
    out.bound = h->bound_address();
    out.notes = h->take_notes();
    return out;
}

/// The outcome of the whole reply at once, checked equal to every two-piece split and to
/// byte-by-byte delivery (leftover included: the bytes past the handshake are the same).
inline Outcome grind(HandshakeFactory const& make, std::string const& reply) {
    Outcome const whole = drive(make, {reply});
    for (std::size_t split = 0; split <= reply.size(); ++split) {
        std::string_view const all(reply);
        Outcome const two = drive(make, {all.substr(0, split), all.substr(split)});
        INFO("split at " << split);
        CHECK(two.state == whole.state);
        CHECK(two.sent == whole.sent);
        CHECK(two.error == whole.error);
        CHECK(two.leftover == whole.leftover);
        CHECK(two.bound == whole.bound);
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < reply.size(); ++i)
        bytes.push_back(std::string_view(reply).substr(i, 1));
    Outcome const single = drive(make, bytes);
    CHECK(single.state == whole.state);
    CHECK(single.sent == whole.sent);
    CHECK(single.error == whole.error);
    CHECK(single.leftover == whole.leftover);
    return whole;
}

inline std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values)
        out += static_cast<char>(v);
    return out;
}

} // namespace smtpprobe::test
