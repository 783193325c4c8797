// Proxies and source addresses, against the emulator and against proxies scripted byte by byte
// on 127.0.0.1 (the real microsocks and tinyproxy are in tests/proxy/run.sh).

#include "engine/probe.hpp"
#include "net/connect.hpp"
#include "smtp/base64.hpp"
#include "support/harness.hpp"
#include "support/scripted_server.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace smtpprobe;
using namespace smtpprobe::test;
using namespace std::chrono_literals;

namespace {

net::ProxySpec proxy_at(net::ProxyScheme scheme, unsigned short port, std::string user = {},
                        std::string password = {}) {
    net::ProxySpec p;
    p.scheme = scheme;
    p.host = "127.0.0.1";
    p.port = port;
    p.user = std::move(user);
    p.password = std::move(password);
    return p;
}

Setup through(unsigned short target_port, net::ProxySpec proxy) {
    Setup o;
    o.target.host = "127.0.0.1";
    o.target.port = target_port;
    o.options.connect_timeout = 600ms;
    o.options.command_timeout = 600ms;
    o.options.total_timeout = 6000ms;
    o.options.parallel = 2;
    o.options.connection.proxy = std::move(proxy);
    return o;
}

std::string const proxy_password = "proxy-pw-never-shown-7";

} // namespace

TEST_CASE(
    "source address 127.0.0.2 (--source): the emulator sees that address and echoes it in EHLO",
    "[engine][proxy][source]") {
    Emulated emu = Emulated::sample("azure-acs");
    Setup o = emu.options();
    o.options.connection.source = net::parse_source("127.0.0.2");
    Probed p = probe(o);
    REQUIRE(p.report.session_established);
    CHECK(p.text.find("Hello [127.0.0.2]") != std::string::npos);
    CHECK(p.report.path.local_address.starts_with("127.0.0.2 port "));
    CHECK(p.text.find("local address: 127.0.0.2 port ") != std::string::npos);
    CHECK(p.text.find("(--source 127.0.0.2)") != std::string::npos);
    auto const json = nlohmann::json::parse(p.json);
    CHECK(json["connection"]["source"] == "127.0.0.2");
    CHECK(json["connection"]["local_address"].get<std::string>().starts_with("127.0.0.2 port"));
    CHECK(p.transcript.find("from 127.0.0.2 port ") != std::string::npos);
}

TEST_CASE(
    "source address with a port (--source ADDR:PORT) binds that port, connection after connection",
    "[engine][proxy][source]") {
    // A free port on 127.0.0.3, found by binding to port 0.
    int const probe_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.3", &address.sin_addr);
    socklen_t length = sizeof address;
    REQUIRE(::bind(probe_fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
    ::getsockname(probe_fd, reinterpret_cast<sockaddr*>(&address), &length);
    unsigned short const port = ntohs(address.sin_port);
    ::close(probe_fd);

    Emulated emu = Emulated::sample("azure-acs");
    Setup o = emu.options();
    o.options.parallel = 1;
    o.options.connection.source = net::parse_source("127.0.0.3:" + std::to_string(port));
    Probed p = probe(o);
    REQUIRE(p.report.session_established);
    CHECK(p.report.path.local_address == "127.0.0.3 port " + std::to_string(port));
    CHECK(p.report.connections >= 2);
    CHECK(p.text.find("Hello [127.0.0.3]") != std::string::npos);
}

TEST_CASE("a source address that is not this machine's is a clear connect failure, exit 2",
          "[engine][proxy][source]") {
    Emulated emu = Emulated::sample("azure-acs");
    Setup o = emu.options();
    o.options.connection.source = net::parse_source("192.0.2.1");
    Probed p = probe(o);
    CHECK_FALSE(p.report.session_established);
    CHECK(p.verdict.exit_code == exit_code::no_session);
    CHECK(p.report.fatal_error().find("cannot use the source address 192.0.2.1") !=
          std::string::npos);
}

TEST_CASE("parse_source", "[engine][proxy][source]") {
    CHECK(net::parse_source("127.0.0.2").port == 0);
    CHECK(net::parse_source("127.0.0.2:2525").port == 2525);
    CHECK(net::parse_source("::1").family == AF_INET6);
    CHECK(net::parse_source("[::1]:99").display() == "[::1]:99");
    CHECK_THROWS_WITH(net::parse_source("mail.example"),
                      "--source takes a local IP address (optionally :PORT), not "
                      "\"mail.example\"");
    CHECK_THROWS_WITH(net::parse_source("127.0.0.1:0"),
                      "--source: \"127.0.0.1:0\": the port must be a number from 1 to 65535");
    CHECK_THROWS_WITH(net::parse_source("[::1]x"), "--source: \"[::1]x\": expected :PORT after ]");
    CHECK_THROWS_WITH(net::parse_source("[127.0.0.1]:25"),
                      "--source takes a local IP address (optionally :PORT), not "
                      "\"[127.0.0.1]:25\"");
}

TEST_CASE("a proxy that is not listening: exit 2 naming the proxy and the step",
          "[engine][proxy]") {
    // A port nobody listens on: bind, learn it, close.
    int const fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    unsigned short const dead = ntohs(address.sin_port);
    ::close(fd);
    Timed t = timed_probe(through(25, proxy_at(net::ProxyScheme::socks5, dead)));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error() == "proxy socks5://127.0.0.1:" + std::to_string(dead) +
                                               ": connecting to the proxy: 127.0.0.1 port " +
                                               std::to_string(dead) +
                                               ": Connection refused: no tunnel through the proxy");
    CHECK(t.elapsed < 3000ms);
}

TEST_CASE("a proxy that accepts and never answers is bounded by --connect-timeout",
          "[engine][proxy]") {
    ScriptedServer silent([](int fd, std::atomic<bool> const& stop) {
        for (int i = 0; i < 100 && !stop; ++i)
            read_some(fd, 50ms);
    });
    for (net::ProxyScheme scheme : {net::ProxyScheme::socks5h, net::ProxyScheme::http}) {
        Setup o = through(25, proxy_at(scheme, silent.port()));
        o.options.parallel = 1;
        Timed t = timed_probe(o);
        INFO(t.probed.report.fatal_error());
        CHECK(t.probed.verdict.exit_code == exit_code::no_session);
        std::string const step = scheme == net::ProxyScheme::http
                                     ? "CONNECT request: the proxy did not answer in time (before "
                                       "its status line)"
                                     : "SOCKS greeting: the proxy did not answer in time";
        CHECK(t.probed.report.fatal_error().find(step) != std::string::npos);
        CHECK(t.probed.report.fatal_error().starts_with("proxy " + std::string(to_string(scheme)) +
                                                        "://127.0.0.1:"));
        // Two connections (the first and one retry), each with its own 600 ms handshake budget.
        CHECK(t.elapsed < 2500ms);
        CHECK(t.probed.report.server.timings.proxy == std::nullopt);
    }
}

TEST_CASE("a malformed SOCKS5 reply from a scripted proxy", "[engine][proxy]") {
    ScriptedServer bad([](int fd, std::atomic<bool> const&) {
        read_some(fd, 1000ms); // greeting
        send_text(fd, std::string("\x05\x00", 2));
        read_some(fd, 1000ms); // CONNECT
        send_text(fd, std::string("\x05\x00\x01\x01\x7f\x00\x00\x01\x00\x19", 10));
        read_some(fd, 300ms);
    });
    Timed t = timed_probe(through(25, proxy_at(net::ProxyScheme::socks5, bad.port())));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error() ==
          "proxy socks5://127.0.0.1:" + std::to_string(bad.port()) +
              ": CONNECT request: malformed CONNECT reply: reserved byte is 0x01, not 0x00: no "
              "tunnel through the proxy");
    CHECK(t.probed.transcript.find("=== SOCKS -> 05 01 00 (offering: no authentication)") !=
          std::string::npos);
    CHECK(t.probed.transcript.find("=== SOCKS <- 05 00 01 01 7f 00 00 01 00 19") !=
          std::string::npos);
    CHECK(t.elapsed < 3000ms);
}

TEST_CASE("an endless CONNECT header from a scripted proxy is cut at the bound",
          "[engine][proxy]") {
    ScriptedServer endless([](int fd, std::atomic<bool> const& stop) {
        read_some(fd, 1000ms);
        send_text(fd, "HTTP/1.1 200 Connection established\r\n");
        for (int i = 0; i < 100'000 && !stop; ++i)
            if (::send(fd, "X-More: yes\r\n", 13, MSG_NOSIGNAL) < 0)
                break;
    });
    Timed t = timed_probe(through(25, proxy_at(net::ProxyScheme::http, endless.port())));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error().find(
              ": CONNECT request: the proxy's response has more than 100 header lines") !=
          std::string::npos);
    CHECK(t.probed.transcript.find("=== HTTP <- HTTP/1.1 200 Connection established") !=
          std::string::npos);
    CHECK(t.elapsed < 3000ms);
}

TEST_CASE("HTTP 407 from a scripted proxy: its password is never in any output",
          "[engine][proxy][secrets]") {
    ScriptedServer refusing([](int fd, std::atomic<bool> const&) {
        read_some(fd, 1000ms);
        send_text(fd, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                      "Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n");
        read_some(fd, 300ms);
    });
    Setup o =
        through(25, proxy_at(net::ProxyScheme::http, refusing.port(), "alice", proxy_password));
    Timed t = timed_probe(o);
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error().find(
              ": proxy authentication: the proxy rejected the user name or password (HTTP 407 "
              "Proxy Authentication Required)") != std::string::npos);
    CHECK(t.probed.transcript.find("=== HTTP -> Proxy-Authorization: Basic <hidden>") !=
          std::string::npos);
    std::string const b64 = smtp::base64_encode("alice:" + proxy_password);
    for (std::string const* out : {&t.probed.text, &t.probed.json, &t.probed.transcript}) {
        CHECK(out->find(proxy_password) == std::string::npos);
        CHECK(out->find(b64) == std::string::npos);
    }
    CHECK(t.probed.text.find("through the proxy http://127.0.0.1:") != std::string::npos);
}

TEST_CASE("the SMTP banner sent in the same segment as the SOCKS reply is not lost",
          "[engine][proxy]") {
    // A scripted proxy that is also the server: the reply and the banner in one send().
    ScriptedServer both([](int fd, std::atomic<bool> const&) {
        read_some(fd, 1000ms);
        send_text(fd, std::string("\x05\x00", 2));
        read_some(fd, 1000ms);
        send_text(fd, std::string("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x19", 10) +
                          "554 5.7.1 no service here\r\n");
        read_some(fd, 300ms);
    });
    Setup o = through(25, proxy_at(net::ProxyScheme::socks5h, both.port()));
    o.options.parallel = 1;
    Probed p = probe(o);
    REQUIRE(p.report.server.banner);
    CHECK(p.report.server.banner->code == 554);
    CHECK(p.report.path.proxy_resolved);
    CHECK(p.report.path.proxy_bound == "127.0.0.1 port 25");
    CHECK(p.report.server.timings.proxy.has_value());
    auto const json = nlohmann::json::parse(p.json);
    CHECK(json["connection"]["proxy"]["url"] ==
          "socks5h://127.0.0.1:" + std::to_string(both.port()));
    CHECK(json["connection"]["proxy"]["outbound_address"] == "127.0.0.1 port 25");
    CHECK(json["connection"]["proxy"]["scheme"] == "socks5h");
    CHECK(json["connection"]["proxy"]["port"] == both.port());
    CHECK(json["connection"]["proxy"]["from_environment"].is_null());
    CHECK(json["timings_ms"]["proxy_handshake"].is_number());
}
