#include "smtp/command.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace smtpprobe::smtp;

TEST_CASE("commands end in CRLF and show without it", "[core][command]") {
    Command ehlo = ehlo_command("probe.example.test");
    CHECK(ehlo.wire == "EHLO probe.example.test\r\n");
    CHECK(ehlo.shown == "EHLO probe.example.test");
    CHECK_FALSE(ehlo.secret);
    CHECK(starttls_command().wire == "STARTTLS\r\n");
    CHECK(auth_command("CRAM-MD5").wire == "AUTH CRAM-MD5\r\n");
    CHECK(cancel_command().wire == "*\r\n");
    CHECK(quit_command().wire == "QUIT\r\n");
}

TEST_CASE("CR, LF and NUL in arguments are refused", "[core][command]") {
    CHECK_THROWS_AS(ehlo_command("x\r\nMAIL FROM:<a@b>"), std::invalid_argument);
    CHECK_THROWS_AS(helo_command("x\n"), std::invalid_argument);
    CHECK_THROWS_AS(auth_command(std::string("PLAIN\0x", 7)), std::invalid_argument);
    CHECK_THROWS_AS(auth_command("PLAIN dGVzdA=="), std::invalid_argument);
}

TEST_CASE("a SASL response is base64 on the wire and a length marker when shown",
          "[core][command]") {
    Command c = sasl_response_command(std::string("\0test\0secret-pw", 15));
    CHECK(c.wire == "AHRlc3QAc2VjcmV0LXB3\r\n");
    CHECK(c.secret);
    CHECK(c.shown == "<redacted: 20 bytes of base64>");
    CHECK(c.shown.find("AHRlc3Q") == std::string::npos);
    Command empty = sasl_response_command("");
    CHECK(empty.wire == "\r\n");
    CHECK_FALSE(empty.secret);
}
