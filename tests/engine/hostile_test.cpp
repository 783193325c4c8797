// Servers that misbehave on purpose, scripted byte by byte on 127.0.0.1: every one must end
// in a clear message and a defined exit code, within the budget, never a crash or a hang.

#include "engine/probe.hpp"
#include "smtp/base64.hpp"
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
          "[engine][hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        std::string const banner = "220 drip.example.test ESMTP but very slowly\r\n";
        for (std::size_t i = 0; i < banner.size() && !stop; ++i) {
            send_text(fd, banner.substr(i, 1));
            std::this_thread::sleep_for(100ms);
        }
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    // "The banner was still arriving after 500 ms: 5 bytes at about 10 bytes/s."
    INFO(t.probed.report.fatal_error());
    CHECK(t.probed.report.fatal_error().find("The banner was still arriving after 500 ms: ") == 0);
    REQUIRE(t.probed.report.fatal);
    CHECK(t.probed.report.fatal->phase == Phase::banner);
    CHECK(t.probed.report.fatal->kind == FailureKind::stalled);
    CHECK(t.probed.report.fatal->bytes_received >= 3);
    CHECK(t.probed.report.fatal->bytes_received <= 7);
    CHECK(t.elapsed < 6s); // a hang guard: 500 ms per exchange, two attempts per worker
}

TEST_CASE("an endless line is cut at the parser's limit", "[engine][hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        std::string const chunk(1024, 'A');
        for (int i = 0; i < 200 && !stop; ++i)
            send_text(fd, chunk);
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error().find("too long") != std::string::npos);
}

TEST_CASE("an endless multi-line reply is cut at the line-count limit", "[engine][hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        for (int i = 0; i < 2000 && !stop; ++i)
            send_text(fd, "220-still greeting you\r\n");
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error().find("too many lines") != std::string::npos);
}

TEST_CASE("binary garbage instead of a banner is a malformed reply", "[engine][hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const&) {
        send_text(fd, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 13));
    });
    Timed t = timed_probe(fast_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    // A TLS record instead of a banner: named as such, with the bytes escaped.
    CHECK(t.probed.report.fatal_error().find("This port speaks TLS, not SMTP: it greeted with "
                                             "\"\\x16\\x03\\x01") == 0);
    REQUIRE(t.probed.report.fatal);
    CHECK(t.probed.report.fatal->kind == FailureKind::other_protocol);
    CHECK(nlohmann::json::accept(t.probed.json)); // invalid UTF-8 does not break the JSON
}

TEST_CASE("a server that hangs up at once, or answers 421, gives exit 2 with the reason",
          "[engine][hostile]") {
    ScriptedServer silent([](int, std::atomic<bool> const&) {});
    Timed closed = timed_probe(fast_options(silent.port()));
    CHECK(closed.probed.verdict.exit_code == exit_code::no_session);
    CHECK(closed.probed.report.fatal_error().find("closed") != std::string::npos);

    ScriptedServer busy([](int fd, std::atomic<bool> const&) {
        send_text(fd, "421 4.3.2 busy.example.test Service not available, try later\r\n");
    });
    Timed refused = timed_probe(fast_options(busy.port()));
    CHECK(refused.probed.verdict.exit_code == exit_code::no_session);
    CHECK(refused.probed.report.fatal_error().find("421") != std::string::npos);
}

TEST_CASE("a server that hangs up in the TLS handshake is a handshake failure",
          "[engine][hostile]") {
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

TEST_CASE("a server that advertises hundreds of mechanisms gets a bounded run",
          "[engine][hostile]") {
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
        said = said || e.kind == EventKind::too_many_mechanisms;
    CHECK(said);
}

TEST_CASE("terminal escapes in the banner, replies and a LOGIN prompt reach no output raw",
          "[engine][hostile][terminal]") {
    // ESC [2J clears the screen, OSC 0 retitles the window, C2 9B is the one-byte (C1) CSI.
    std::string const clear = "\x1b[2J", title = "\x1b]0;owned\x07",
                      csi = "\xc2\x9b"
                            "2J";
    ScriptedServer server([&](int fd, std::atomic<bool> const& stop) {
        send_text(fd, "220 esc.example.test " + clear + " ESMTP\r\n");
        for (int step = 0; step < 100 && !stop; ++step) {
            std::string const in = read_some(fd, 500ms);
            if (in.empty())
                return;
            if (in.rfind("EHLO", 0) == 0)
                send_text(fd, "250-esc.example.test " + title + "\r\n250 AUTH LOGIN\r\n");
            else if (in.rfind("AUTH LOGIN", 0) == 0)
                send_text(fd, "334 " + smtp::base64_encode("User" + csi + "name:") + "\r\n");
            else if (in.rfind("QUIT", 0) == 0)
                return send_text(fd, "221 bye\r\n");
            else if (in.rfind("*", 0) == 0)
                send_text(fd, "501 5.7.0 cancelled " + csi + "\r\n");
            else
                send_text(fd, "504 5.5.4 no " + clear + "\r\n");
        }
    });
    Setup o = fast_options(server.port());
    o.target.tls_mode = TlsMode::none;
    Probed const p = timed_probe(o).probed;
    REQUIRE(p.report.session_established);
    for (std::string const* out : {&p.text, &p.transcript}) {
        CHECK(out->find('\x1b') == std::string::npos);
        CHECK(out->find("\xc2\x9b") == std::string::npos);
        CHECK(out->find('\x07') == std::string::npos);
    }
    CHECK(p.text.find("220 esc.example.test \\x1B[2J ESMTP") != std::string::npos);
    CHECK(p.text.find("\"User\\xC2\\x9B2Jname:\"") != std::string::npos);
    CHECK(p.transcript.find("esc.example.test \\x1B]0;owned\\x07") != std::string::npos);
    // JSON keeps the server's exact text, escaped by JSON itself.
    CHECK(p.json.find("esc.example.test \\u001b[2J ESMTP") != std::string::npos);
}

// ------------------------------------------------ what the port speaks (issue 10 part 3, 4)

namespace {

/// A script that sends `greeting` (if any), then holds the connection, silent, until the test
/// ends.
ScriptedServer::Script greets_then_holds(std::string greeting) {
    return [greeting](int fd, std::atomic<bool> const& stop) {
        if (!greeting.empty())
            send_text(fd, greeting);
        for (int i = 0; i < 400 && !stop; ++i)
            std::this_thread::sleep_for(25ms);
    };
}

Setup detecting_options(unsigned short port) {
    Setup o = fast_options(port);
    o.options.banner_wait = 200ms;
    o.options.command_timeout = 1000ms;
    o.options.parallel = 1;
    return o;
}

} // namespace

TEST_CASE("a tarpit: the phase and that 0 bytes arrived, after a TLS attempt",
          "[engine][hostile]") {
    ScriptedServer server(greets_then_holds(""));
    Timed t = timed_probe(detecting_options(server.port()));
    INFO(t.probed.report.fatal_error());
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(
        t.probed.report.fatal_error().find(
            "No banner within 1 s: the TCP connection was accepted and 0 bytes arrived (a "
            "tarpit, a firewall that accepts and drops, or an implicit-TLS port: see above). A "
            "TLS handshake on a second connection, after 200 ms without a banner, failed too: ") ==
        0);
    REQUIRE(t.probed.report.fatal);
    CHECK(t.probed.report.fatal->phase == Phase::banner);
    CHECK(t.probed.report.fatal->kind == FailureKind::timeout);
    CHECK(t.probed.report.fatal->bytes_received == 0);
    CHECK(t.probed.report.fatal->elapsed_ms >= 1000);
    nlohmann::json const j = nlohmann::json::parse(t.probed.json)["fatal_error"];
    CHECK(j["phase"] == "banner");
    CHECK(j["kind"] == "timeout");
    CHECK(j["bytes_received"] == 0);
    CHECK(j["elapsed_ms"].get<double>() >= 1000);
    CHECK(t.elapsed < 8s);
}

TEST_CASE("with --tls starttls, a tarpit gets the issue's sentence, no TLS attempt",
          "[engine][hostile]") {
    ScriptedServer server(greets_then_holds(""));
    Setup o = detecting_options(server.port());
    o.target.tls_mode = TlsMode::starttls;
    Timed t = timed_probe(o);
    CHECK(t.probed.report.fatal_error() ==
          "No banner within 1 s: the TCP connection was accepted and 0 bytes arrived (a tarpit, "
          "a firewall that accepts and drops, or an implicit-TLS port: see above).");
    CHECK(t.probed.report.server.tls_probe_error.empty());
}

TEST_CASE("a TLS stall after STARTTLS: the ClientHello was sent and nothing came back",
          "[engine][hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        send_text(fd, "220 stall.example.test ESMTP\r\n");
        for (int step = 0; step < 10 && !stop; ++step) {
            std::string const line = read_some(fd, 500ms);
            if (line.rfind("EHLO", 0) == 0) {
                send_text(fd, "250-stall.example.test\r\n250 STARTTLS\r\n");
            } else if (line.rfind("AUTH", 0) == 0 || line.rfind("MAIL", 0) == 0) {
                // The AUTH and MAIL probes before STARTTLS.
                send_text(fd, "530 5.7.0 Must issue a STARTTLS command first\r\n");
            } else if (line.rfind("STARTTLS", 0) == 0) {
                send_text(fd, "220 2.0.0 go ahead\r\n");
                read_some(fd, 500ms); // the ClientHello; never answered
                for (int i = 0; i < 400 && !stop; ++i)
                    std::this_thread::sleep_for(25ms);
                return;
            }
        }
    });
    Timed t = timed_probe(detecting_options(server.port()));
    CHECK(t.probed.verdict.exit_code == exit_code::no_session);
    CHECK(t.probed.report.fatal_error() ==
          "The TLS handshake did not complete within 1 s after the server's 220 to STARTTLS: "
          "the ClientHello was sent and nothing came back.");
    REQUIRE(t.probed.report.fatal);
    CHECK(t.probed.report.fatal->phase == Phase::tls_handshake);
    CHECK(t.probed.report.fatal->kind == FailureKind::timeout);
    CHECK(t.probed.report.fatal->bytes_received == 0);
}

TEST_CASE("a drip-fed banner: how many bytes, and how fast", "[engine][hostile]") {
    ScriptedServer server([](int fd, std::atomic<bool> const& stop) {
        std::string const banner = "220 drip.example.test ESMTP\r\n";
        for (std::size_t i = 0; i < banner.size() && !stop; ++i) {
            send_text(fd, banner.substr(i, 1));
            std::this_thread::sleep_for(150ms);
        }
    });
    Timed t = timed_probe(detecting_options(server.port()));
    INFO(t.probed.report.fatal_error());
    // about 7 bytes in 1 s: no TLS attempt (bytes did arrive), one wait of 1 s
    CHECK(t.probed.report.fatal_error().find("The banner was still arriving after 1 s: ") == 0);
    CHECK(t.probed.report.fatal_error().find(" bytes at about ") != std::string::npos);
    REQUIRE(t.probed.report.fatal);
    CHECK(t.probed.report.fatal->kind == FailureKind::stalled);
    CHECK(t.probed.report.fatal->bytes_received >= 5);
    CHECK(t.probed.report.server.tls_probe_error.empty());
}

TEST_CASE("ports that speak SSH, IMAP, POP3 or HTTP are named", "[engine][hostile]") {
    struct Case {
        std::string greeting;
        std::string protocol;
        std::string sentence;
    };
    for (Case const& c : {
             Case{"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "SSH",
                  "This port speaks SSH, not SMTP: it greeted with \"SSH-2.0-OpenSSH_9.2p1 "
                  "Debian-2+deb12u3\"."},
             Case{"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n", "IMAP",
                  "This port speaks IMAP, not SMTP: it greeted with \"* OK [CAPABILITY "
                  "IMAP4rev1 STARTTLS] Dovecot ready.\"."},
             Case{"+OK Dovecot ready.\r\n", "POP3",
                  "This port speaks POP3, not SMTP: it greeted with \"+OK Dovecot ready.\"."},
         }) {
        INFO(c.protocol);
        ScriptedServer server(greets_then_holds(c.greeting));
        Timed t = timed_probe(detecting_options(server.port()));
        CHECK(t.probed.verdict.exit_code == exit_code::no_session);
        CHECK(t.probed.report.fatal_error() == c.sentence);
        REQUIRE(t.probed.report.fatal);
        CHECK(t.probed.report.fatal->kind == FailureKind::other_protocol);
        CHECK(has_finding(t.probed.verdict, "port.other_protocol"));
        CHECK(nlohmann::json::parse(t.probed.json)["fatal_error"]["protocol"] == c.protocol);
    }
    // A web server says nothing until it gets a request line, then answers 400.
    ScriptedServer web([](int fd, std::atomic<bool> const& stop) {
        for (int i = 0; i < 100 && !stop; ++i)
            if (!read_some(fd, 50ms).empty())
                return send_text(fd, "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n"
                                     "Content-Length: 0\r\nConnection: close\r\n\r\n");
    });
    Timed t = timed_probe(detecting_options(web.port()));
    INFO(t.probed.report.fatal_error());
    CHECK(t.probed.report.fatal_error() ==
          "This port speaks HTTP, not SMTP: it sent nothing on connecting and answered EHLO with "
          "\"HTTP/1.1 400 Bad Request\".");
    CHECK(has_finding(t.probed.verdict, "port.other_protocol"));
}

TEST_CASE("with --tls auto, implicit TLS is found on a port that is not 465",
          "[engine][hostile][tls]") {
    Emulated server = Emulated::sample("implicit-tls");
    Setup o = server.options();
    o.target.tls_mode = TlsMode::auto_;
    o.options.banner_wait = 300ms;
    Timed t = timed_probe(o);
    REQUIRE(t.probed.report.session_established);
    CHECK(t.probed.report.tls_used == TlsMode::implicit);
    CHECK(t.probed.report.server.implicit_tls_detected);
    CHECK(has_finding(t.probed.verdict, "port.implicit_tls"));
    CHECK(t.probed.text.find("This port speaks implicit TLS; clients configured for STARTTLS "
                             "will hang") != std::string::npos);
    CHECK(nlohmann::json::parse(t.probed.json)["server"]["port"]["implicit_tls_detected"] == true);
    CHECK(t.elapsed < 5s); // the wait once per connection in parallel, then the matrix
}

TEST_CASE("a plaintext 220 on an implicit-TLS port is reported and probed with STARTTLS",
          "[engine][hostile][tls]") {
    Emulated server = Emulated::sample("azure-acs");
    Setup o = server.options();
    o.target.tls_mode = TlsMode::implicit;
    Timed t = timed_probe(o);
    REQUIRE(t.probed.report.session_established);
    CHECK(t.probed.report.server.plaintext_on_implicit_port);
    CHECK_FALSE(t.probed.report.server.implicit_handshake_error.empty());
    CHECK(t.probed.report.tls_used == TlsMode::starttls);
    CHECK(has_finding(t.probed.verdict, "port.plaintext_on_implicit_tls_port"));
    CHECK(row(t.probed.report, "LOGIN").recognition.status == Status::recognised);
}
