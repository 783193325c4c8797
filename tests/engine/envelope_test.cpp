// The envelope probe (issue 20) against the emulator's profiles: MAIL FROM, RCPT TO, RSET and
// QUIT on a connection of its own after the matrix, authenticated with the mechanism that got
// 235; never DATA; each reply named with its fix, vendor by vendor.

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;
using Kind = EnvelopeStep::Kind;

namespace {

std::string const acs_user =
    "acs-demo.00000000-0000-0000-0000-000000000001.00000000-0000-0000-0000-000000000002";
std::string const acs_password = "demo-secret-never-printed";

Setup envelope_setup(Emulated const& e, std::string const& from, std::vector<std::string> rcpt) {
    Setup s = e.options();
    probes::EnvelopeRequest request;
    request.mail_from = from;
    request.rcpt = std::move(rcpt);
    s.options.envelope = request;
    return s;
}

std::vector<Kind> kinds(Envelope const& envelope) {
    std::vector<Kind> out;
    for (EnvelopeStep const& step : envelope.steps)
        out.push_back(step.kind);
    return out;
}

std::vector<int> codes(Envelope const& envelope) {
    std::vector<int> out;
    for (EnvelopeStep const& step : envelope.steps)
        out.push_back(step.reply ? step.reply->code : 0);
    return out;
}

} // namespace

TEST_CASE("envelope: authenticated with the mechanism that got 235, MAIL RCPT RSET QUIT, no DATA",
          "[engine][envelope]") {
    Emulated e = Emulated::sample("azure-acs");
    Setup s =
        envelope_setup(e, "DoNotReply@demo.azurecomm.net", {"a@example.org", "b@example.org"});
    s.options.credentials = sasl::Credentials{acs_user, acs_password, ""};
    Probed const p = probe(s);
    REQUIRE(p.report.envelope);
    Envelope const& env = *p.report.envelope;
    CHECK(env.authenticated);
    CHECK(env.mechanism == "LOGIN");
    CHECK(env.stopped.empty());
    CHECK(env.connection == p.report.connections); // a connection of its own, after the matrix
    CHECK(kinds(env) ==
          std::vector<Kind>{Kind::mail, Kind::rcpt, Kind::rcpt, Kind::rset, Kind::quit});
    CHECK(codes(env) == std::vector<int>{250, 250, 250, 250, 221});
    CHECK(env.steps[0].argument == "<DoNotReply@demo.azurecomm.net>");
    CHECK(env.steps[1].argument == "<a@example.org>");
    CHECK(p.transcript.find("DATA") == std::string::npos);
    CHECK(p.transcript.find("MAIL FROM:<DoNotReply@demo.azurecomm.net>") != std::string::npos);
    for (std::string const* out : {&p.text, &p.json, &p.transcript})
        CHECK(out->find(acs_password) == std::string::npos);
}

TEST_CASE("envelope: without credentials it runs unauthenticated, and a refused MAIL sends no RCPT",
          "[engine][envelope]") {
    Emulated e = Emulated::sample("azure-acs");
    Probed const p = probe(envelope_setup(e, "DoNotReply@demo.azurecomm.net", {"a@example.org"}));
    REQUIRE(p.report.envelope);
    Envelope const& env = *p.report.envelope;
    CHECK_FALSE(env.authenticated);
    CHECK(kinds(env) == std::vector<Kind>{Kind::mail, Kind::rset, Kind::quit});
    CHECK(env.steps[0].reply->wire() ==
          "530 5.7.57 Client not authenticated to send mail during MAIL FROM");
    CHECK(p.transcript.find("RCPT TO") == std::string::npos);
}

TEST_CASE("envelope: none without --mail-from", "[engine][envelope]") {
    Emulated e = Emulated::sample("azure-acs");
    Probed const p = probe(e.options());
    CHECK_FALSE(p.report.envelope);
    // Only the first connection's "is TLS mandatory?" probe (MAIL FROM:<>) sends MAIL.
    CHECK(p.transcript.find("MAIL FROM:<a") == std::string::npos);
    CHECK(p.transcript.find("RCPT TO") == std::string::npos);
}

TEST_CASE("envelope: ACS refuses a sender of a domain not connected, named, with the fix",
          "[engine][envelope][profiles]") {
    Emulated e = Emulated::sample("azure-acs");
    Setup s = envelope_setup(e, "someone@not-connected.example", {"x@example.org"});
    s.options.credentials = sasl::Credentials{acs_user, acs_password, ""};
    Probed const p = probe(s);
    REQUIRE(p.report.envelope);
    Envelope const& env = *p.report.envelope;
    CHECK(env.authenticated);
    CHECK(kinds(env) == std::vector<Kind>{Kind::mail, Kind::rset, Kind::quit});
    CHECK(env.steps[0].reply->wire() ==
          "550 5.1.7 The specified sender domain has not been linked.");
    Finding const& f = finding(p.verdict, "envelope.acs_sender_domain_not_linked");
    CHECK(f.severity == Severity::error);
    CHECK(f.detail.find("Connect domain") != std::string::npos);
    CHECK(p.verdict.exit_code == exit_code::problems);
    REQUIRE(p.verdict.envelope);
    CHECK(p.verdict.envelope->steps[0].finding_id == "envelope.acs_sender_domain_not_linked");
    CHECK(p.verdict.envelope->steps[2].meaning == "the session ended");
}

TEST_CASE("envelope: Exchange Online's 5.7.60 for a sender the account may not send as",
          "[engine][envelope][profiles]") {
    Emulated e = Emulated::sample("microsoft365");
    std::ifstream in(source_path("samples/tokens/m365-delegated.jwt"));
    std::string token;
    std::getline(in, token);
    SECTION("another mailbox: 550 5.7.60, send-as denied") {
        Setup s = envelope_setup(e, "ceo@contoso.test", {"x@example.org"});
        s.options.credentials = sasl::Credentials{"sender@contoso.test", "", token};
        s.options.mechanisms = {"XOAUTH2"};
        Probed const p = probe(s);
        REQUIRE(p.report.envelope);
        CHECK(p.report.envelope->mechanism == "XOAUTH2");
        CHECK(p.report.envelope->steps[0].reply->enhanced() == "5.7.60");
        Finding const& f = finding(p.verdict, "envelope.send_as_denied");
        CHECK(f.detail.find("Add-RecipientPermission") != std::string::npos);
        for (std::string const* out : {&p.text, &p.json, &p.transcript})
            CHECK(out->find(token) == std::string::npos);
    }
    SECTION("its own mailbox: 250, 250") {
        Setup s = envelope_setup(e, "sender@contoso.test", {"x@example.org"});
        s.options.credentials = sasl::Credentials{"sender@contoso.test", "", token};
        s.options.mechanisms = {"XOAUTH2"};
        Probed const p = probe(s);
        REQUIRE(p.report.envelope);
        CHECK(codes(*p.report.envelope) == std::vector<int>{250, 250, 250, 221});
        CHECK(has_finding(p.verdict, "envelope.accepted"));
    }
    SECTION("no credentials: 530 5.7.57, not authenticated") {
        Probed const p = probe(envelope_setup(e, "sender@contoso.test", {"x@example.org"}));
        Finding const& f = finding(p.verdict, "envelope.not_authenticated");
        CHECK(f.detail.find("Give credentials") != std::string::npos);
    }
}

TEST_CASE("envelope: Postfix's sender login map and relay restriction",
          "[engine][envelope][profiles]") {
    Emulated e = Emulated::sample("postfix-submission");
    sasl::Credentials const alice{"alice@example.test", "postfix-test-password-not-real", ""};
    SECTION("a sender the account does not own: 553 5.7.1, the map to fix") {
        Setup s = envelope_setup(e, "bob@example.test", {"carol@example.test"});
        s.options.credentials = alice;
        Probed const p = probe(s);
        REQUIRE(p.report.envelope);
        CHECK(p.report.envelope->steps[0].reply->wire() ==
              "553 5.7.1 <bob@example.test>: Sender address rejected: not owned by user "
              "alice@example.test");
        Finding const& f = finding(p.verdict, "envelope.sender_not_owned");
        CHECK(f.detail.find("smtpd_sender_login_maps") != std::string::npos);
        CHECK(p.verdict.exit_code == exit_code::problems);
    }
    SECTION("an owned sender and a local recipient: 250/250, RSET, QUIT, no DATA") {
        Setup s = envelope_setup(e, "alice@example.test", {"carol@example.test"});
        s.options.credentials = alice;
        s.expect.sender_accepted = true;
        s.expect.rcpt_accepted = true;
        Probed const p = probe(s);
        REQUIRE(p.report.envelope);
        CHECK(kinds(*p.report.envelope) ==
              std::vector<Kind>{Kind::mail, Kind::rcpt, Kind::rset, Kind::quit});
        CHECK(codes(*p.report.envelope) == std::vector<int>{250, 250, 250, 221});
        CHECK(p.transcript.find("DATA") == std::string::npos);
        CHECK(p.verdict.exit_code == exit_code::ok);
    }
    SECTION("a relay recipient without AUTH: 554 relay access denied, named") {
        Setup s = envelope_setup(e, "alice@example.test", {"someone@elsewhere.example"});
        s.expect.rcpt_accepted = true;
        Probed const p = probe(s);
        REQUIRE(p.report.envelope);
        CHECK_FALSE(p.report.envelope->authenticated);
        CHECK(p.report.envelope->steps[1].reply->wire() ==
              "554 5.7.1 <someone@elsewhere.example>: Relay access denied");
        CHECK(has_finding(p.verdict, "envelope.relay_denied"));
        bool critical = false;
        for (Check const& c : p.verdict.checks)
            if (c.id == "envelope.rcpt")
                critical = c.status == CheckState::critical && c.expected;
        CHECK(critical);
    }
}

// --send (issue 20 item 4): DATA, the message and its queue id, against the emulator (which
// reads the message up to "." and answers the profile's data_end_reply; it delivers nothing).
namespace {

/// The lines a connection of the emulator received after its DATA, up to the lone ".".
std::vector<std::string> data_lines(emulator::Server const& server) {
    std::vector<std::string> out;
    bool in_data = false;
    for (std::string const& line : server.received()) {
        std::string const text = line.substr(line.find(": ") + 2);
        if (!in_data) {
            in_data = text == "DATA";
            continue;
        }
        if (text == ".")
            break;
        out.push_back(text);
    }
    return out;
}

Setup send_setup(Emulated const& e, std::string const& from, std::vector<std::string> rcpt) {
    Setup s = envelope_setup(e, from, std::move(rcpt));
    s.options.envelope->send = true;
    s.options.clock = [] { return std::int64_t{1'796'571'000}; }; // 2026-12-06 15:30:00 UTC
    return s;
}

} // namespace

TEST_CASE("send: a built message, DATA, the queue id, QUIT without RSET (Postfix profile)",
          "[engine][envelope][send]") {
    Emulated e = Emulated::sample("postfix-submission");
    Setup s = send_setup(e, "alice@example.test", {"carol@example.test", "dave@example.test"});
    s.options.credentials =
        sasl::Credentials{"alice@example.test", "postfix-test-password-not-real", ""};
    Probed const p = probe(s);
    REQUIRE(p.report.envelope);
    Envelope const& env = *p.report.envelope;
    CHECK(kinds(env) == std::vector<Kind>{Kind::mail, Kind::rcpt, Kind::rcpt, Kind::data,
                                          Kind::message, Kind::quit});
    CHECK(codes(env) == std::vector<int>{250, 250, 250, 354, 250, 221});
    CHECK(env.message_sent);
    CHECK(env.message_built);
    CHECK(env.queue_id == "4XyZ1k2Lmnz0");
    CHECK(env.recipients == std::vector<std::string>{"carol@example.test", "dave@example.test"});
    // SIZE= is the message's real size: SIZE is advertised; 7-bit, so no BODY=.
    CHECK(env.steps[0].argument ==
          "<alice@example.test> SIZE=" + std::to_string(env.message_bytes));
    // What the emulator received is the built message, the Date from the probe's clock.
    std::vector<std::string> const lines = data_lines(e.server());
    REQUIRE(lines.size() == env.message_lines);
    CHECK(lines[0] == "From: <alice@example.test>");
    CHECK(lines[1] == "To: <carol@example.test>, <dave@example.test>");
    CHECK(lines[2] == "Date: Sun, 06 Dec 2026 15:30:00 +0000");
    CHECK(lines[3].starts_with("Message-ID: <smtpprobe."));
    CHECK(lines[3].ends_with("@example.test>"));
    CHECK(lines[4].starts_with("Subject: smtpprobe test message Sun, 06 Dec 2026 15:30:00"));
    // The transcript says plainly what went out, but not the message itself.
    CHECK(p.transcript.find("--send: sending a test message") != std::string::npos);
    CHECK(p.transcript.find("--send: a test message WAS SENT to carol@example.test, "
                            "dave@example.test, queued as 4XyZ1k2Lmnz0") != std::string::npos);
    CHECK(p.transcript.find(env.steps[4].argument) != std::string::npos);
    CHECK(env.steps[4].argument.ends_with(" lines>"));
    CHECK(p.transcript.find("Subject: smtpprobe") == std::string::npos);
    // No RSET after the message was taken (the first connection's "is TLS mandatory?" probe
    // sends one of its own, before STARTTLS).
    std::size_t const sending = p.transcript.find("--send: sending a test message");
    REQUIRE(sending != std::string::npos);
    CHECK(p.transcript.find("RSET", sending) == std::string::npos);
    for (EnvelopeStep const& step : env.steps)
        CHECK(step.kind != EnvelopeStep::Kind::rset);
    CHECK(p.text.find("A test message WAS SENT to carol@example.test, dave@example.test, queued "
                      "as 4XyZ1k2Lmnz0") != std::string::npos);
    CHECK(has_finding(p.verdict, "envelope.message_sent"));
    CHECK(p.verdict.exit_code == exit_code::ok);
    Json const doc = Json::parse(p.json);
    CHECK(doc["envelope"]["message_sent"] == true);
    CHECK(doc["envelope"]["queue_id"] == "4XyZ1k2Lmnz0");
    for (std::string const* out : {&p.text, &p.json, &p.transcript})
        CHECK(out->find("postfix-test-password-not-real") == std::string::npos);
}

TEST_CASE("send: a given message goes as it is, dot-stuffed, LF as CRLF (ACS profile)",
          "[engine][envelope][send]") {
    Emulated e = Emulated::sample("azure-acs");
    Setup s = send_setup(e, "DoNotReply@demo.azurecomm.net", {"a@example.org"});
    s.options.credentials = sasl::Credentials{acs_user, acs_password, ""};
    s.options.envelope->message = "Subject: t\n\n.leading dot\n..two\n.\nlast";
    Probed const p = probe(s);
    REQUIRE(p.report.envelope);
    Envelope const& env = *p.report.envelope;
    CHECK(env.message_sent);
    CHECK_FALSE(env.message_built);
    CHECK(env.queue_id == "<0f5c3e1a-7b2d-4c11-9a8e-5d7f00000001@az.eastus.azurecomm.net>");
    // On the wire each line that starts with "." has one more; the server unstuffs them.
    CHECK(data_lines(e.server()) ==
          std::vector<std::string>{"Subject: t", "", "..leading dot", "...two", "..", "last"});
    CHECK(env.message_bytes ==
          std::string("Subject: t\r\n\r\n.leading dot\r\n..two\r\n.\r\nlast\r\n").size());
}

TEST_CASE("send: nothing is sent when no recipient is accepted, or to a server without "
          "8BITMIME for an 8-bit message",
          "[engine][envelope][send]") {
    SECTION("the only recipient is refused: no DATA") {
        Emulated e = Emulated::sample("postfix-submission");
        Setup s = send_setup(e, "alice@example.test", {"someone@elsewhere.example"});
        Probed const p = probe(s); // no AUTH: relay denied
        REQUIRE(p.report.envelope);
        CHECK(kinds(*p.report.envelope) ==
              std::vector<Kind>{Kind::mail, Kind::rcpt, Kind::rset, Kind::quit});
        CHECK_FALSE(p.report.envelope->message_sent);
        CHECK(p.transcript.find("DATA") == std::string::npos);
        CHECK(p.text.find("--send: NO message was sent") != std::string::npos);
    }
    SECTION("8-bit data, no 8BITMIME: no DATA, a finding") {
        Json profile = {{"name", "no-8bitmime"},
                        {"tls", "none"},
                        {"ehlo", {{"before_tls", {"PIPELINING", "SIZE 1000000"}}}}};
        Emulated e = Emulated::inline_profile(profile);
        Setup s = send_setup(e, "a@example.test", {"b@example.test"});
        s.target.tls_mode = TlsMode::none;
        s.options.envelope->message = "Subject: Gr\xc3\xbc\xc3\x9f"
                                      "e\r\n\r\nbody\r\n";
        Probed const p = probe(s);
        REQUIRE(p.report.envelope);
        Envelope const& env = *p.report.envelope;
        CHECK(kinds(env) == std::vector<Kind>{Kind::mail, Kind::rcpt, Kind::rset, Kind::quit});
        CHECK(env.steps[0].argument.find("BODY=8BITMIME") == std::string::npos);
        CHECK_FALSE(env.message_sent);
        CHECK(env.not_sent.find("8BITMIME") != std::string::npos);
        CHECK(has_finding(p.verdict, "envelope.eight_bit_without_8bitmime"));
        CHECK(p.transcript.find("--send: NO message sent") != std::string::npos);
    }
    SECTION("8-bit data, 8BITMIME advertised: BODY=8BITMIME, sent") {
        Emulated e = Emulated::sample("postfix-submission");
        Setup s = send_setup(e, "alice@example.test", {"carol@example.test"});
        s.options.credentials =
            sasl::Credentials{"alice@example.test", "postfix-test-password-not-real", ""};
        s.options.envelope->message = "Subject: Gr\xc3\xbc\xc3\x9f"
                                      "e\r\n\r\nbody\r\n";
        Probed const p = probe(s);
        REQUIRE(p.report.envelope);
        CHECK(p.report.envelope->steps[0].argument.ends_with(" BODY=8BITMIME"));
        CHECK(p.report.envelope->message_sent);
    }
}
