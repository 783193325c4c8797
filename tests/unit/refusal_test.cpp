// Provider refusals and refused tokens on hand-built Reports: the finding each becomes
// (diagnose/refusal_rules.hpp), the token_refused verdict, and the decoded error challenge in
// the text matrix and in JSON, escaped for each.

#include "diagnose/evaluate.hpp"
#include "render/render.hpp"
#include "report/auth_verdict.hpp"
#include "sasl/oauth_error.hpp"
#include "smtp/base64.hpp"
#include "unit/sample_reports.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

namespace {

/// The seed case with credentials: `name` tried and answered `final`, with `status`.
Report refused_with(std::string const& name, smtp::Reply final, Status status = Status::rejected) {
    Report r = seed_report();
    r.credentials_given = true;
    r.user_shown = "user@example.test";
    MechanismRow m = mechanism(name, Status::recognised, reply(334, {""}));
    m.advertised_after_tls = true;
    m.authentication.status = status;
    m.authentication.reply = std::move(final);
    r.rows.push_back(m);
    return r;
}

Report token_refused_with(std::string const& challenge_json, smtp::Reply final) {
    Report r = refused_with("XOAUTH2", std::move(final));
    r.rows.back().authentication.oauth_error =
        sasl::decode_oauth_error(smtp::base64_encode(challenge_json));
    return r;
}

Verdict verdict_of(Report const& r) {
    return evaluate(r, Expectations{});
}

} // namespace

TEST_CASE("refusals: 550 5.7.30 is Basic authentication retired, with the move to XOAUTH2",
          "[unit][refusal]") {
    Report const r = refused_with(
        "LOGIN",
        reply(550, {"5.7.30 Basic authentication is not supported for Client Submission."}));
    Verdict const v = verdict_of(r);
    Finding const* f = find_finding(v, "auth.basic_auth_retired");
    REQUIRE(f != nullptr);
    CHECK(f->severity == Severity::error);
    CHECK(contains(f->title, "move to OAuth (XOAUTH2)"));
    CHECK(contains(f->detail, "SMTP.Send"));
    CHECK(contains(f->detail, "SMTP.SendAsApp"));
    REQUIRE(f->evidence.size() == 1);
    CHECK(contains(f->evidence[0], "AUTH LOGIN: 550 5.7.30"));
    // Not a wrong password: the generic finding stays away.
    CHECK(find_finding(v, "auth.credentials_rejected") == nullptr);
    // 5.7.30 without Microsoft's words is the registry's REQUIRETLS code: not classified.
    Report const other = refused_with("LOGIN", reply(550, {"5.7.30 REQUIRETLS support required"}));
    CHECK(find_finding(verdict_of(other), "auth.basic_auth_retired") == nullptr);
    CHECK(find_finding(verdict_of(other), "auth.credentials_rejected") != nullptr);
}

TEST_CASE("refusals: every published 535 5.7.139 wording is named with its fix",
          "[unit][refusal]") {
    struct Case {
        std::string text;
        std::string title;
        std::string fix;
    };
    std::vector<Case> const cases = {
        {"5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
         "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [X.outlook.com]",
         "SMTP AUTH is disabled for this tenant", "Set-TransportConfig"},
        {"5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
         "Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
         "SMTP AUTH is disabled for this mailbox", "Set-CASMailbox"},
        {"5.7.139 Authentication unsuccessful, basic authentication is disabled.",
         "Basic authentication is disabled", "XOAUTH2"},
        {"5.7.139 Authentication unsuccessful, user is locked by your organization's security "
         "defaults policy. Contact your administrator.",
         "security defaults", "security defaults"},
        {"5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
         "authenticated successfully. Contact your administrator.",
         "A sign-in policy blocked the sign-in", "sign-in log"},
        {"5.7.139 Authentication unsuccessful, federated STS service was unreachable.",
         "federation server", "TLS 1.2"},
        {"5.7.139 Authentication unsuccessful, something new", "(5.7.139)", "Set-CASMailbox"},
    };
    for (Case const& c : cases) {
        CAPTURE(c.text);
        for (std::string const mechanism : {"LOGIN", "XOAUTH2"}) {
            CAPTURE(mechanism);
            Report const r = refused_with(mechanism, reply(535, {c.text}));
            Verdict const v = verdict_of(r);
            Finding const* f = find_finding(v, "auth.smtp_auth_disabled");
            REQUIRE(f != nullptr);
            CHECK(contains(f->title, c.title));
            CHECK(contains(f->title, mechanism));
            CHECK(contains(f->detail, c.fix));
            CHECK(find_finding(v, "auth.credentials_rejected") == nullptr);
            CHECK(find_finding(v, "oauth.token_refused") == nullptr);
        }
    }
}

TEST_CASE("refusals: Gmail's 534 5.7.9 and 534 5.7.14", "[unit][refusal]") {
    Report const app = refused_with(
        "PLAIN",
        reply(534, {"5.7.9 Application-specific password required. For more information, go to",
                    "5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor x - gsmtp"}),
        Status::refused);
    Verdict const va = verdict_of(app);
    Finding const* f = find_finding(va, "auth.app_password_required");
    REQUIRE(f != nullptr);
    CHECK(contains(f->title, "app password"));
    CHECK(contains(f->detail, "2-step verification"));
    CHECK(find_finding(va, "auth.credentials_not_tried") == nullptr);

    Report const web = refused_with(
        "LOGIN",
        reply(534, {"5.7.14 <https://accounts.google.com/signin/continue?sarp=1> Please log in "
                    "via your web browser and",
                    "5.7.14 then try again.",
                    "5.7.14  https://support.google.com/mail/answer/78754 x - gsmtp"}),
        Status::refused);
    Verdict const vw = verdict_of(web); // the finding points into it
    Finding const* w = find_finding(vw, "auth.web_login_required");
    REQUIRE(w != nullptr);
    CHECK(contains(w->title, "web browser"));
    CHECK(find_finding(verdict_of(web), "auth.app_password_required") == nullptr);

    // RFC 4954's own 534 5.7.9 ("mechanism too weak") is not Google's.
    Report const weak = refused_with(
        "PLAIN", reply(534, {"5.7.9 Authentication mechanism is too weak"}), Status::refused);
    CHECK(find_finding(verdict_of(weak), "auth.app_password_required") == nullptr);
}

TEST_CASE("refusals: a refused token is token_refused, with the decoded challenge named",
          "[unit][refusal]") {
    Report const r = token_refused_with(
        R"({"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"})",
        reply(535, {"5.7.8 Username and Password not accepted. For more information, go to",
                    "5.7.8  https://support.google.com/mail/?p=BadCredentials x - gsmtp"}));
    CHECK(auth_verdict(r.rows.back()) == AuthVerdict::token_refused);
    CHECK(to_string(AuthVerdict::token_refused) == "token_refused");
    Verdict const v = verdict_of(r);
    Finding const* f = find_finding(v, "oauth.token_refused");
    REQUIRE(f != nullptr);
    CHECK(f->title == "The server refused the OAuth token with XOAUTH2");
    CHECK(contains(f->detail, "status 400 (bad request"));
    CHECK(contains(f->detail, "scope https://mail.google.com/"));
    CHECK(contains(f->detail, "carries the scope https://mail.google.com/"));
    CHECK(find_finding(v, "auth.credentials_rejected") == nullptr);

    // Exchange Online: no challenge, 535 5.7.3 at once; the finding lists its causes.
    Report const ms = refused_with(
        "XOAUTH2", reply(535, {"5.7.3 Authentication unsuccessful [X.prod.outlook.com]"}));
    Verdict const vm = verdict_of(ms); // the finding points into it
    Finding const* m = find_finding(vm, "oauth.token_refused");
    REQUIRE(m != nullptr);
    CHECK(contains(m->detail, "535 5.7.3"));
    CHECK(contains(m->detail, "not Microsoft Graph"));
    CHECK(contains(m->detail, "SMTP.SendAsApp"));

    // A password mechanism keeps credentials_refused.
    Report const pw = refused_with("LOGIN", reply(535, {"5.7.3 Authentication unsuccessful"}));
    CHECK(auth_verdict(pw.rows.back()) == AuthVerdict::credentials_refused);
}

TEST_CASE("render: the error challenge in the text matrix, escaped", "[unit][refusal][render]") {
    Report const r = token_refused_with(
        "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"mail\\u001b[2J\"}",
        reply(535, {"5.7.8 Authentication failed."}));
    for (bool colour : {false, true}) {
        std::string const text = render_text(r, verdict_of(r), TextOptions{colour});
        CHECK(contains(text, "token refused"));
        CHECK(contains(text, "535 5.7.8 Authentication failed.; error challenge: status 401, "
                             "schemes bearer, scope mail\\x1B[2J"));
        CHECK_FALSE(contains(text, "\x1b[2J"));
    }
    Report const plain = refused_with("XOAUTH2", reply(535, {"5.7.8 failed"}));
    Report raw = plain;
    raw.rows.back().authentication.oauth_error =
        sasl::decode_oauth_error(smtp::base64_encode("not json\x07"));
    CHECK(contains(render_text(raw, verdict_of(raw)),
                   "error challenge (not JSON): \"not json\\x07\""));
    CHECK_FALSE(contains(render_text(plain, verdict_of(plain)), "error challenge"));
}

TEST_CASE("render: authentication.oauth_error in JSON", "[unit][refusal][render]") {
    Report const r = token_refused_with(
        R"({"status":"invalid_token","scope":"s\u0007","openid-configuration":"https://x/.well-known"})",
        reply(535, {"5.7.8 Authentication failed."}));
    std::string const text = render_json(r, verdict_of(r));
    CHECK_FALSE(contains(text, "\x07"));
    Json const doc = Json::parse(text);
    Json const* row = nullptr;
    for (Json const& m : doc["mechanisms"])
        if (m["name"] == "XOAUTH2")
            row = &m;
    REQUIRE(row != nullptr);
    Json const& a = (*row)["authentication"];
    CHECK(a["verdict"] == "token_refused");
    Json const& e = a["oauth_error"];
    CHECK(e["form"] == "json");
    CHECK(e["status"] == "invalid_token");
    CHECK(e["scope"] == "s\x07"); // escaped in the document, intact once parsed
    CHECK(e["openid_configuration"] == "https://x/.well-known");
    CHECK_FALSE(e.contains("schemes"));
    CHECK_FALSE(e.contains("truncated"));
    CHECK(e["text"].get<std::string>().starts_with("{\"status\""));

    // Invalid UTF-8 in a value does not break the document.
    Report const bad = token_refused_with("{\"status\":\"\xff\xfe\"}", reply(535, {"5.7.8 x"}));
    Json const parsed = Json::parse(render_json(bad, verdict_of(bad)));
    CHECK(parsed.dump().find("oauth_error") != std::string::npos);

    // No challenge: no key.
    Report const none = refused_with("XOAUTH2", reply(535, {"5.7.3 Authentication unsuccessful"}));
    Json const plain = Json::parse(render_json(none, verdict_of(none)));
    for (Json const& m : plain["mechanisms"])
        if (m["name"] == "XOAUTH2") {
            CHECK_FALSE(m["authentication"].contains("oauth_error"));
            CHECK(m["authentication"]["verdict"] == "token_refused");
        }
}

TEST_CASE("render: Exchange's X-EXPS names under the matrix and in JSON",
          "[unit][refusal][render]") {
    Report r = seed_report();
    r.server.after_tls->x_exps = {"GSSAPI", "NTLM\x1b[2J"};
    std::string const text = render_text(r, verdict_of(r));
    CHECK(
        contains(text, "  X-EXPS GSSAPI NTLM\\x1B[2J: Exchange's server-to-server authentication"));
    CHECK_FALSE(contains(text, "\x1b[2J"));
    Json const doc = Json::parse(render_json(r, verdict_of(r)));
    CHECK(doc["server"]["auth_mechanisms"]["x_exps"] == Json::array({"GSSAPI", "NTLM\x1b[2J"}));
    Report const plain = seed_report();
    CHECK_FALSE(contains(render_text(plain, verdict_of(plain)), "X-EXPS"));
}
