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
