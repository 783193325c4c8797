#include "smtp/greeter.hpp"

#include <catch2/catch.hpp>

#include <string>

using smtpprobe::smtp::Greeter;
using smtpprobe::smtp::identify_greeter;
using smtpprobe::smtp::protocol_name;

TEST_CASE("SMTP banners, whole or cut anywhere after the code", "[core][greeter]") {
    CHECK(identify_greeter("220 mx.example.test ESMTP Postfix\r\n") == Greeter::smtp);
    CHECK(identify_greeter("220-mx.example.test first line\r\n") == Greeter::smtp);
    CHECK(identify_greeter("554 5.7.1 no service\r\n") == Greeter::smtp);
    CHECK(identify_greeter("220\r\n") == Greeter::smtp);
    CHECK(identify_greeter("220") == Greeter::smtp);
    CHECK(identify_greeter("22") == Greeter::unknown);
    CHECK(identify_greeter("2200 x") == Greeter::unknown);
}

TEST_CASE("other protocols' greetings", "[core][greeter]") {
    CHECK(identify_greeter("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n") == Greeter::ssh);
    CHECK(identify_greeter("SSH-1.99-Cisco-1.25\r\n") == Greeter::ssh);
    CHECK(identify_greeter("* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n") ==
          Greeter::imap);
    CHECK(identify_greeter("* PREAUTH IMAP4rev1 server logged in as Smith\r\n") == Greeter::imap);
    CHECK(identify_greeter("* ok lower case\r\n") == Greeter::imap);
    CHECK(identify_greeter("+OK Dovecot ready.\r\n") == Greeter::pop3);
    CHECK(identify_greeter("-ERR too many connections\r\n") == Greeter::pop3);
    CHECK(identify_greeter("+OKAY") == Greeter::unknown);
    CHECK(identify_greeter("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n") == Greeter::http);
    CHECK(identify_greeter("HTTP/1.0 200 OK\r\n") == Greeter::http);
}

TEST_CASE("a TLS record instead of text", "[core][greeter]") {
    // an alert (21) record, TLS 1.2 record version: what an implicit-TLS server answers to
    // plaintext, and a ServerHello-like handshake record (22)
    CHECK(identify_greeter(std::string("\x15\x03\x03\x00\x02\x02\x32", 7)) == Greeter::tls);
    CHECK(identify_greeter(std::string("\x16\x03\x01\x00\x5a", 5)) == Greeter::tls);
    CHECK(identify_greeter(std::string("\x16\x02", 2)) == Greeter::unknown);
}

TEST_CASE("nothing, and noise", "[core][greeter]") {
    CHECK(identify_greeter("") == Greeter::none);
    CHECK(identify_greeter(std::string("\0\0\0", 3)) == Greeter::unknown);
    CHECK(identify_greeter("hello") == Greeter::unknown);
    CHECK(protocol_name(Greeter::ssh) == "SSH");
    CHECK(protocol_name(Greeter::none) == "nothing");
    CHECK(protocol_name(Greeter::unknown) == "unknown");
}
