#include "report/fatal_error.hpp"
#include "report/report.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe;
using namespace std::chrono_literals;

TEST_CASE("the sentences of a wait that ran out name the phase and what arrived",
          "[unit][fatal_error]") {
    CHECK(timeout_detail({Phase::banner, 0, 10s, false}) ==
          "No banner within 10 s: the TCP connection was accepted and 0 bytes arrived (a "
          "tarpit, a firewall that accepts and drops, or an implicit-TLS port: see above).");
    CHECK(timeout_detail({Phase::banner, 10, 10s, false}) ==
          "The banner was still arriving after 10 s: 10 bytes at about 1 byte/s.");
    CHECK(timeout_detail({Phase::banner, 1, 2500ms, false}) ==
          "The banner was still arriving after 2.5 s: 1 byte at about 0.4 bytes/s.");
    CHECK(timeout_detail({Phase::tls_handshake, 0, 5s, false}) ==
          "The TLS handshake did not complete within 5 s after the server's 220 to STARTTLS: "
          "the ClientHello was sent and nothing came back.");
    CHECK(timeout_detail({Phase::tls_handshake, 517, 5s, true}) ==
          "The TLS handshake did not complete within 5 s of connecting (implicit TLS): the "
          "ClientHello was sent and 517 bytes came back, then nothing more.");
    CHECK(timeout_detail({Phase::ehlo, 0, 300ms, false}) ==
          "No reply to EHLO within 300 ms: 0 bytes arrived.");
    CHECK(timeout_detail({Phase::ehlo_after_tls, 40, 10s, false}) ==
          "The reply to EHLO after TLS was still arriving after 10 s: 40 bytes at about 4 "
          "bytes/s.");
    CHECK(timeout_detail({Phase::starttls, 0, 10s, false}) ==
          "No reply to STARTTLS within 10 s: 0 bytes arrived.");
}

TEST_CASE("phase and kind names are the JSON values", "[unit][fatal_error]") {
    CHECK(to_string(Phase::tls_handshake) == "tls_handshake");
    CHECK(to_string(Phase::ehlo_after_tls) == "ehlo_after_tls");
    CHECK(to_string(FailureKind::stalled) == "stalled");
    CHECK(to_string(FailureKind::other_protocol) == "other_protocol");
    CHECK(duration_words(999ms) == "999 ms");
    CHECK(duration_words(3000ms) == "3 s");
}

TEST_CASE("the report's fatal_error() is the sentence of its fatal error, nothing else",
          "[unit][fatal_error]") {
    Report report;
    CHECK(report.fatal_error().empty());
    FatalError f;
    f.phase = Phase::ehlo;
    f.kind = FailureKind::timeout;
    f.limit = 300ms;
    report.fatal = f;
    CHECK(report.fatal_error() == "No reply to EHLO within 300 ms: 0 bytes arrived.");
    CHECK(phase_and_detail(f) == "ehlo: No reply to EHLO within 300 ms: 0 bytes arrived.");
    // Refused before it began (the exporter's own checks): no phase to name.
    f.phase = std::nullopt;
    f.kind = FailureKind::error;
    f.error = "target not allowed";
    CHECK(f.detail() == "target not allowed");
    CHECK(phase_and_detail(f) == "target not allowed");
}

TEST_CASE("a failure's sentence is made from its facts", "[unit][fatal_error]") {
    FatalError f;
    SECTION("resolve, connect and refused: the words of the layer that said no") {
        f.phase = Phase::resolve;
        f.kind = FailureKind::unreachable;
        f.error = "cannot resolve mx.invalid: Name or service not known";
        CHECK(f.detail() == f.error);
        f.phase = Phase::ehlo;
        f.kind = FailureKind::refused;
        f.error = "the server refused EHLO: 550 go away";
        CHECK(f.detail() == f.error);
    }
    SECTION("a banner that never came after the TLS handshake") {
        f.phase = Phase::banner;
        f.kind = FailureKind::timeout;
        f.implicit_tls = true;
        f.limit = 10s;
        CHECK(f.detail() == "No banner within 10 s after the TLS handshake: 0 bytes arrived.");
    }
    SECTION("--tls auto: the TLS attempt on a second connection is added") {
        f.phase = Phase::banner;
        f.kind = FailureKind::timeout;
        f.limit = 10s;
        f.tls_attempt_error = "wrong version number";
        f.tls_attempt_after = 3s;
        CHECK(f.detail().ends_with(" A TLS handshake on a second connection, after 3 s without "
                                   "a banner, failed too: wrong version number."));
    }
    SECTION("closed, with and without the lower layer's words") {
        f.phase = Phase::starttls;
        f.kind = FailureKind::closed;
        f.bytes_received = 0;
        CHECK(f.detail() == "The server closed the connection during STARTTLS "
                            "after 0 bytes.");
        f.error = "connection reset by peer";
        CHECK(f.detail() == "The server closed the connection during STARTTLS "
                            "after 0 bytes: connection reset by peer.");
    }
    SECTION("the TLS handshake, on connecting or after STARTTLS") {
        f.phase = Phase::tls_handshake;
        f.kind = FailureKind::tls_failed;
        f.error = "alert handshake failure";
        f.bytes_received = 7;
        CHECK(f.detail() == "The TLS handshake failed after the server's 220 to STARTTLS: "
                            "alert handshake failure (7 bytes came back).");
        f.implicit_tls = true;
        CHECK(f.detail() == "The TLS handshake failed on connecting (implicit TLS): "
                            "alert handshake failure (7 bytes came back).");
    }
    SECTION("another protocol: the first line, escaped and cut") {
        f.phase = Phase::banner;
        f.kind = FailureKind::other_protocol;
        f.protocol = smtp::Greeter::ssh;
        f.arrived = "SSH-2.0-OpenSSH_9.2\x1b[2J\r\nmore";
        CHECK(f.detail() ==
              "This port speaks SSH, not SMTP: it greeted with \"SSH-2.0-OpenSSH_9.2\\x1B[2J\".");
        f.silent_until_ehlo = true;
        f.arrived = std::string(100, 'x');
        CHECK(f.detail() == "This port speaks SSH, not SMTP: it sent nothing on connecting and "
                            "answered EHLO with \"" +
                                std::string(80, 'x') + "...\".");
    }
    SECTION("interrupted, malformed and other errors name the phase") {
        f.phase = Phase::ehlo_after_tls;
        f.kind = FailureKind::interrupted;
        CHECK(f.detail().starts_with("interrupted while "));
        f.kind = FailureKind::malformed;
        f.error = "malformed reply";
        CHECK(f.detail().starts_with("During "));
        CHECK(f.detail().ends_with(": malformed reply"));
    }
}
