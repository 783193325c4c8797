#include "net/socks5.hpp"

#include "unit/proxy_grind.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using smtpprobe::net::ProxyProgress;
using smtpprobe::net::ProxyStep;
using smtpprobe::net::Socks5Handshake;
using smtpprobe::net::Socks5Request;
using smtpprobe::test::bytes;
using smtpprobe::test::grind;
using smtpprobe::test::Outcome;

namespace {

smtpprobe::test::HandshakeFactory socks(std::string host, unsigned short port,
                                        std::string user = {}, std::string password = {}) {
    return [=] {
        return std::make_unique<Socks5Handshake>(Socks5Request{host, port, user, password});
    };
}

std::string const ok_v4 = bytes({5, 0, 0, 1, 127, 0, 0, 1, 0xa0, 0x10}); // BND 127.0.0.1:40976

} // namespace

TEST_CASE("SOCKS5 without authentication: exact bytes, at every split point", "[unit][socks5]") {
    Outcome const o = grind(socks("127.0.0.1", 587), bytes({5, 0}) + ok_v4);
    CHECK(o.state == ProxyProgress::State::done);
    CHECK(o.sent == bytes({5, 1, 0, /* request */ 5, 1, 0, 1, 127, 0, 0, 1, 0x02, 0x4b}));
    CHECK(o.bound == "127.0.0.1 port 40976");
    CHECK(o.leftover.empty());
}

TEST_CASE("SOCKS5 sends a name (ATYP 3) or an IPv6 address (ATYP 4)", "[unit][socks5]") {
    Outcome const name = grind(socks("mail.example.test", 25), bytes({5, 0}) + ok_v4);
    CHECK(name.state == ProxyProgress::State::done);
    CHECK(name.sent == bytes({5, 1, 0, 5, 1, 0, 3, 17}) + "mail.example.test" + bytes({0, 25}));

    std::string const reply6 =
        bytes({5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x12, 0x34});
    Outcome const v6 = grind(socks("2001:db8::1", 465), bytes({5, 0}) + reply6);
    CHECK(v6.state == ProxyProgress::State::done);
    CHECK(v6.sent == bytes({5, 1, 0, 5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0,   0,
                            0, 0, 0, 0, 0, 0, 0, 0,    0,    1,    0x01, 0xd1}));
    CHECK(v6.bound == "::1 port 4660");

    // A bound address given as a name (ATYP 3) is shown as the name.
    Outcome const named =
        grind(socks("192.0.2.1", 25), bytes({5, 0, 5, 0, 0, 3, 5}) + "proxy" + bytes({0, 80}));
    CHECK(named.state == ProxyProgress::State::done);
    CHECK(named.bound == "proxy port 80");
}

TEST_CASE("SOCKS5 user/password (RFC 1929): offered, sent, accepted or refused", "[unit][socks5]") {
    auto const make = socks("127.0.0.1", 587, "alice", "s3cret");
    Outcome const ok = grind(make, bytes({5, 2, 1, 0}) + ok_v4);
    CHECK(ok.state == ProxyProgress::State::done);
    CHECK(ok.sent == bytes({5, 2, 0, 2, 1, 5}) + "alice" + bytes({6}) + "s3cret" +
                         bytes({5, 1, 0, 1, 127, 0, 0, 1, 0x02, 0x4b}));
    for (std::string const& note : ok.notes) {
        CHECK(note.find("s3cret") == std::string::npos);
        CHECK(note.find("alice") == std::string::npos);
    }

    Outcome const refused = grind(make, bytes({5, 2, 1, 1}));
    CHECK(refused.state == ProxyProgress::State::failed);
    CHECK(refused.step == ProxyStep::authentication);
    CHECK(refused.error == "the proxy rejected the user name or password (RFC 1929 status 0x01)");

    // The proxy may skip authentication although we offered it.
    Outcome const none = grind(make, bytes({5, 0}) + ok_v4);
    CHECK(none.state == ProxyProgress::State::done);
    CHECK(none.sent.find("s3cret") == std::string::npos);
}

TEST_CASE("SOCKS5 bytes past the reply are the tunnelled stream", "[unit][socks5]") {
    Outcome const o = grind(socks("127.0.0.1", 587), bytes({5, 0}) + ok_v4 + "220 ready\r\n");
    CHECK(o.state == ProxyProgress::State::done);
    CHECK(o.leftover == "220 ready\r\n");
}

TEST_CASE("every SOCKS5 reply code has its own message", "[unit][socks5]") {
    struct Case {
        int code;
        char const* text;
    };
    Case const cases[] = {
        {1, "general SOCKS server failure"}, {2, "connection not allowed by ruleset"},
        {3, "network unreachable"},          {4, "host unreachable"},
        {5, "connection refused"},           {6, "TTL expired"},
        {7, "command not supported"},        {8, "address type not supported"},
        {9, "unassigned reply code"},        {255, "unassigned reply code"},
    };
    for (Case const& c : cases) {
        INFO("reply " << c.code);
        Outcome const o =
            grind(socks("127.0.0.1", 587), bytes({5, 0, 5, c.code, 0, 1, 0, 0, 0, 0, 0, 0}));
        CHECK(o.state == ProxyProgress::State::failed);
        CHECK(o.step == ProxyStep::request);
        CHECK(o.error == "the proxy refused the connection: " + std::string(c.text) +
                             " (SOCKS reply " + std::to_string(c.code) + ")");
    }
}

TEST_CASE("malformed SOCKS5 replies fail with a message naming what is wrong", "[unit][socks5]") {
    struct Case {
        std::string reply;
        ProxyStep step;
        char const* error;
    };
    std::vector<Case> const cases{
        {"HTTP/1.1 400 Bad Request\r\n", ProxyStep::greeting,
         "not a SOCKS5 proxy: its first reply byte is 0x48, not 0x05 (it looks like an HTTP "
         "proxy: use http://)"},
        {bytes({4, 0}), ProxyStep::greeting,
         "not a SOCKS5 proxy: its first reply byte is 0x04, not 0x05"},
        {bytes({5, 0xff}), ProxyStep::greeting,
         "the proxy accepts none of the offered methods (no authentication): it probably wants "
         "a user name and password"},
        {bytes({5, 2}), ProxyStep::greeting,
         "the proxy chose username/password, which was not offered"},
        {bytes({5, 1}), ProxyStep::greeting, "the proxy chose GSSAPI, which was not offered"},
        {bytes({5, 0x80}), ProxyStep::greeting,
         "the proxy chose method 0x80, which was not offered"},
        {bytes({5, 0, 4, 0, 0, 1}), ProxyStep::request,
         "malformed CONNECT reply: version 0x04, not 0x05"},
        {bytes({5, 0, 5, 0, 1, 1}), ProxyStep::request,
         "malformed CONNECT reply: reserved byte is 0x01, not 0x00"},
        {bytes({5, 0, 5, 0, 0, 7}), ProxyStep::request,
         "malformed CONNECT reply: unknown address type 0x07"},
        {"", ProxyStep::greeting, "the proxy closed the connection before its method choice"},
        {bytes({5}), ProxyStep::greeting,
         "the proxy closed the connection before its method choice (after 1 byte(s) of it)"},
        {bytes({5, 0, 5, 0, 0, 1, 127}), ProxyStep::request,
         "the proxy closed the connection before its CONNECT reply (after 5 byte(s) of it)"},
    };
    for (Case const& c : cases) {
        INFO(smtpprobe::net::hex_bytes(c.reply));
        Outcome const o = grind(socks("127.0.0.1", 587), c.reply);
        CHECK(o.state == ProxyProgress::State::failed);
        CHECK(o.step == c.step);
        CHECK(o.error == c.error);
    }
    Outcome const auth = grind(socks("127.0.0.1", 587, "u", "p"), bytes({5, 2, 7, 0}));
    CHECK(auth.error == "malformed authentication reply: version 0x07, not 0x01");
    CHECK(auth.step == ProxyStep::authentication);
}

TEST_CASE("a SOCKS5 proxy that goes silent is reported at the step it stopped at",
          "[unit][socks5]") {
    auto const make = socks("127.0.0.1", 587, "u", "p");
    Outcome const greeting = smtpprobe::test::drive(make, {}, false);
    CHECK(greeting.error == "the proxy did not answer in time");
    CHECK(greeting.step == ProxyStep::greeting);
    Outcome const auth = smtpprobe::test::drive(make, {bytes({5, 2})}, false);
    CHECK(auth.step == ProxyStep::authentication);
    CHECK(auth.error == "the proxy did not answer in time");
    Outcome const eof = smtpprobe::test::drive(make, {bytes({5, 2})}, true);
    CHECK(eof.error == "the proxy closed the connection before its authentication reply");
}

TEST_CASE("every truncation of a good SOCKS5 exchange fails cleanly, never done",
          "[unit][socks5]") {
    std::string const full = bytes({5, 2, 1, 0, 5, 0, 0, 3, 4}) + "host" + bytes({0, 25});
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
        INFO("cut at " << cut);
        Outcome const o = smtpprobe::test::drive(socks("example.test", 25, "u", "p"),
                                                 {std::string_view(full).substr(0, cut)});
        CHECK(o.state == ProxyProgress::State::failed);
        CHECK_FALSE(o.error.empty());
    }
}

TEST_CASE("SOCKS5 refuses what it cannot carry", "[unit][socks5]") {
    CHECK_THROWS_AS(Socks5Handshake(Socks5Request{std::string(256, 'a'), 25, "", ""}),
                    std::invalid_argument);
    CHECK_THROWS_AS(Socks5Handshake(Socks5Request{"h", 25, "user", ""}), std::invalid_argument);
    CHECK_THROWS_AS(Socks5Handshake(Socks5Request{"h", 25, std::string(256, 'u'), "p"}),
                    std::invalid_argument);
    CHECK_NOTHROW(Socks5Handshake(Socks5Request{std::string(255, 'a'), 25, "", ""}));
}
