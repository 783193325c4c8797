// data_payload(): what DATA sends after the 354 (RFC 5321 §4.5.2 dot-stuffing, CRLF only).

#include "smtp/message.hpp"

#include <catch2/catch.hpp>

#include <array>

using smtpprobe::smtp::data_payload;
using smtpprobe::smtp::DataPayload;

namespace {
/// lines, dots_stuffed, bare_lf, bare_cr.
std::array<std::size_t, 4> counts(DataPayload const& p) {
    return {p.lines, p.dots_stuffed, p.bare_lf, p.bare_cr};
}
} // namespace

TEST_CASE("data payload: CRLF lines pass unchanged and end with the dot line", "[core][message]") {
    DataPayload const p = data_payload("Subject: x\r\n\r\nhello\r\n");
    CHECK(p.wire == "Subject: x\r\n\r\nhello\r\n.\r\n");
    CHECK(counts(p) == std::array<std::size_t, 4>{3, 0, 0, 0});
    CHECK_FALSE(p.final_crlf_added);
}

TEST_CASE("data payload: a line that starts with a dot gets one more", "[core][message]") {
    DataPayload const p = data_payload(".\r\n..two\r\nmid.dle\r\n.\r\nend");
    CHECK(p.wire == "..\r\n...two\r\nmid.dle\r\n..\r\nend\r\n.\r\n");
    CHECK(p.dots_stuffed == 3);
    CHECK(p.final_crlf_added);
    // The first line too: a message that starts with "." must not end DATA.
    CHECK(data_payload(".hidden").wire == "..hidden\r\n.\r\n");
}

TEST_CASE("data payload: bare LF and bare CR are sent as CRLF and counted", "[core][message]") {
    DataPayload const p = data_payload("a\nb\rc\r\nd\n.\n");
    CHECK(p.wire == "a\r\nb\r\nc\r\nd\r\n..\r\n.\r\n");
    CHECK(counts(p) == std::array<std::size_t, 4>{5, 1, 3, 1});
    // A smuggling sequence in the file cannot end DATA early: <LF>.<LF> becomes a stuffed line.
    DataPayload const smuggled = data_payload("x\n.\nMAIL FROM:<a@b>\r\n");
    CHECK(smuggled.wire == "x\r\n..\r\nMAIL FROM:<a@b>\r\n.\r\n");
    CHECK(smuggled.wire.find("\r\n.\r\n") == smuggled.wire.size() - 5);
    // <CR>.<CR> likewise.
    CHECK(data_payload("x\r.\ry").wire == "x\r\n..\r\ny\r\n.\r\n");
}

TEST_CASE("data payload: a missing final line ending is added, and empty is one empty line",
          "[core][message]") {
    CHECK(data_payload("no newline").wire == "no newline\r\n.\r\n");
    CHECK(data_payload("no newline").final_crlf_added);
    DataPayload const empty = data_payload("");
    CHECK(empty.wire == "\r\n.\r\n");
    CHECK(empty.lines == 1);
    CHECK(data_payload("\r\n").wire == "\r\n.\r\n");
    CHECK_FALSE(data_payload("\r\n").final_crlf_added);
    // A trailing bare CR is a line ending too, not a CR left dangling before the dot line.
    CHECK(data_payload("x\r").wire == "x\r\n.\r\n");
}
