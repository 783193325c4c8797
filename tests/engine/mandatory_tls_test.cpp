// "Is TLS mandatory?" (issue 20 item 2): the first connection's MAIL FROM:<> before STARTTLS
// and under TLS before AUTH, against emulator profiles that take or refuse it.

#include "probes/baseline.hpp"
#include "session/conversation.hpp"
#include "support/harness.hpp"
#include "support/replay_transport.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

std::size_t count(std::string const& haystack, std::string const& needle) {
    std::size_t n = 0;
    for (std::size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1))
        ++n;
    return n;
}

/// open_session() on the first connection's options (AUTH and MAIL probes) over a script.
struct Opened {
    ServerFacts facts;
    std::vector<std::string> mismatches;
    bool finished = false;
    int writes = 0; ///< client writes: a pipelined group is one
};

Opened open_scripted(std::vector<test::ReplayStep> steps, bool auth_probe) {
    test::ReplayScript s;
    s.steps = std::move(steps);
    test::ReplayTransport transport(std::move(s));
    Conversation conversation(transport, nullptr, Timeouts{}, 1);
    probes::SetupOptions options;
    options.ehlo_name = "probe.example.test";
    options.probe_auth_before_tls = auth_probe;
    options.probe_mail_before_auth = true;
    Opened out;
    out.facts = probes::open_session(conversation, options);
    out.mismatches = transport.mismatches();
    out.finished = transport.finished();
    out.writes = transport.writes();
    return out;
}

} // namespace

TEST_CASE("a submission port that takes MAIL before STARTTLS gets a warning, once per run",
          "[engine][mandatory]") {
    Emulated postfix = Emulated::sample("postfix-submission"); // no smtpd_tls_security_level
    Probed p = probe(postfix.options());
    Report const& r = p.report;
    REQUIRE(r.session_established);
    REQUIRE(r.server.mail_before_tls_reply);
    CHECK(r.server.mail_before_tls_reply->code == 250);
    CHECK(r.mail_without_tls() == MailGate::accepted);
    Finding const& f = finding(p.verdict, "mail.without_tls");
    CHECK(f.severity == Severity::warning);
    CHECK(f.title == "This submission port takes mail without TLS");
    CHECK_FALSE(has_finding(p.verdict, "mail.tls_required"));
    // Under TLS, before AUTH, Postfix still says 250 (it refuses at RCPT): an info.
    REQUIRE(r.server.mail_before_auth_reply);
    CHECK(r.mail_without_auth() == MailGate::accepted);
    CHECK(finding(p.verdict, "mail.without_auth").severity == Severity::info);
    // One MAIL before TLS and one under TLS, each followed by RSET, on the first connection only.
    CHECK(count(p.transcript, "MAIL FROM:<>") == 2);
    CHECK(count(p.transcript, "RSET") == 2);
    CHECK(p.text.find("MAIL no TLS") != std::string::npos);
    CHECK(p.text.find("takes mail without TLS") != std::string::npos);
    nlohmann::json const j = nlohmann::json::parse(p.json);
    CHECK(j["server"]["mail_probe"]["without_tls"]["status"] == "accepted");
    CHECK(j["server"]["mail_probe"]["without_tls"]["reply"]["code"] == 250);
    CHECK(j["server"]["mail_probe"]["without_auth"]["status"] == "accepted");
}

TEST_CASE("the one-off probes ride on the transcript's connection 1, whichever worker opens it",
          "[engine][mandatory]") {
    // Four workers race for the first connection number; the probes follow the number, so
    // "# connection 1" always shows MAIL FROM:<> and AUTH before STARTTLS (a CI run once
    // found them on connection 2).
    Emulated postfix = Emulated::sample("postfix-submission");
    for (int run = 0; run < 8; ++run) {
        Probed p = probe(postfix.options());
        REQUIRE(p.report.session_established);
        std::size_t const second = p.transcript.find("# connection 2");
        REQUIRE(second != std::string::npos);
        std::string const first = p.transcript.substr(0, second);
        std::string const before_tls = first.substr(0, first.find("-> STARTTLS"));
        CHECK(count(before_tls, "MAIL FROM:<>") == 1);
        CHECK(count(before_tls, "-> AUTH ") == 1);
        CHECK(count(first, "MAIL FROM:<>") == 2);
        CHECK(count(p.transcript.substr(second), "MAIL FROM:<>") == 0);
    }
}

TEST_CASE("Postfix with encrypt and ACS refuse MAIL before TLS: TLS required is shown",
          "[engine][mandatory]") {
    SECTION("postfix-submission-encrypt: 530 5.7.0 before TLS, 250 under TLS") {
        Emulated postfix = Emulated::sample("postfix-submission-encrypt");
        Probed p = probe(postfix.options());
        Report const& r = p.report;
        REQUIRE(r.server.mail_before_tls_reply);
        CHECK(r.server.mail_before_tls_reply->code == 530);
        CHECK(r.server.mail_before_tls_reply->enhanced() == "5.7.0");
        CHECK(r.mail_without_tls() == MailGate::refused);
        Finding const& f = finding(p.verdict, "mail.tls_required");
        CHECK(f.severity == Severity::info);
        CHECK_FALSE(has_finding(p.verdict, "mail.without_tls"));
        CHECK(p.text.find("(TLS required)") != std::string::npos);
        // The profile advertises PIPELINING: MAIL FROM:<> and RSET go in one group before
        // STARTTLS and under TLS, so RSET is sent even after the 530 (harmless: RFC 5321
        // §4.1.1.5).
        CHECK(count(p.transcript, "RSET") == 2);
        nlohmann::json const j = nlohmann::json::parse(p.json);
        CHECK(j["server"]["mail_probe"]["without_tls"]["status"] == "refused");
    }
    SECTION("azure-acs: 530 before TLS, 530 5.7.57 under TLS before AUTH") {
        Emulated acs = Emulated::sample("azure-acs");
        Probed p = probe(acs.options());
        Report const& r = p.report;
        REQUIRE(r.server.mail_before_auth_reply);
        CHECK(r.server.mail_before_auth_reply->enhanced() == "5.7.57");
        CHECK(r.mail_without_tls() == MailGate::refused);
        CHECK(r.mail_without_auth() == MailGate::refused);
        CHECK(has_finding(p.verdict, "mail.tls_required"));
        CHECK(finding(p.verdict, "mail.auth_required").title == "Mail needs AUTH");
        CHECK(count(p.transcript, "RSET") == 0);
        CHECK(p.verdict.exit_code == exit_code::ok);
    }
}

TEST_CASE("implicit TLS has no plaintext MAIL, and the probe can be switched off",
          "[engine][mandatory]") {
    SECTION("implicit") {
        Emulated tls = Emulated::sample("implicit-tls");
        Probed p = probe(tls.options());
        Report const& r = p.report;
        REQUIRE(r.session_established);
        CHECK_FALSE(r.server.mail_before_tls_reply);
        CHECK(r.mail_without_tls() == MailGate::not_applicable);
        CHECK(r.server.mail_before_auth_reply);
        CHECK(p.text.find("not applicable: implicit TLS") != std::string::npos);
        nlohmann::json const j = nlohmann::json::parse(p.json);
        CHECK(j["server"]["mail_probe"]["without_tls"]["status"] == "not_applicable");
    }
    SECTION("off") {
        Emulated postfix = Emulated::sample("postfix-submission");
        Setup s = postfix.options();
        s.options.mail_before_auth = false;
        Probed p = probe(s);
        CHECK_FALSE(p.report.server.mail_before_tls_reply);
        CHECK(p.report.mail_without_tls() == MailGate::not_tested);
        CHECK(count(p.transcript, "MAIL FROM") == 0);
    }
}

TEST_CASE("with PIPELINING the MAIL probe rides in one group: MAIL, RSET and the AUTH probe last",
          "[engine][mandatory]") {
    using Kind = test::ReplayStep::Kind;
    // The server's replies follow the whole group: a client that waited for MAIL's reply before
    // sending RSET would find the recording's next step to be its own line, and stop.
    Opened const o =
        open_scripted({{Kind::server, false, "220 mx.example.test ESMTP"},
                       {Kind::client, false, "EHLO probe.example.test"},
                       {Kind::server, false, "250-mx.example.test"},
                       {Kind::server, false, "250-PIPELINING"},
                       {Kind::server, false, "250 STARTTLS"},
                       {Kind::client, false, "MAIL FROM:<>"},
                       {Kind::client, false, "RSET"},
                       {Kind::client, false, "AUTH LOGIN"},
                       {Kind::server, false, "530 5.7.0 Must issue a STARTTLS command first"},
                       {Kind::server, false, "250 2.0.0 Ok"},
                       {Kind::server, false, "530 5.7.0 Must issue a STARTTLS command first"},
                       {Kind::client, false, "STARTTLS"},
                       {Kind::server, false, "220 2.0.0 Ready to start TLS"},
                       {Kind::client, true, "EHLO probe.example.test"},
                       {Kind::server, true, "250-mx.example.test"},
                       {Kind::server, true, "250-PIPELINING"},
                       {Kind::server, true, "250 AUTH PLAIN LOGIN"},
                       {Kind::client, true, "MAIL FROM:<>"},
                       {Kind::client, true, "RSET"},
                       {Kind::server, true, "250 2.1.0 Ok"},
                       {Kind::server, true, "250 2.0.0 Ok"}},
                      true);
    CHECK(o.mismatches.empty());
    CHECK(o.finished);
    REQUIRE(o.facts.ready);
    REQUIRE(o.facts.mail_before_tls_reply);
    CHECK(o.facts.mail_before_tls_reply->code == 530);
    REQUIRE(o.facts.auth_before_tls_reply);
    CHECK(o.facts.auth_before_tls_mechanism == "LOGIN");
    CHECK(o.facts.auth_before_tls_reply->code == 530);
    REQUIRE(o.facts.mail_before_auth_reply);
    CHECK(o.facts.mail_before_auth_reply->code == 250);
    // EHLO, the group of three, STARTTLS, EHLO, the group of two.
    CHECK(o.writes == 5);
}

TEST_CASE("without PIPELINING the MAIL probe waits for each reply, and RSET only after a 250",
          "[engine][mandatory]") {
    using Kind = test::ReplayStep::Kind;
    Opened const o =
        open_scripted({{Kind::server, false, "220 mx.example.test ESMTP"},
                       {Kind::client, false, "EHLO probe.example.test"},
                       {Kind::server, false, "250-mx.example.test"},
                       {Kind::server, false, "250 STARTTLS"},
                       {Kind::client, false, "MAIL FROM:<>"},
                       {Kind::server, false, "250 2.1.0 Ok"},
                       {Kind::client, false, "RSET"},
                       {Kind::server, false, "250 2.0.0 Ok"},
                       {Kind::client, false, "STARTTLS"},
                       {Kind::server, false, "220 2.0.0 Ready to start TLS"},
                       {Kind::client, true, "EHLO probe.example.test"},
                       {Kind::server, true, "250-mx.example.test"},
                       {Kind::server, true, "250 AUTH LOGIN"},
                       {Kind::client, true, "MAIL FROM:<>"},
                       {Kind::server, true, "530 5.7.57 Client not authenticated to send mail"}},
                      false);
    CHECK(o.mismatches.empty());
    CHECK(o.finished);
    REQUIRE(o.facts.mail_before_auth_reply);
    CHECK(o.facts.mail_before_auth_reply->enhanced() == "5.7.57");
    CHECK(o.writes == 6);
}

TEST_CASE("the timeline shows the first connection's one-off probes, so its steps meet end to end",
          "[engine][mandatory][timeline]") {
    for (char const* sample : {"azure-acs", "postfix-submission"}) { // without and with PIPELINING
        INFO(sample);
        Emulated server = Emulated::sample(sample);
        Probed p = probe(server.options());
        REQUIRE(p.report.session_established);
        REQUIRE_FALSE(p.report.connection_timings.empty());
        for (ConnectionTimings const& c : p.report.connection_timings) {
            INFO("connection " << c.connection);
            std::vector<std::string> names;
            for (StepTiming const& s : c.steps)
                names.emplace_back(to_string(s.step));
            std::vector<std::string> const setup{"connect",  "banner",        "ehlo",
                                                 "starttls", "tls_handshake", "ehlo_after_tls"};
            std::vector<std::string> const first{
                "connect",  "banner",        "ehlo",           "probes_before_tls",
                "starttls", "tls_handshake", "ehlo_after_tls", "mail_before_auth"};
            std::vector<std::string> const& want = c.connection == 1 ? first : setup;
            REQUIRE(names.size() >= want.size());
            CHECK(std::vector<std::string>(
                      names.begin(), names.begin() + static_cast<std::ptrdiff_t>(want.size())) ==
                  want);
            // Laid end to end from the connect, the setup ends where the first AUTH row
            // starts (before 0.3 the one-off probes were missing here: a gap on connection 1).
            if (names.size() > want.size()) {
                StepTiming const& last = c.steps[want.size() - 1];
                StepTiming const& row = c.steps[want.size()];
                CHECK(row.step == TimedStep::auth);
                CHECK(row.start_ms >= last.start_ms + last.ms - 2.0);
                CHECK(row.start_ms <= last.start_ms + last.ms + 15.0);
            }
        }
    }
}
