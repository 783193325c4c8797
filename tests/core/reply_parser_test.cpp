#include "smtp/reply.hpp"

#include "smtp/errc.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using smtpprobe::smtp::Reply;
using smtpprobe::smtp::ReplyParser;
namespace errc = smtpprobe::smtp;

namespace {

std::vector<Reply> drain(ReplyParser& parser) {
    std::vector<Reply> out;
    while (std::optional<Reply> r = parser.next())
        out.push_back(*r);
    return out;
}

std::vector<Reply> parse_whole(std::string const& wire) {
    ReplyParser parser;
    parser.feed(wire);
    REQUIRE_FALSE(parser.error());
    return drain(parser);
}

} // namespace

TEST_CASE("a well-formed reply parses the same at every split point and byte by byte",
          "[core][reply]") {
    std::vector<std::string> const wires{
        "220 mail.example.test ESMTP\r\n",
        "220-mail.example.test ESMTP\r\n220-second line\r\n220 last\r\n",
        "250-smtp.azurecomm.net Hello [192.0.2.1]\r\n250-SIZE 31457280\r\n250 STARTTLS\r\n",
        "504 5.7.4 Unrecognized authentication type\r\n",
        "250-234 Text beginning with numbers\r\n250 ok\r\n", // RFC 5321 §4.2.1 example
        "334 \r\n",
        "334\r\n",
        "250\r\n",
        "220 a\r\n250 b\r\n",
    };
    for (std::string const& wire : wires) {
        std::vector<Reply> const expected = parse_whole(wire);
        REQUIRE_FALSE(expected.empty());
        for (std::size_t i = 0; i <= wire.size(); ++i) {
            ReplyParser parser;
            CHECK(parser.feed(wire.substr(0, i)) == i);
            std::vector<Reply> got = drain(parser);
            parser.feed(wire.substr(i));
            std::vector<Reply> rest = drain(parser);
            got.insert(got.end(), rest.begin(), rest.end());
            CHECK_FALSE(parser.error());
            CHECK(got == expected);
            CHECK(parser.buffered() == 0);
        }
        ReplyParser bytewise;
        std::vector<Reply> got;
        for (char c : wire) {
            bytewise.feed(std::string_view(&c, 1));
            std::vector<Reply> more = drain(bytewise);
            got.insert(got.end(), more.begin(), more.end());
        }
        CHECK(got == expected);
    }
}

TEST_CASE("multi-line replies keep every line and the code", "[core][reply]") {
    std::vector<Reply> r = parse_whole("250-mx.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n");
    REQUIRE(r.size() == 1);
    CHECK(r[0].code == 250);
    CHECK(r[0].lines == std::vector<std::string>{"mx.test", "PIPELINING", "AUTH PLAIN LOGIN"});
}

TEST_CASE("the enhanced status code is split from the text when its class matches",
          "[core][reply]") {
    Reply r = parse_whole("504 5.7.4 Unrecognized authentication type\r\n").front();
    CHECK(r.enhanced() == "5.7.4");
    CHECK(r.text() == "Unrecognized authentication type");
    CHECK(r.wire() == "504 5.7.4 Unrecognized authentication type");

    Reply mismatch = parse_whole("504 2.7.4 wrong class\r\n").front();
    CHECK(mismatch.enhanced().empty());

    Reply none = parse_whole("504 Unrecognized authentication type\r\n").front();
    CHECK(none.enhanced().empty());
    CHECK(none.text() == "Unrecognized authentication type");

    Reply multi = parse_whole("535-5.7.8 Username and Password not accepted.\r\n"
                              "535 5.7.8 https://support.example/?p=BadCredentials\r\n")
                      .front();
    CHECK(multi.enhanced() == "5.7.8");
    CHECK(multi.text() ==
          "Username and Password not accepted. https://support.example/?p=BadCredentials");

    Reply three_digits = parse_whole("550 5.7.139 Authentication unsuccessful\r\n").front();
    CHECK(three_digits.enhanced() == "5.7.139");
    CHECK(parse_whole("250 2.0.0\r\n").front().enhanced() == "2.0.0");
    CHECK(parse_whole("250 2.0.0x text\r\n").front().enhanced().empty());
}

TEST_CASE("malformed replies set a sticky error and keep the offending line as evidence",
          "[core][reply]") {
    struct Case {
        std::string wire;
        errc::errc expected;
    };
    std::vector<Case> const cases{
        {"\r\n", errc::errc::malformed_reply},
        {"25\r\n", errc::errc::malformed_reply},
        {"250x\r\n", errc::errc::malformed_reply},
        {"abc hello\r\n", errc::errc::malformed_reply},
        {"650 out of range\r\n", errc::errc::malformed_reply},
        {"160 first digit 1\r\n", errc::errc::malformed_reply},
        {"2a0 letters\r\n", errc::errc::malformed_reply},
        {"250-first\r\n251 second\r\n", errc::errc::code_mismatch},
        {"250-first\r\n250x\r\n", errc::errc::malformed_reply},
        {"HTTP/1.1 400 Bad Request\r\n", errc::errc::malformed_reply},
    };
    for (Case const& c : cases) {
        ReplyParser parser;
        parser.feed(c.wire);
        INFO(c.wire);
        CHECK(parser.error() == c.expected);
        CHECK_FALSE(parser.next().has_value());
        // Sticky: more good input does not clear it.
        parser.feed("250 ok\r\n");
        CHECK(parser.error() == c.expected);
    }
    ReplyParser parser;
    parser.feed("250-first\r\n251 second\r\n");
    CHECK(parser.error_line() == "251 second");
}

TEST_CASE("bare LF terminators and long lines are accepted and counted", "[core][reply]") {
    ReplyParser parser;
    parser.feed("220 lf only\n250 crlf\r\n");
    CHECK_FALSE(parser.error());
    CHECK(parser.bare_lf_lines() == 1);
    CHECK(parser.next()->lines.front() == "lf only");
    CHECK(parser.next()->code == 250);

    std::string const long_line = "250 " + std::string(600, 'x') + "\r\n";
    ReplyParser longer;
    longer.feed(long_line);
    CHECK_FALSE(longer.error());
    CHECK(longer.long_lines() == 1);
}

TEST_CASE("hard limits bound line length and line count", "[core][reply]") {
    ReplyParser parser({.max_line = 64, .max_lines = 4});
    parser.feed(std::string(65, '2')); // no newline yet: already over the limit
    CHECK(parser.error() == errc::errc::reply_too_long);

    ReplyParser lines({.max_line = 64, .max_lines = 4});
    lines.feed("250-a\r\n250-b\r\n250-c\r\n250-d\r\n250-e\r\n");
    CHECK(lines.error() == errc::errc::too_many_lines);

    ReplyParser endless; // default limits: a hostile server streaming one line forever
    std::string const chunk(1000, 'a');
    std::size_t taken = 0;
    for (int i = 0; i < 10 && !endless.error(); ++i)
        taken += endless.feed(chunk);
    CHECK(endless.error() == errc::errc::reply_too_long);
    CHECK(taken <= 4096);
}

TEST_CASE("EOF in the middle of a reply is a truncated reply", "[core][reply]") {
    ReplyParser parser;
    parser.feed("250-first\r\n250-sec");
    parser.finish();
    CHECK(parser.error() == errc::errc::truncated_reply);

    ReplyParser clean;
    clean.feed("250 done\r\n");
    clean.finish();
    CHECK_FALSE(clean.error());
}

TEST_CASE("buffered counts bytes that belong to no reply taken yet", "[core][reply]") {
    ReplyParser parser;
    parser.feed("220 2.0.0 Ready to start TLS\r\n250 injected\r\n");
    std::optional<Reply> first = parser.next();
    REQUIRE(first);
    CHECK(first->code == 220);
    CHECK(parser.buffered() == std::string("250 injected\r\n").size());
    parser.next();
    CHECK(parser.buffered() == 0);
    parser.feed("250-partial");
    CHECK(parser.buffered() == 11);
}

TEST_CASE("a longer enhanced code on a later line is not cut into", "[core][reply]") {
    ReplyParser parser;
    parser.feed("250-2.1.5 first\r\n250 2.1.50 second\r\n");
    std::optional<Reply> r = parser.next();
    REQUIRE(r);
    CHECK(r->text() == "first 2.1.50 second"); // found by tests/fuzz/reply_parser_fuzz.cpp
    CHECK(r->summary() == "250 2.1.5 first 2.1.50 second");
}
