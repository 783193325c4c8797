// The microsoft365 and gmail emulator profiles against the real engine: each acceptance item
// of issue 19 that the emulator reproduces (a Graph token, an expired token, a password past
// the Basic-auth cut-off, SMTP AUTH disabled for a tenant or a mailbox, Gmail's error
// challenge and its 534 refusals), with the verdicts, findings and renderings they give.

#include "report/auth_verdict.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

namespace {

std::string sample_token(std::string const& name) {
    std::ifstream in(source_path("samples/tokens/" + name));
    std::string line;
    std::getline(in, line);
    return line;
}

Setup with(Emulated const& e, sasl::Credentials credentials,
           std::vector<std::string> mechanisms = {}) {
    Setup s = e.options();
    s.options.credentials = std::move(credentials);
    s.options.mechanisms = std::move(mechanisms);
    return s;
}

sasl::Credentials token_of(std::string const& user, std::string const& token) {
    return sasl::Credentials{user, "", token};
}

sasl::Credentials password_of(std::string const& user, std::string const& password) {
    return sasl::Credentials{user, password, ""};
}

void require_no_secret(Probed const& p, std::string const& secret) {
    for (std::string const* out : {&p.text, &p.json, &p.transcript})
        CHECK(out->find(secret) == std::string::npos);
}

Json row_json(Probed const& p, std::string const& name) {
    Json const doc = Json::parse(p.json);
    for (Json const& m : doc["mechanisms"])
        if (m["name"] == name)
            return m;
    FAIL("no row " << name);
    return {};
}

std::string const sender = "sender@contoso.test";

} // namespace

TEST_CASE("microsoft365: AUTH LOGIN XOAUTH2 only after STARTTLS, Exchange's banner and replies",
          "[engine][profiles]") {
    Emulated e = Emulated::sample("microsoft365");
    Probed const p = probe(e.options());
    ServerFacts const& s = p.report.server;
    REQUIRE(s.before_tls);
    REQUIRE(s.after_tls);
    CHECK(s.before_tls->auth.empty());
    CHECK(s.after_tls->auth == std::vector<std::string>{"LOGIN", "XOAUTH2"});
    CHECK(s.banner->wire().find(".outlook.office365.com Microsoft ESMTP MAIL Service ready") !=
          std::string::npos);
    CHECK(row(p.report, "PLAIN").recognition.reply->wire() ==
          "504 5.7.4 Unrecognized authentication type");
    CHECK(row(p.report, "XOAUTH2").recognition.status == Status::recognised);
    CHECK(has_finding(p.verdict, "auth.only_after_starttls"));
}

TEST_CASE("microsoft365: tokens judged as Exchange Online judges them", "[engine][profiles]") {
    Emulated e = Emulated::sample("microsoft365");
    auto xoauth2 = [&](std::string const& user, std::string const& token_file) {
        std::string const token = sample_token(token_file);
        Probed p = probe(with(e, token_of(user, token), {"XOAUTH2"}));
        require_no_secret(p, token);
        return p;
    };

    SECTION("a valid delegated token: 235") {
        Probed const p = xoauth2(sender, "m365-delegated.jwt");
        CHECK(auth_verdict(row(p.report, "XOAUTH2")) == AuthVerdict::accepted);
    }
    SECTION("a Graph token: the audience named before the connection, then 535 5.7.3") {
        Probed const p = xoauth2(sender, "m365-graph.jwt");
        MechanismRow const& m = row(p.report, "XOAUTH2");
        CHECK(auth_verdict(m) == AuthVerdict::token_refused);
        CHECK(m.authentication.reply->code == 535);
        CHECK(m.authentication.reply->enhanced() == "5.7.3");
        CHECK_FALSE(m.authentication.oauth_error); // Exchange sends no error challenge
        CHECK(has_finding(p.verdict, "oauth.wrong_audience"));
        Finding const& f = finding(p.verdict, "oauth.token_refused");
        CHECK(f.detail.find("not Microsoft Graph") != std::string::npos);
        CHECK(p.text.find("token refused        535 5.7.3 Authentication unsuccessful") !=
              std::string::npos);
        CHECK(row_json(p, "XOAUTH2")["authentication"]["verdict"] == "token_refused");
        CHECK_FALSE(row_json(p, "XOAUTH2")["authentication"].contains("oauth_error"));
    }
    SECTION("an expired token: the expiry named, and 535 5.7.3") {
        Probed const p = xoauth2(sender, "m365-expired.jwt");
        CHECK(auth_verdict(row(p.report, "XOAUTH2")) == AuthVerdict::token_refused);
        CHECK(finding(p.verdict, "oauth.token_expired").title.find("expired") != std::string::npos);
    }
    SECTION("a token without SMTP.Send, another user's, one not yet valid: 535 5.7.3") {
        for (std::string const file : {"m365-no-smtp-send.jwt", "m365-other-user.jwt",
                                       "m365-not-yet-valid.jwt", "m365-app-only-no-role.jwt"}) {
            CAPTURE(file);
            Probed const p = xoauth2(sender, file);
            CHECK(row(p.report, "XOAUTH2").authentication.reply->enhanced() == "5.7.3");
        }
    }
    SECTION("an app-only token: the mailbox must be one the application may use") {
        CHECK(auth_verdict(row(xoauth2(sender, "m365-app-only.jwt").report, "XOAUTH2")) ==
              AuthVerdict::accepted);
        CHECK(auth_verdict(row(xoauth2("stranger@contoso.test", "m365-app-only.jwt").report,
                               "XOAUTH2")) == AuthVerdict::token_refused);
    }
}

TEST_CASE("microsoft365: the emulator's clock decides expiry", "[engine][profiles]") {
    emulator::ServerOptions options;
    options.clock = [] { return std::int64_t{4'102'444'800 + 60}; }; // after the token's exp
    Emulated e(emulator::load_profile(source_path("samples/servers/microsoft365.json")), options);
    // Even the account's own token is judged by its claims: expired on this clock.
    for (std::string const file : {"m365-delegated.jwt", "m365-app-only.jwt"}) {
        CAPTURE(file);
        Probed const p = probe(with(e, token_of(sender, sample_token(file)), {"XOAUTH2"}));
        CHECK(auth_verdict(row(p.report, "XOAUTH2")) == AuthVerdict::token_refused);
    }
}

TEST_CASE("microsoft365: a password past the Basic-auth cut-off gets 550 5.7.30, classified",
          "[engine][profiles]") {
    Emulated e = Emulated::sample("microsoft365");
    Probed const p = probe(with(e, password_of(sender, "any-password-at-all-1")));
    MechanismRow const& login = row(p.report, "LOGIN");
    CHECK(login.authentication.reply->wire() ==
          "550 5.7.30 Basic authentication is not supported for Client Submission.");
    CHECK(auth_verdict(login) == AuthVerdict::credentials_refused);
    Finding const& f = finding(p.verdict, "auth.basic_auth_retired");
    CHECK(f.title.find("move to OAuth (XOAUTH2)") != std::string::npos);
    CHECK(f.detail.find("https://outlook.office.com/SMTP.Send") != std::string::npos);
    CHECK_FALSE(has_finding(p.verdict, "auth.credentials_rejected"));
    require_no_secret(p, "any-password-at-all-1");
}

TEST_CASE("microsoft365: 535 5.7.139 for a mailbox and a tenant, with the administrator's fix",
          "[engine][profiles]") {
    Emulated e = Emulated::sample("microsoft365");
    SECTION("the mailbox, with its password") {
        Probed const p = probe(with(e, password_of("no-smtp-auth@contoso.test",
                                                   "m365-mailbox-disabled-password-not-real")));
        CHECK(row(p.report, "LOGIN").authentication.reply->enhanced() == "5.7.139");
        Finding const& f = finding(p.verdict, "auth.smtp_auth_disabled");
        CHECK(f.title == "SMTP AUTH is disabled for this mailbox (LOGIN)");
        CHECK(f.detail.find("Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled "
                            "$false") != std::string::npos);
        CHECK_FALSE(has_finding(p.verdict, "auth.credentials_rejected"));
        CHECK_FALSE(has_finding(p.verdict, "auth.basic_auth_retired"));
    }
    SECTION("the tenant, with an app-only token naming the mailbox") {
        Probed const p = probe(with(
            e, token_of("sender@fabrikam.test", sample_token("m365-app-only.jwt")), {"XOAUTH2"}));
        Finding const& f = finding(p.verdict, "auth.smtp_auth_disabled");
        CHECK(f.title == "SMTP AUTH is disabled for this tenant (XOAUTH2)");
        CHECK(f.detail.find("Set-TransportConfig -SmtpClientAuthenticationDisabled $false") !=
              std::string::npos);
        CHECK_FALSE(has_finding(p.verdict, "oauth.token_refused"));
    }
    SECTION("security defaults") {
        Probed const p = probe(with(
            e, password_of("locked@contoso.test", "m365-security-defaults-password-not-real")));
        CHECK(finding(p.verdict, "auth.smtp_auth_disabled").title ==
              "The sign-in is blocked by the organisation's security defaults (LOGIN)");
    }
    SECTION("a wrong password for that mailbox is still past the cut-off") {
        Probed const p =
            probe(with(e, password_of("no-smtp-auth@contoso.test", "wrong-password-123")));
        CHECK(row(p.report, "LOGIN").authentication.reply->enhanced() == "5.7.30");
    }
}

TEST_CASE("gmail: its EHLO, PLAIN-CLIENTTOKEN and XOAUTH recognised, its gsmtp replies",
          "[engine][profiles]") {
    Emulated e = Emulated::sample("gmail");
    Probed const p = probe(e.options());
    REQUIRE(p.report.server.after_tls);
    CHECK(p.report.server.after_tls->auth == std::vector<std::string>{"LOGIN", "PLAIN", "XOAUTH2",
                                                                      "PLAIN-CLIENTTOKEN",
                                                                      "OAUTHBEARER", "XOAUTH"});
    for (std::string const name : {"PLAIN-CLIENTTOKEN", "XOAUTH"}) {
        MechanismRow const& m = row(p.report, name);
        CHECK(m.catalogue); // a recognised name, though smtpprobe cannot run it
        CHECK_FALSE(m.implemented);
        CHECK(m.recognition.status == Status::recognised);
    }
    CHECK(p.report.server.banner->wire().ends_with(" - gsmtp"));
}

TEST_CASE("gmail: a refused token gets the JSON error challenge, decoded, then 535-5.7.8",
          "[engine][profiles]") {
    Emulated e = Emulated::sample("gmail");
    SECTION("not a Google token: status 400") {
        Probed const p = probe(with(e, token_of("user@gmail.test", "not-a-google-token-456"),
                                    {"XOAUTH2", "OAUTHBEARER"}));
        for (std::string const name : {"XOAUTH2", "OAUTHBEARER"}) {
            CAPTURE(name);
            MechanismRow const& m = row(p.report, name);
            CHECK(auth_verdict(m) == AuthVerdict::token_refused);
            REQUIRE(m.authentication.oauth_error);
            sasl::OAuthError const& err = *m.authentication.oauth_error;
            CHECK(err.form == sasl::OAuthError::Form::json);
            CHECK(err.status == "400");
            CHECK(err.schemes == "Bearer");
            CHECK(err.scope == "https://mail.google.com/");
            CHECK(m.authentication.reply->code == 535);
            CHECK(m.authentication.reply->enhanced() == "5.7.8");
            Json const a = row_json(p, name)["authentication"];
            CHECK(a["verdict"] == "token_refused");
            CHECK(a["oauth_error"]["status"] == "400");
            CHECK(a["oauth_error"]["scope"] == "https://mail.google.com/");
        }
        CHECK(p.text.find("error challenge: status 400, schemes Bearer, scope "
                          "https://mail.google.com/") != std::string::npos);
        CHECK(finding(p.verdict, "oauth.token_refused").title ==
              "The server refused the OAuth token with XOAUTH2 and OAUTHBEARER");
        // The client's acknowledgements (RFC 7628 §3.2.3 for OAUTHBEARER: 0x01, AQ==).
        CHECK(p.transcript.find("AQ==") != std::string::npos);
        require_no_secret(p, "not-a-google-token-456");
    }
    SECTION("a Google token the service does not know (expired or revoked): status 401") {
        std::string const token = "ya29.a0AfB_revoked-token-not-real-7";
        Probed const p = probe(with(e, token_of("user@gmail.test", token), {"XOAUTH2"}));
        CHECK(row(p.report, "XOAUTH2").authentication.oauth_error->status == "401");
        require_no_secret(p, token);
    }
    SECTION("its account's token: 235") {
        Probed const p =
            probe(with(e, token_of("user@gmail.test", sample_token("google-opaque.txt")),
                       {"XOAUTH2", "OAUTHBEARER"}));
        CHECK(auth_verdict(row(p.report, "XOAUTH2")) == AuthVerdict::accepted);
        CHECK(auth_verdict(row(p.report, "OAUTHBEARER")) == AuthVerdict::accepted);
    }
}

TEST_CASE("gmail: 534-5.7.9 and 534-5.7.14 named, the app password accepted",
          "[engine][profiles]") {
    Emulated e = Emulated::sample("gmail");
    SECTION("the normal password of a 2-step account") {
        Probed const p =
            probe(with(e, password_of("user@gmail.test", "gmail-normal-password-not-real")));
        CHECK(row(p.report, "PLAIN").authentication.reply->code == 534);
        Finding const& f = finding(p.verdict, "auth.app_password_required");
        CHECK(f.title == "Google wants an app password: the account has 2-step verification "
                         "(PLAIN and LOGIN)");
        CHECK_FALSE(has_finding(p.verdict, "auth.credentials_not_tried"));
    }
    SECTION("its app password") {
        Probed const p = probe(with(e, password_of("user@gmail.test", "gmailapppasswordx")));
        CHECK(auth_verdict(row(p.report, "PLAIN")) == AuthVerdict::accepted);
        CHECK(auth_verdict(row(p.report, "LOGIN")) == AuthVerdict::accepted);
    }
    SECTION("a blocked sign-in") {
        Probed const p =
            probe(with(e, password_of("blocked@gmail.test", "gmail-blocked-password-not-real")));
        CHECK(has_finding(p.verdict, "auth.web_login_required"));
    }
    SECTION("a wrong password: 535-5.7.8, credentials refused") {
        Probed const p = probe(with(e, password_of("user@gmail.test", "wrong-password-123")));
        MechanismRow const& m = row(p.report, "LOGIN");
        CHECK(auth_verdict(m) == AuthVerdict::credentials_refused);
        CHECK(m.authentication.reply->lines.size() == 2);
        CHECK(has_finding(p.verdict, "auth.credentials_rejected"));
    }
}
