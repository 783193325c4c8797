// "Is TLS mandatory?" (issue 20 item 2): the first connection's MAIL FROM:<> before STARTTLS
// and under TLS before AUTH, against emulator profiles that take or refuse it.

#include "support/harness.hpp"

#include <catch2/catch.hpp>

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
        // A refused MAIL opens no transaction: no RSET before STARTTLS.
        CHECK(count(p.transcript, "RSET") == 1);
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

TEST_CASE("implicit TLS has no plaintext MAIL; the probe can be switched off",
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
