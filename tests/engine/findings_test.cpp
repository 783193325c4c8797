// Each finding, provoked by a server that deserves it, with its evidence.

#include "diagnose/rules.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

nlohmann::json starttls_profile(std::vector<std::string> after_tls,
                                std::vector<std::string> mechs) {
    return {{"name", "finding-test"},
            {"ehlo", {{"before_tls", {"STARTTLS"}}, {"after_tls", after_tls}}},
            {"auth", {{"mechanisms", mechs}}}};
}

} // namespace

TEST_CASE("a mechanism advertised but refused is an error with the refusal as evidence",
          "[engine][findings]") {
    // Advertises CRAM-MD5 but the SASL back end does not have it (a common Postfix mistake).
    Emulated server =
        Emulated::inline_profile(starttls_profile({"AUTH PLAIN CRAM-MD5"}, {"PLAIN"}));
    Probed p = probe(server.options());
    Finding const& f = finding(p.verdict, "auth.advertised_but_refused");
    CHECK(f.severity == Severity::error);
    CHECK(f.title.find("CRAM-MD5") != std::string::npos);
    REQUIRE_FALSE(f.evidence.empty());
    CHECK(f.evidence.front().find("504") != std::string::npos);
    CHECK(p.verdict.exit_code == exit_code::problems);
}

TEST_CASE("a mechanism recognised without being advertised is reported", "[engine][findings]") {
    Emulated server =
        Emulated::inline_profile(starttls_profile({"AUTH PLAIN"}, {"PLAIN", "LOGIN"}));
    Probed p = probe(server.options());
    CHECK(finding(p.verdict, "auth.recognised_not_advertised").title.find("LOGIN") !=
          std::string::npos);
    CHECK(p.verdict.exit_code == exit_code::ok);
}

TEST_CASE("no AUTH at all is a warning without credentials", "[engine][findings]") {
    Emulated server =
        Emulated::inline_profile({{"name", "no-auth"}, {"ehlo", {{"before_tls", {"STARTTLS"}}}}});
    Probed p = probe(server.options());
    CHECK(finding(p.verdict, "auth.none").severity == Severity::warning);
    CHECK_FALSE(has_finding(p.verdict, "auth.mechanism_mismatch"));
}

TEST_CASE("lower-case names, AUTH= only and ANONYMOUS are flagged", "[engine][findings]") {
    Emulated lower =
        Emulated::inline_profile(starttls_profile({"AUTH login plain"}, {"PLAIN", "LOGIN"}));
    CHECK(has_finding(probe(lower.options()).verdict, "auth.lowercase_names"));

    Emulated equals = Emulated::inline_profile(starttls_profile({"AUTH=LOGIN"}, {"LOGIN"}));
    CHECK(has_finding(probe(equals.options()).verdict, "auth.legacy_equals_only"));

    Emulated anonymous = Emulated::inline_profile(
        starttls_profile({"AUTH PLAIN ANONYMOUS"}, {"PLAIN", "ANONYMOUS"}));
    CHECK(has_finding(probe(anonymous.options()).verdict, "auth.anonymous"));
}

TEST_CASE("AUTH advertised before TLS but refused there is reported", "[engine][findings]") {
    nlohmann::json profile = {
        {"name", "pre-tls-lie"},
        {"ehlo", {{"before_tls", {"STARTTLS", "AUTH PLAIN"}}, {"after_tls", {"AUTH PLAIN"}}}},
        {"auth",
         {{"mechanisms", {"PLAIN"}},
          {"before_tls_reply", "530 5.7.0 Must issue a STARTTLS command first"}}}};
    Emulated server = Emulated::inline_profile(profile);
    Probed p = probe(server.options());
    Finding const& f = finding(p.verdict, "auth.advertised_before_tls_but_refused");
    CHECK(f.detail.find("530 5.7.0") != std::string::npos);
}

TEST_CASE("provider hints come from the banner", "[engine][findings][provider]") {
    for (auto const& [banner, id] : std::vector<std::pair<std::string, std::string>>{
             {"220 smtp.office365.com Microsoft ESMTP MAIL Service ready", "provider.microsoft365"},
             {"220 smtp.gmail.com ESMTP ready", "provider.gmail"},
             {"220 email-smtp.eu-west-1.amazonaws.com ESMTP SimpleEmailService", "provider.ses"},
             {"220 smtp.sendgrid.net ESMTP service ready", "provider.sendgrid"},
             {"220 smtp.azurecomm.net Microsoft ESMTP MAIL Service ready", "provider.azure_acs"}}) {
        nlohmann::json profile = starttls_profile({"AUTH LOGIN"}, {"LOGIN"});
        profile["banner"] = banner;
        Emulated server = Emulated::inline_profile(profile);
        INFO(banner);
        CHECK(has_finding(probe(server.options()).verdict, id));
    }
}

TEST_CASE("every code seen is explained with its source", "[engine][findings][explain]") {
    Emulated acs = Emulated::sample("azure-acs");
    Probed p = probe(acs.options());
    bool saw_504 = false, saw_574 = false;
    for (Explanation const& e : p.verdict.explanations) {
        CHECK_FALSE(e.source.empty());
        saw_504 = saw_504 || e.subject == "504";
        saw_574 = saw_574 || e.subject == "5.7.4" || e.subject == "X.7.4";
    }
    CHECK(saw_504);
    CHECK(saw_574);
    CHECK(p.text.find("Codes seen") != std::string::npos);
}

TEST_CASE("client libraries are judged against the probed server", "[engine][findings][clients]") {
    Emulated acs = Emulated::sample("azure-acs");
    Probed p = probe(acs.options());
    bool go_fails = false;
    for (ClientRow const& c : p.verdict.clients)
        if (c.client == "Go net/smtp (PlainAuth)")
            go_fails = c.outcome == ClientOutcome::fails && c.how.find("504") != std::string::npos;
    CHECK(go_fails);
}
