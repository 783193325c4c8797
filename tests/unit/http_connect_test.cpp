#include "net/http_connect.hpp"

#include "smtp/base64.hpp"
#include "unit/proxy_grind.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using smtpprobe::net::HttpConnectHandshake;
using smtpprobe::net::HttpConnectRequest;
using smtpprobe::net::ProxyProgress;
using smtpprobe::net::ProxyStep;
using smtpprobe::test::grind;
using smtpprobe::test::Outcome;

namespace {

smtpprobe::test::HandshakeFactory http(std::string host, unsigned short port, std::string user = {},
                                       std::string password = {}) {
    return [=] {
        return std::make_unique<HttpConnectHandshake>(
            HttpConnectRequest{host, port, user, password, "smtpprobe/test"});
    };
}

} // namespace

TEST_CASE("HTTP CONNECT: the request, and a 200 at every split point", "[unit][http_connect]") {
    Outcome const o = grind(http("127.0.0.1", 587),
                            "HTTP/1.1 200 Connection established\r\nProxy-agent: x\r\n\r\n");
    CHECK(o.state == ProxyProgress::State::done);
    CHECK(o.sent == "CONNECT 127.0.0.1:587 HTTP/1.1\r\nHost: 127.0.0.1:587\r\n"
                    "User-Agent: smtpprobe/test\r\n\r\n");
    CHECK(o.leftover.empty());
    std::vector<std::string> const expected{"HTTP -> CONNECT 127.0.0.1:587 HTTP/1.1",
                                            "HTTP -> Host: 127.0.0.1:587",
                                            "HTTP -> User-Agent: smtpprobe/test",
                                            "HTTP <- HTTP/1.1 200 Connection established",
                                            "HTTP <- Proxy-agent: x",
                                            "HTTP <- "};
    CHECK(o.notes == expected);
}

TEST_CASE("HTTP CONNECT: IPv6 in brackets, bare LF, HTTP/1.0, a status without a reason",
          "[unit][http_connect]") {
    Outcome const v6 = grind(http("::1", 25), "HTTP/1.0 200\n\n");
    CHECK(v6.state == ProxyProgress::State::done);
    CHECK(v6.sent.starts_with("CONNECT [::1]:25 HTTP/1.1\r\nHost: [::1]:25\r\n"));
}

TEST_CASE("HTTP CONNECT: the server's first bytes after the header are kept",
          "[unit][http_connect]") {
    Outcome const o =
        grind(http("mail.example.test", 587), "HTTP/1.1 200 OK\r\n\r\n220 mail ESMTP\r\n");
    CHECK(o.state == ProxyProgress::State::done);
    CHECK(o.leftover == "220 mail ESMTP\r\n");
}

TEST_CASE("HTTP CONNECT Basic auth: sent, never noted", "[unit][http_connect]") {
    Outcome const o = grind(http("127.0.0.1", 587, "alice", "s3cret"), "HTTP/1.1 200 OK\r\n\r\n");
    std::string const b64 = smtpprobe::smtp::base64_encode("alice:s3cret");
    CHECK(o.sent.find("Proxy-Authorization: Basic " + b64 + "\r\n") != std::string::npos);
    bool shown_hidden = false;
    for (std::string const& note : o.notes) {
        CHECK(note.find(b64) == std::string::npos);
        CHECK(note.find("s3cret") == std::string::npos);
        shown_hidden = shown_hidden || note == "HTTP -> Proxy-Authorization: Basic <hidden>";
    }
    CHECK(shown_hidden);
}

TEST_CASE("HTTP CONNECT refusals become clear errors", "[unit][http_connect]") {
    struct Case {
        std::string user;
        std::string reply;
        ProxyStep step;
        std::string error;
    };
    std::vector<Case> const cases{
        {"", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
         ProxyStep::authentication,
         "the proxy requires authentication (HTTP 407 Proxy Authentication Required): give a "
         "user in the proxy URL and a password with --proxy-password-env or "
         "--proxy-password-file"},
        {"bob", "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", ProxyStep::authentication,
         "the proxy rejected the user name or password (HTTP 407 Proxy Authentication Required)"},
        {"bob", "HTTP/1.0 401 Unauthorized\r\nServer: tinyproxy/1.11.1\r\n\r\n",
         ProxyStep::authentication,
         "the proxy rejected the user name or password (HTTP 401 Unauthorized)"},
        {"", "HTTP/1.0 401 Unauthorized\r\n\r\n", ProxyStep::request,
         "the proxy did not open a tunnel to 127.0.0.1:587 (HTTP 401 Unauthorized)"},
        {"", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", ProxyStep::request,
         "the proxy refused to connect to 127.0.0.1:587 (HTTP 403 Forbidden)"},
        {"", "HTTP/1.0 502 Bad Gateway\r\n\r\n", ProxyStep::request,
         "the proxy did not open a tunnel to 127.0.0.1:587 (HTTP 502 Bad Gateway)"},
        // A refusal whose header never ends is still reported as the refusal.
        {"", "HTTP/1.1 403 Forbidden\r\nX: y\r\n", ProxyStep::request,
         "the proxy refused to connect to 127.0.0.1:587 (HTTP 403 Forbidden)"},
        {"", "\x05\x00", ProxyStep::request,
         "the proxy closed the connection before its status line"},
        {"", "SSH-2.0-OpenSSH_9.2\r\n", ProxyStep::request,
         "not an HTTP proxy: its first line is \"SSH-2.0-OpenSSH_9.2\""},
        {"", "HTTP/1.1 2000 OK\r\n\r\n", ProxyStep::request,
         "not an HTTP proxy: its first line is \"HTTP/1.1 2000 OK\""},
        {"", "HTTP/1.1 200 OK\r\nX: y\r\n", ProxyStep::request,
         "the proxy closed the connection inside its header"},
        {"", "", ProxyStep::request, "the proxy closed the connection before its status line"},
    };
    for (Case const& c : cases) {
        INFO(c.reply);
        Outcome const o =
            grind(http("127.0.0.1", 587, c.user, c.user.empty() ? "" : "pw"), c.reply);
        CHECK(o.state == ProxyProgress::State::failed);
        CHECK(o.step == c.step);
        CHECK(o.error == c.error);
    }
}

TEST_CASE("HTTP CONNECT: the response header is bounded", "[unit][http_connect]") {
    auto const make = http("127.0.0.1", 587);
    // An endless header: line after line, never the blank one.
    std::string endless = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 200; ++i)
        endless += "X-Filler-" + std::to_string(i) + ": more\r\n";
    Outcome const many = smtpprobe::test::drive(make, {endless});
    CHECK(many.state == ProxyProgress::State::failed);
    CHECK(many.error == "the proxy's response has more than 100 header lines");
    CHECK(many.notes.size() <= 110);

    Outcome const long_line =
        smtpprobe::test::drive(make, {"HTTP/1.1 200 OK\r\nX: " + std::string(5000, 'a')});
    CHECK(long_line.error == "the proxy's response has a line longer than 4096 bytes");

    std::string big = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 8; ++i)
        big += "X-" + std::to_string(i) + ": " + std::string(4000, 'b') + "\r\n";
    Outcome const total = smtpprobe::test::drive(make, {big});
    CHECK(total.error == "the proxy's response header is longer than 16384 bytes");

    // Byte by byte, the bound holds the same way.
    std::vector<std::string_view> pieces;
    for (std::size_t i = 0; i < big.size(); ++i)
        pieces.push_back(std::string_view(big).substr(i, 1));
    CHECK(smtpprobe::test::drive(make, pieces).error ==
          "the proxy's response header is longer than 16384 bytes");
}

TEST_CASE("HTTP CONNECT: a silent proxy", "[unit][http_connect]") {
    Outcome const o = smtpprobe::test::drive(http("127.0.0.1", 587), {}, false);
    CHECK(o.error == "the proxy did not answer in time (before its status line)");
    CHECK(o.step == ProxyStep::request);
}

TEST_CASE("HTTP CONNECT refuses header injection", "[unit][http_connect]") {
    CHECK_THROWS_AS(HttpConnectHandshake(HttpConnectRequest{"a\r\nX: y", 25, "", "", "ua"}),
                    std::invalid_argument);
    CHECK_THROWS_AS(HttpConnectHandshake(HttpConnectRequest{"h", 25, "u:v", "p", "ua"}),
                    std::invalid_argument);
    CHECK_THROWS_AS(HttpConnectHandshake(HttpConnectRequest{"h", 25, "u", "p\n", "ua"}),
                    std::invalid_argument);
}
