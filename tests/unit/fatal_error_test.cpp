#include "report/fatal_error.hpp"
#include "report/report.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe;
using namespace std::chrono_literals;

TEST_CASE("the sentences of a wait that ran out name the phase and what arrived", "[fatal_error]") {
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

TEST_CASE("phase and kind names are the JSON values", "[fatal_error]") {
    CHECK(to_string(Phase::tls_handshake) == "tls_handshake");
    CHECK(to_string(Phase::ehlo_after_tls) == "ehlo_after_tls");
    CHECK(to_string(FailureKind::stalled) == "stalled");
    CHECK(to_string(FailureKind::other_protocol) == "other_protocol");
    CHECK(duration_words(999ms) == "999 ms");
    CHECK(duration_words(3000ms) == "3 s");
}

TEST_CASE("the report's fatal_error() is the sentence of its fatal error, nothing else",
          "[fatal_error]") {
    Report report;
    CHECK(report.fatal_error().empty());
    FatalError f;
    f.phase = Phase::ehlo;
    f.kind = FailureKind::timeout;
    f.detail = "No reply to EHLO within 300 ms: 0 bytes arrived.";
    report.fatal = f;
    CHECK(report.fatal_error() == f.detail);
    CHECK(phase_and_detail(f) == "ehlo: No reply to EHLO within 300 ms: 0 bytes arrived.");
    // Refused before it began (the exporter's own checks): no phase to name.
    f.phase = std::nullopt;
    f.detail = "target not allowed";
    CHECK(phase_and_detail(f) == "target not allowed");
}
