// Servers that misbehave on purpose, scripted byte by byte on 127.0.0.1: every one must end
// in a clear message and a defined exit code, within the budget, never a crash or a hang.

#include "engine/probe.hpp"
#include "support/harness.hpp"
#include "support/scripted_server.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

using namespace smtpprobe;
using namespace smtpprobe::test;
using namespace std::chrono_literals;

namespace {

Setup fast_options(unsigned short port) {
    Setup o;
    o.target.host = "127.0.0.1";
    o.target.port = port;
    o.target.tls_mode = TlsMode::auto_;
    o.options.connect_timeout = 1000ms;
    o.options.command_timeout = 500ms;
    o.options.total_timeout = 8000ms;
    o.options.parallel = 2;
    return o;
}

} // namespace

TEST_CASE("a server that drips one byte at a time times out per exchange, not per byte",
          "[hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        std::string const banner = "220 drip.example.test ESMTP but very slowly\r\n";
        for (std::size_t i = 0; i < banner.size() && !stop; ++i) {
            send_text(fd, banner.substr(i, 1));
            std::this_thread::sleep_for(100ms);
        }
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error.find("timed out") != std::string::npos);
    CHECK(t.elapsed < 6s); // a hang guard: 500 ms per exchange, two attempts per worker
}

TEST_CASE("an endless line is cut at the parser's limit", "[hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        std::string const chunk(1024, 'A');
        for (int i = 0; i < 200 && !stop; ++i)
            send_text(fd, chunk);
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error.find("too long") != std::string::npos);
}

TEST_CASE("an endless multi-line reply is cut at the line-count limit", "[hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        for (int i = 0; i < 2000 && !stop; ++i)
            send_text(fd, "220-still greeting you\r\n");
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error.find("too many lines") != std::string::npos);
}

TEST_CASE("binary garbage instead of a banner is a malformed reply", "[hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const&) {
        send_text(fd, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 13));
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error.find("malformed") != std::string::npos);
    CHECK(nlohmann::json::accept(t.probed.json)); // invalid UTF-8 does not break the JSON
}

TEST_CASE("a server that hangs up at once, or answers 421, gives exit 2 with the reason",
          "[hostile]") {
    ScriptedServer silent([](int, std::atomic<bool> const&) {});
    Timed closed = timed_probe(fast_options(silent.port()));
    CHECK(closed.probed.verdict.exit_code == exit_code::no_session);
    CHECK(closed.probed.report.fatal_error.find("closed") != std::string::npos);

    ScriptedServer busy([](int fd, std::atomic<bool> const&) {
        send_text(fd, "421 4.3.2 busy.example.test Service not available, try later\r\n");
    });
    Timed refused = timed_probe(fast_options(busy.port()));
    CHECK(refused.probed.verdict.exit_code == exit_code::no_session);
    CHECK(refused.probed.report.fatal_error.find("421") != std::string::npos);
}

TEST_CASE("a server that hangs up in the TLS handshake is a handshake failure", "[hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        send_text(fd, "220 tls.example.test ESMTP\r\n");
        for (int step = 0; step < 10 && !stop; ++step) {
            std::string const line = read_some(fd, 500ms);
            if (line.rfind("EHLO", 0) == 0)
                send_text(fd, "250-tls.example.test\r\n250 STARTTLS\r\n");
            else if (line.rfind("STARTTLS", 0) == 0) {
                send_text(fd, "220 2.0.0 go ahead\r\n");
                read_some(fd, 500ms); // the ClientHello, then hang up
                return;
            }
        }
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(has_finding(t.probed.verdict, "tls.handshake_failed"));
}

TEST_CASE("a server that advertises hundreds of mechanisms gets a bounded run", "[hostile]") {
    std::string line = "250 AUTH";
    for (int i = 0; i < 300; ++i)
        line += " X-MECH-" + std::to_string(i);
    ScriptedServer server([line](int fd, std::atomic<bool> const& stop) {
        send_text(fd, "220 many.example.test ESMTP\r\n");
        for (int step = 0; step < 100 && !stop; ++step) {
            std::string const in = read_some(fd, 500ms);
            if (in.empty())
                return;
            if (in.rfind("EHLO", 0) == 0)
                send_text(fd, "250-many.example.test\r\n" + line + "\r\n");
            else if (in.rfind("QUIT", 0) == 0)
                return send_text(fd, "221 bye\r\n");
            else
                send_text(fd, "504 5.5.4 no\r\n");
        }
    });
    Setup o = fast_options(server.port());
    o.target.tls_mode = TlsMode::none;
    Timed t = timed_probe(o);
    CHECK(t.probed.report.session_established);
    CHECK(t.probed.report.rows.size() == 14 + 16);
    bool said = false;
    for (Event const& e : t.probed.report.events)
        said = said || e.kind == "too_many_mechanisms";
    CHECK(said);
}
