#include "smtp/capabilities.hpp"

#include "smtp/reply.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe::smtp;

namespace {
Reply reply(std::string const& wire) {
    ReplyParser parser;
    parser.feed(wire);
    std::optional<Reply> r = parser.next();
    REQUIRE(r);
    return *r;
}
} // namespace

TEST_CASE("the Azure ACS EHLO replies parse into SIZE, STARTTLS and AUTH LOGIN",
          "[core][capabilities]") {
    Capabilities before = parse_capabilities(
        reply("250-smtp.azurecomm.net Hello [192.0.2.1]\r\n250-SIZE 31457280\r\n250 STARTTLS\r\n"));
    CHECK(before.domain == "smtp.azurecomm.net");
    CHECK(before.has("STARTTLS"));
    CHECK(before.has("starttls"));
    CHECK(before.auth.empty());
    REQUIRE(before.size);
    CHECK(*before.size == 31457280u);

    Capabilities after = parse_capabilities(reply(
        "250-smtp.azurecomm.net Hello [192.0.2.1]\r\n250-SIZE 31457280\r\n250 AUTH LOGIN\r\n"));
    CHECK_FALSE(after.has("STARTTLS"));
    CHECK(after.auth == std::vector<std::string>{"LOGIN"});
    CHECK(after.offers("login"));
    CHECK(after.auth_space_form);
    CHECK_FALSE(after.auth_equals_form);
}

TEST_CASE("legacy AUTH= lines add mechanisms once and are reported", "[core][capabilities]") {
    Capabilities caps = parse_capabilities(reply("250-mx.test\r\n250-AUTH LOGIN PLAIN\r\n"
                                                 "250-AUTH=LOGIN PLAIN\r\n250 8BITMIME\r\n"));
    CHECK(caps.auth == std::vector<std::string>{"LOGIN", "PLAIN"});
    CHECK(caps.auth_space_form);
    CHECK(caps.auth_equals_form);

    Capabilities only_equals = parse_capabilities(reply("250-mx.test\r\n250 AUTH=NTLM LOGIN\r\n"));
    CHECK(only_equals.auth == std::vector<std::string>{"NTLM", "LOGIN"});
    CHECK_FALSE(only_equals.auth_space_form);
}

TEST_CASE("lower-case mechanism names are kept as sent and flagged", "[core][capabilities]") {
    Capabilities caps = parse_capabilities(reply("250-mx.test\r\n250 auth login plain\r\n"));
    CHECK(caps.has("AUTH"));
    CHECK(caps.auth == std::vector<std::string>{"login", "plain"});
    CHECK(caps.auth_lowercase);
    CHECK(caps.offers("PLAIN"));
}

TEST_CASE("SIZE without a number or with garbage gives no size", "[core][capabilities]") {
    CHECK_FALSE(parse_capabilities(reply("250-mx\r\n250 SIZE\r\n")).size);
    CHECK_FALSE(parse_capabilities(reply("250-mx\r\n250 SIZE 12x\r\n")).size);
    CHECK(*parse_capabilities(reply("250-mx\r\n250 SIZE 0\r\n")).size == 0u);
}

TEST_CASE("a one-line EHLO reply has a domain and no capabilities", "[core][capabilities]") {
    Capabilities caps = parse_capabilities(reply("250 mx.test greets you\r\n"));
    CHECK(caps.domain == "mx.test");
    CHECK(caps.items.empty());
    CHECK(caps.keywords().empty());
}

TEST_CASE("duplicate mechanisms across AUTH lines are deduplicated case-insensitively",
          "[core][capabilities]") {
    Capabilities caps =
        parse_capabilities(reply("250-mx\r\n250-AUTH PLAIN\r\n250 AUTH plain LOGIN\r\n"));
    CHECK(caps.auth == std::vector<std::string>{"PLAIN", "LOGIN"});
}

TEST_CASE("a hostile AUTH list is deduplicated in linear time and bounded",
          "[core][capabilities]") {
    std::string wire = "250-mx\r\n";
    for (int line = 0; line < 200; ++line) {
        wire += "250-AUTH";
        for (int i = 0; i < 100; ++i)
            wire += " M" + std::to_string(line * 100 + i);
        wire += "\r\n";
    }
    wire += "250 AUTH M1 m1\r\n";
    Capabilities caps = parse_capabilities(reply(wire));
    CHECK(caps.auth.size() == 256);
    CHECK(caps.auth.front() == "M0");
}

TEST_CASE("Exchange's X-EXPS names are kept apart from AUTH, upper-cased, once, bounded",
          "[core][capabilities]") {
    Capabilities caps = parse_capabilities(
        reply("250-exch.example.test Hello [192.0.2.1]\r\n250-AUTH NTLM LOGIN\r\n"
              "250-X-EXPS GSSAPI ntlm NTLM\r\n250 CHUNKING\r\n"));
    CHECK(caps.x_exps == std::vector<std::string>{"GSSAPI", "NTLM"});
    CHECK(caps.auth == std::vector<std::string>{"NTLM", "LOGIN"});
    CHECK(parse_capabilities(reply("250-a\r\n250 AUTH LOGIN\r\n")).x_exps.empty());

    std::string many = "250-a\r\n250 X-EXPS";
    for (int i = 0; i < 100; ++i)
        many += " M" + std::to_string(i);
    CHECK(parse_capabilities(reply(many + "\r\n")).x_exps.size() == 32);
}
