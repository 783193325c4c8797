// data_payload(): what DATA sends after the 354 (RFC 5321 §4.5.2 dot-stuffing, CRLF only).

#include "smtp/extensions.hpp"
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

// --send (issue 20 item 4): the built test message, SIZE= and 8BITMIME, and the queue id of
// the reply after the message.

using smtpprobe::smtp::build_test_message;
using smtpprobe::smtp::queue_id;
using smtpprobe::smtp::TestMessage;

namespace {
TestMessage sample_message() {
    TestMessage m;
    m.from = "probe@example.org";
    m.to = {"a@example.net", "b@example.net"};
    m.date = 1'796'571'000; // 2026-12-06 15:30:00 UTC
    m.run_id = "0a1b2c3d4e5f";
    m.client_host = "laptop.example.org";
    m.server = "smtp.example.org:587";
    return m;
}
} // namespace

TEST_CASE("rfc5322 date: UTC, English names, two-digit day", "[core][message]") {
    CHECK(smtpprobe::smtp::rfc5322_date(1'796'571'000) == "Sun, 06 Dec 2026 15:30:00 +0000");
    CHECK(smtpprobe::smtp::rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
    CHECK(smtpprobe::smtp::rfc5322_date(951'782'400) == "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST_CASE("test message: the headers and a body that says who, from where and why",
          "[core][message]") {
    std::string const m = build_test_message(sample_message());
    std::string const want_head = "From: <probe@example.org>\r\n"
                                  "To: <a@example.net>, <b@example.net>\r\n"
                                  "Date: Sun, 06 Dec 2026 15:30:00 +0000\r\n"
                                  "Message-ID: <smtpprobe.0a1b2c3d4e5f@example.org>\r\n"
                                  "Subject: smtpprobe test message Sun, 06 Dec 2026 15:30:00 "
                                  "+0000 (run 0a1b2c3d4e5f)\r\n"
                                  "MIME-Version: 1.0\r\n"
                                  "Content-Type: text/plain; charset=utf-8\r\n";
    CHECK(m.substr(0, want_head.size()) == want_head);
    std::string const body = m.substr(m.find("\r\n\r\n") + 4);
    CHECK(body.find("sent by <probe@example.org> from laptop.example.org through "
                    "smtp.example.org:587") != std::string::npos);
    CHECK(body.find("--send") != std::string::npos);
    CHECK(m.ends_with("\r\n"));
    // CRLF only, 7-bit, no line that DATA would stuff or that is too long.
    CHECK_FALSE(smtpprobe::smtp::has_eight_bit(m));
    smtpprobe::smtp::DataPayload const p = data_payload(m);
    CHECK(p.bare_lf == 0);
    CHECK(p.bare_cr == 0);
    CHECK(p.dots_stuffed == 0);
    CHECK_FALSE(p.final_crlf_added);
    CHECK(p.wire == m + ".\r\n");
}

TEST_CASE("test message: the Message-ID's domain is the sender's, else the host's",
          "[core][message]") {
    TestMessage m = sample_message();
    CHECK(smtpprobe::smtp::message_id_domain(m) == "example.org");
    m.from = "<>";
    CHECK(smtpprobe::smtp::message_id_domain(m) == "laptop.example.org");
    m.client_host.clear();
    CHECK(smtpprobe::smtp::message_id_domain(m) == "smtpprobe.invalid");
}

TEST_CASE("message size: RFC 1870's count, CRLF lines, before dot-stuffing", "[core][message]") {
    // "a\n.b" is "a\r\n.b\r\n" (7 bytes), sent as "a\r\n..b\r\n.\r\n".
    DataPayload const p = data_payload("a\n.b");
    CHECK(p.wire == "a\r\n..b\r\n.\r\n");
    CHECK(smtpprobe::smtp::message_size(p) == 7);
    CHECK(smtpprobe::smtp::message_size(data_payload("")) == 2);
}

TEST_CASE("eight bit: any byte of 0x80 or more", "[core][message]") {
    CHECK_FALSE(smtpprobe::smtp::has_eight_bit("plain ASCII\r\n\x7f"));
    CHECK(smtpprobe::smtp::has_eight_bit("Gr\xc3\xbc\xc3\x9f"
                                         "e"));
    CHECK(smtpprobe::smtp::has_eight_bit(std::string("\x80", 1)));
}

TEST_CASE("queue id: Postfix, Exim, Exchange Online and ACS, Gmail, Sendmail, none",
          "[core][message]") {
    // Reply::text(): the enhanced code removed.
    CHECK(queue_id("Ok: queued as 4XyZ1k2Lmnz0") == "4XyZ1k2Lmnz0");
    CHECK(queue_id("OK id=1tJXyZ-000123-AB") == "1tJXyZ-000123-AB");
    CHECK(queue_id("<PH0PR01MB0001A1B2@PH0PR01MB0001.namprd01.prod.outlook.com> "
                   "[InternalId=12345678901234, Hostname=PH0PR01MB0001.namprd01.prod.outlook.com] "
                   "1502 bytes in 0.123, 11.928 KB/sec Queued mail for delivery") ==
          "<PH0PR01MB0001A1B2@PH0PR01MB0001.namprd01.prod.outlook.com>");
    CHECK(queue_id("<0f5c3e1a@az.eastus.azurecomm.net> Queued mail for delivery") ==
          "<0f5c3e1a@az.eastus.azurecomm.net>");
    CHECK(queue_id("OK  1765031400 d9443c01a7336-29b5b1a8c3fsm123456ad.1 - gsmtp") ==
          "d9443c01a7336-29b5b1a8c3fsm123456ad.1");
    CHECK(queue_id("4B6FUa1x012345 Message accepted for delivery") == "4B6FUa1x012345");
    // Generic: no id smtpprobe knows how to find.
    CHECK(queue_id("OK").empty());
    CHECK(queue_id("Message accepted").empty());
    CHECK(queue_id("OK: message discarded (the emulator never delivers mail)").empty());
    CHECK(queue_id("<not a queue id> thanks").empty());
    // "id=" inside a word is not Exim's.
    CHECK(queue_id("OK msgid=abc").empty());
    // A hostile server's text stays bounded.
    CHECK(queue_id("Ok: queued as " + std::string(5000, 'A')).size() == 200);
}
