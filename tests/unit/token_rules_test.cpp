// The token preflight on hand-built Reports: the oauth.* rules (generic and Microsoft 365's),
// when Exchange Online is recognised, and the Token section, the JSON token object and the
// Nagios state for them. The tokens are those of samples/tokens/ (README.md there).

#include "diagnose/evaluate.hpp"
#include "diagnose/token_rules.hpp"
#include "render/render.hpp"
#include "report/words.hpp"
#include "smtp/base64.hpp"
#include "unit/sample_reports.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

constexpr std::int64_t now = 1'796'428'800; // 2026-12-05 00:00:00 UTC
std::string const sender = "sender@contoso.test";
std::string const hidden_sender = "<hidden: 19 characters; --show-username shows it>";

std::string token_file(std::string const& name) {
    std::ifstream in(std::string(SMTPPROBE_SOURCE_DIR) + "/samples/tokens/" + name);
    std::string line;
    std::getline(in, line);
    REQUIRE_FALSE(line.empty());
    return line;
}

/// The seed report of `host` with --user `user` and `token`, its preflight as probe() records
/// it (the user hidden, as without --show-username).
Report with_token(std::string const& token, std::string const& host = "smtp.office365.com",
                  std::string const& user = sender) {
    Report r = seed_report_with_credentials(reply(535, {"5.7.3 Authentication unsuccessful"}));
    r.host = r.server_name = host;
    r.token_given = true;
    r.user_shown =
        "<hidden: " + std::to_string(user.size()) + " characters; --show-username shows it>";
    TokenPreflight p;
    p.token = sasl::read_bearer_token(token);
    p.checked_at = now;
    if (p.token.claims)
        if (std::string const* u = p.token.claims->user()) {
            p.user_shown =
                "<hidden: " + std::to_string(u->size()) + " characters; --show-username shows it>";
            p.user_claim = "upn";
            p.user_matches = *u == user;
        }
    r.token = p;
    return r;
}

std::set<std::string> oauth_ids(Verdict const& v) {
    std::set<std::string> ids;
    for (Finding const& f : v.findings)
        if (f.id.starts_with("oauth."))
            ids.insert(f.id);
    return ids;
}

Finding const& must_find(Verdict const& v, std::string const& id) {
    Finding const* f = find_finding(v, id);
    INFO(id);
    REQUIRE(f != nullptr);
    return *f;
}

/// A JWT with the given claims and a junk signature.
std::string jwt(std::string const& claims) {
    auto url = [](std::string const& bytes) {
        std::string t = smtp::base64_encode(bytes);
        while (!t.empty() && t.back() == '=')
            t.pop_back();
        for (char& c : t)
            c = c == '+' ? '-' : c == '/' ? '_' : c;
        return t;
    };
    return url(R"({"alg":"RS256","typ":"JWT"})") + "." + url(claims) + ".c2ln";
}

} // namespace

TEST_CASE("token rules: a valid delegated Microsoft 365 token has no oauth finding",
          "[unit][token]") {
    Verdict const v = evaluate(with_token(token_file("m365-delegated.jwt")), Expectations{});
    CHECK(oauth_ids(v).empty());
}

TEST_CASE("token rules: a Graph token names its audience and the missing SMTP.Send",
          "[unit][token]") {
    Verdict const v = evaluate(with_token(token_file("m365-graph.jwt")), Expectations{});
    CHECK(oauth_ids(v) == std::set<std::string>{"oauth.wrong_audience", "oauth.missing_scope"});
    Finding const& f = must_find(v, "oauth.wrong_audience");
    CHECK(f.severity == Severity::error);
    CHECK(f.title == "The token is for Microsoft Graph, not Exchange Online");
    CHECK(
        contains(f.detail, "Its audience (aud) is https://graph.microsoft.com (Microsoft Graph)"));
    CHECK(contains(f.detail, "https://outlook.office.com/SMTP.Send"));
    CHECK(f.evidence == std::vector<std::string>{"aud: https://graph.microsoft.com"});
    CHECK(must_find(v, "oauth.missing_scope").evidence ==
          std::vector<std::string>{"scp: Mail.Send User.Read"});
    CHECK(v.exit_code == exit_code::problems);
}

TEST_CASE("token rules: expired and not yet valid, with the times", "[unit][token]") {
    Verdict const expired = evaluate(with_token(token_file("m365-expired.jwt")), Expectations{});
    CHECK(oauth_ids(expired) == std::set<std::string>{"oauth.token_expired"});
    Finding const& f = must_find(expired, "oauth.token_expired");
    CHECK(f.severity == Severity::error);
    CHECK(f.title == "The token expired 368 days ago");
    CHECK(contains(f.detail, "Its exp claim is 2025-12-01 01:00:00 UTC; the local clock says "
                             "2026-12-05 00:00:00 UTC"));
    CHECK(f.evidence.front() == "exp: 2025-12-01 01:00:00 UTC (368 days ago)");

    Verdict const early =
        evaluate(with_token(token_file("m365-not-yet-valid.jwt")), Expectations{});
    CHECK(oauth_ids(early) == std::set<std::string>{"oauth.token_not_yet_valid"});
    CHECK(must_find(early, "oauth.token_not_yet_valid").evidence.front() ==
          "nbf: 2099-12-31 00:00:00 UTC (in 73 years)");
}

TEST_CASE("token rules: the nagios state of an expired token is at least WARNING",
          "[unit][token][nagios]") {
    Expectations x;
    x.nagios = true;
    Report r = with_token(token_file("m365-expired.jwt"));
    Verdict const v = evaluate(r, x);
    CHECK(nagios_state(v.checks) != CheckState::ok);
    std::string const out = render(Format::nagios, r, v);
    CHECK(contains(out, "The token expired 368 days ago"));
}

TEST_CASE("token rules: delegated token without SMTP.Send; another user's token", "[unit][token]") {
    Verdict const scope = evaluate(with_token(token_file("m365-no-smtp-send.jwt")), {});
    CHECK(oauth_ids(scope) == std::set<std::string>{"oauth.missing_scope"});

    Verdict const other = evaluate(with_token(token_file("m365-other-user.jwt")), {});
    CHECK(oauth_ids(other) == std::set<std::string>{"oauth.token_user_mismatch"});
    Finding const& f = must_find(other, "oauth.token_user_mismatch");
    CHECK(f.severity == Severity::error);
    CHECK(contains(f.detail, "Exchange Online refuses it with 535 5.7.3"));
    // Both users as the report shows them: hidden.
    CHECK(f.evidence == std::vector<std::string>{
                            "token user (upn): <hidden: 25 characters; --show-username shows it>",
                            "--user: " + hidden_sender});
}

TEST_CASE("token rules: app-only tokens need SMTP.SendAsApp, and --user is the mailbox",
          "[unit][token]") {
    Verdict const ok = evaluate(with_token(token_file("m365-app-only.jwt")), {});
    CHECK(oauth_ids(ok) == std::set<std::string>{"oauth.app_only_mailbox"});
    Finding const& mailbox = must_find(ok, "oauth.app_only_mailbox");
    CHECK(mailbox.severity == Severity::info);
    CHECK(contains(mailbox.detail, "granted to the application's service principal"));
    CHECK(contains(mailbox.detail, "--user " + hidden_sender));

    Verdict const no_role = evaluate(with_token(token_file("m365-app-only-no-role.jwt")), {});
    CHECK(oauth_ids(no_role) ==
          std::set<std::string>{"oauth.missing_role", "oauth.app_only_mailbox"});
    CHECK(must_find(no_role, "oauth.missing_role").evidence ==
          std::vector<std::string>{"roles: Mail.Send"});
}

TEST_CASE("token rules: Google's opaque tokens, other tokens, JWE", "[unit][token]") {
    Verdict const google =
        evaluate(with_token(token_file("google-opaque.txt"), "smtp.gmail.com"), {});
    CHECK(oauth_ids(google) == std::set<std::string>{"oauth.token_opaque"});
    CHECK(must_find(google, "oauth.token_opaque").title ==
          "Google access token: cannot be read offline");
    // The same token sent to Exchange Online is the wrong provider's.
    CHECK(oauth_ids(evaluate(with_token(token_file("google-opaque.txt")), {})) ==
          std::set<std::string>{"oauth.token_opaque", "oauth.wrong_provider"});

    Verdict const opaque = evaluate(with_token("EwBAAl3BAAUFFpUAo7J3Ve0bjLBW"), {});
    CHECK(oauth_ids(opaque) == std::set<std::string>{"oauth.not_jwt"});
    CHECK(must_find(opaque, "oauth.not_jwt").severity == Severity::info);

    Verdict const jwe =
        evaluate(with_token("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Yw.dA"), {});
    CHECK(oauth_ids(jwe) == std::set<std::string>{"oauth.token_encrypted"});

    Verdict const broken = evaluate(with_token("eyJhbGciOiJub25lIn0.bm90IGpzb24.x"), {});
    CHECK(oauth_ids(broken) == std::set<std::string>{"oauth.token_unreadable"});
    CHECK(contains(must_find(broken, "oauth.token_unreadable").detail,
                   "the claims part is not JSON"));
}

TEST_CASE("token rules: Microsoft's rules by host, by issuer or by Exchange Online's banner",
          "[unit][token]") {
    // A token of another issuer, without SMTP.Send, for another audience.
    std::string const other =
        jwt(R"({"aud":"smtp","iss":"https://idp.example.test",)"
            R"("exp":4102444800,"preferred_username":"sender@contoso.test"})");
    CHECK(oauth_ids(evaluate(with_token(other, "mail.example.test"), {})).empty());
    CHECK(oauth_ids(evaluate(with_token(other, "smtp-legacy.office365.com"), {})) ==
          std::set<std::string>{"oauth.wrong_audience", "oauth.missing_scope"});
    Report banner = with_token(other, "127.0.0.1");
    banner.server.banner = reply(220, {"AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL "
                                       "Service ready at Sat, 5 Dec 2026 00:00:00 +0000"});
    CHECK(diagnose::exchange_online_target(banner));
    CHECK(oauth_ids(evaluate(banner, {})).count("oauth.wrong_audience") == 1);
    // A Microsoft issuer is enough on any host (the --demo emulator on 127.0.0.1).
    CHECK(oauth_ids(evaluate(with_token(token_file("m365-graph.jwt"), "127.0.0.1"), {})) ==
          std::set<std::string>{"oauth.wrong_audience", "oauth.missing_scope"});
    // Generic rules hold everywhere: another user's token on any server.
    std::string const mine = jwt(R"({"iss":"https://idp.example.test","upn":"x@example.test"})");
    CHECK(oauth_ids(evaluate(with_token(mine, "mail.example.test"), {})) ==
          std::set<std::string>{"oauth.token_user_mismatch"});
}

TEST_CASE("token section: the claims, the dates against the clock, never the token or the user",
          "[unit][token][render]") {
    std::string const token = token_file("m365-delegated.jwt");
    Report const r = with_token(token);
    Verdict const v = evaluate(r, {});
    std::string const text = render(Format::text, r, v);
    CHECK(contains(text, "Token\n"));
    CHECK(contains(text, "signature not checked"));
    CHECK(contains(text, "Audience     https://outlook.office.com (Exchange Online)"));
    CHECK(contains(text, "Type         delegated (a user's token)"));
    CHECK(contains(text, "Scopes       SMTP.Send"));
    CHECK(contains(text, "User         " + hidden_sender + " (upn), the same as --user"));
    CHECK(contains(text, "Application  3f1b8a52-7d4e-4c1a-9b60-5e2f0c7d1a11 (appid)"));
    CHECK(contains(text, "Expires      2100-01-01 00:00:00 UTC (in 73 years)"));
    CHECK(contains(text, "Clock        local, 2026-12-05 00:00:00 UTC"));

    nlohmann::json const doc = nlohmann::json::parse(render(Format::json, r, v));
    nlohmann::json const& t = doc["token"];
    CHECK(t["kind"] == "jwt");
    CHECK(t["signature_checked"] == false);
    CHECK(t["header"]["alg"] == "RS256");
    CHECK(t["claims"]["aud"] == nlohmann::json::array({"https://outlook.office.com"}));
    CHECK(t["claims"]["scp"] == nlohmann::json::array({"SMTP.Send"}));
    CHECK(t["claims"]["exp"] == 4102444800);
    CHECK(t["audience"] == "exchange_online");
    CHECK(t["app_only"] == false);
    CHECK(t["user"] == hidden_sender);
    CHECK(t["user_matches"] == true);
    CHECK(t["expired"] == false);
    CHECK(t["expires_in_s"] == 4102444800 - now);
    CHECK(doc["credentials"]["token_given"] == true);

    std::string const line = render(Format::ndjson, r, v);
    CHECK(nlohmann::json::parse(line)["token"] == t);
    for (Format f : {Format::text, Format::json, Format::ndjson, Format::nagios}) {
        std::string const out = render(f, r, v);
        CHECK_FALSE(contains(out, token));
        CHECK_FALSE(contains(out, sender)); // upn and unique_name are never rendered raw
    }
}

TEST_CASE("token section: opaque, not a JWT, and no token at all", "[unit][token][render]") {
    Report const google = with_token(token_file("google-opaque.txt"), "smtp.gmail.com");
    std::string const text = render(Format::text, google, evaluate(google, {}));
    CHECK(contains(text, "Kind         Google access token (ya29., 73 bytes): opaque, cannot be "
                         "read offline; Google checks\n               it"));
    nlohmann::json const doc =
        nlohmann::json::parse(render(Format::json, google, evaluate(google, {})));
    CHECK(doc["token"]["kind"] == "google_opaque");
    CHECK(doc["token"]["claims"].is_null());
    CHECK(doc["token"]["header"].is_null());

    Report const none = seed_report();
    CHECK_FALSE(contains(render(Format::text, none, evaluate(none, {})), "Token\n"));
    CHECK_FALSE(
        nlohmann::json::parse(render(Format::json, none, evaluate(none, {}))).contains("token"));
}

TEST_CASE("time words", "[unit][token]") {
    CHECK(utc_time(0) == "1970-01-01 00:00:00 UTC");
    CHECK(utc_time(4102444800) == "2100-01-01 00:00:00 UTC");
    CHECK(utc_time(999'999'999'999'999) == "999999999999999 (seconds since 1970)");
    CHECK(relative_time(0) == "now");
    CHECK(relative_time(-59) == "59 s ago");
    CHECK(relative_time(3600 + 120) == "in 1 h 2 min");
    CHECK(relative_time(-3 * 86400) == "3 days ago");
    CHECK(relative_time(3 * 365 * 86400) == "in 3 years");
}
