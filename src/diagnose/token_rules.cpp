#include "diagnose/token_rules.hpp"

#include "diagnose/rule_set.hpp"
#include "report/words.hpp"
#include "smtp/ascii.hpp"

#include <algorithm>

namespace smtpprobe::diagnose {
namespace {

using sasl::TokenClaims;
using sasl::TokenKind;

/// "2100-01-01 00:00:00 UTC (in 73 years)" against the preflight's clock.
std::string when(std::int64_t time, std::int64_t now) {
    return utc_time(time) + " (" + relative_time(time - now) + ")";
}

std::string audiences(TokenClaims const& c) {
    return c.aud.empty() ? std::string("none") : join(c.aud, ", ");
}

class TokenRules : RuleSet {
public:
    TokenRules(Report const& report, std::vector<Finding>& out)
        : RuleSet(report, out), p_(*report.token), microsoft_(exchange_online_target(report)) {}

    void run() {
        sasl::BearerToken const& t = p_.token;
        switch (t.kind) {
        case TokenKind::google_opaque:
            opaque_google();
            return;
        case TokenKind::jwe:
            add("oauth.token_encrypted", Severity::info, "The token is encrypted (JWE)",
                "A five-part token is a JSON Web Encryption object: only its audience can "
                "decrypt it, so its claims cannot be checked offline. The server checks it.",
                {"alg " + t.alg + ", enc " + t.enc});
            return;
        case TokenKind::not_jwt:
            not_jwt();
            return;
        case TokenKind::jwt:
            break;
        }
        if (!t.claims) {
            add("oauth.token_unreadable", Severity::warning,
                "The token looks like a JWT but "
                "does not decode",
                "Its header decoded, but " + t.error +
                    ". A token damaged on the way (cut short, wrapped, quoted) looks like "
                    "this; check how it is copied into the variable, file or command output.");
            return;
        }
        TokenClaims const& c = *t.claims;
        if (!c.problems.empty())
            add("oauth.token_claims_malformed", Severity::warning,
                "Some of the token's claims have an unexpected type",
                "RFC 7519 §4.1 gives each registered claim a type; these are ignored here, "
                "and the server may refuse the token for them.",
                c.problems);
        dates(c);
        user(c);
        if (microsoft_ || sasl::microsoft_issuer(c.iss))
            microsoft(c);
    }

private:
    void opaque_google() {
        add("oauth.token_opaque", Severity::info, "Google access token: cannot be read offline",
            "Google's access tokens (ya29.) are opaque, not JWTs: their audience, scopes and "
            "expiry cannot be checked here; Google checks them. To see them, ask Google's "
            "tokeninfo endpoint (https://oauth2.googleapis.com/tokeninfo?access_token=...); "
            "SMTP needs the scope https://mail.google.com/ (smtp-facts §7).");
        if (microsoft_)
            add("oauth.wrong_provider", Severity::error,
                "A Google access token sent to Exchange Online",
                "Exchange Online accepts only tokens its identity platform (Microsoft Entra ID) "
                "issued for it; a Google token is refused (535 5.7.3). Get a token from "
                "Microsoft (scope https://outlook.office.com/SMTP.Send).");
    }

    void not_jwt() {
        sasl::BearerToken const& t = p_.token;
        std::vector<std::string> evidence{std::to_string(t.length) + " bytes"};
        if (!t.error.empty())
            evidence.push_back(t.error);
        add("oauth.not_jwt", Severity::info, "The token is not a JWT: cannot be read offline",
            "Only a JSON Web Token (three base64url parts) carries claims a client can read; "
            "this one is opaque (or not a token at all), so only its issuer can check it. "
            "Microsoft 365 work and school tokens are JWTs; Outlook.com personal-account tokens "
            "and Google's are opaque.",
            evidence);
    }

    void dates(TokenClaims const& c) {
        std::int64_t const now = p_.checked_at;
        if (c.expired(now))
            add("oauth.token_expired", Severity::error,
                "The token expired " + relative_time(*c.exp - now),
                "Its exp claim is " + utc_time(*c.exp) + "; the local clock says " + utc_time(now) +
                    ". Every server refuses an expired token (RFC 6750 §3.1: invalid_token). "
                    "Fetch a new one (access tokens from Microsoft live about an hour; a "
                    "refresh token or --oauth-token-cmd gets a fresh one for each run). If the "
                    "token is new, check this machine's clock.",
                {"exp: " + when(*c.exp, now), "now: " + utc_time(now)});
        if (c.not_yet_valid(now))
            add("oauth.token_not_yet_valid", Severity::error,
                "The token is not valid yet (" + relative_time(*c.nbf - now) + ")",
                "Its nbf (not before) claim is " + utc_time(*c.nbf) + "; the local clock says " +
                    utc_time(now) +
                    ". The server refuses it until then. A token just issued that is not valid "
                    "yet means this machine's clock (or the issuer's) is wrong: check NTP.",
                {"nbf: " + when(*c.nbf, now), "now: " + utc_time(now)});
    }

    void user(TokenClaims const& c) {
        if (c.app_only() || !p_.user_matches || *p_.user_matches)
            return;
        add("oauth.token_user_mismatch", Severity::error,
            "The token belongs to another user than --user",
            "A delegated token is the signed-in user's: the server compares the user name sent "
            "with the token (XOAUTH2 user=, OAUTHBEARER a=) with the token's own (" +
                p_.user_claim +
                " claim) and refuses a mismatch. Use the token's user as --user, or get a token "
                "signed in as --user." +
                (microsoft_ ? std::string(" Exchange Online refuses it with 535 5.7.3.") : ""),
            {"token user (" + p_.user_claim + "): " + p_.user_shown, "--user: " + r_.user_shown});
    }

    void microsoft(TokenClaims const& c) {
        bool const exchange = std::any_of(c.aud.begin(), c.aud.end(), [](std::string const& a) {
            return sasl::exchange_online_audience(a);
        });
        bool const graph = std::any_of(c.aud.begin(), c.aud.end(), [](std::string const& a) {
            return sasl::graph_audience(a);
        });
        bool const app = c.app_only();
        if (!exchange)
            add("oauth.wrong_audience", Severity::error,
                graph ? "The token is for Microsoft Graph, not Exchange Online"
                      : "The token is not for Exchange Online",
                "Its audience (aud) is " + audiences(c) + (graph ? " (Microsoft Graph)" : "") +
                    ". Exchange Online takes for SMTP AUTH only a token issued for Exchange "
                    "Online (aud https://outlook.office.com): request the scope " +
                    (app ? std::string("https://outlook.office365.com/.default (client "
                                       "credentials)")
                         : std::string("https://outlook.office.com/SMTP.Send")) +
                    ", not a Graph scope such as https://graph.microsoft.com/Mail.Send. The "
                    "server answers 535 5.7.3 Authentication unsuccessful (smtp-facts §7).",
                {"aud: " + audiences(c)});
        if (!app && !c.has_scope(sasl::smtp_send_scope))
            add("oauth.missing_scope", Severity::error,
                "The delegated token lacks the SMTP.Send permission",
                "A delegated (user) token for SMTP AUTH needs SMTP.Send in its scp claim. Add "
                "the delegated permission SMTP.Send of Office 365 Exchange Online to the "
                "application (API permissions), have it consented, and request the scope "
                "https://outlook.office.com/SMTP.Send (smtp-facts §7).",
                {"scp: " + (c.scp.empty() ? std::string("none") : join(c.scp, " "))});
        if (app && !c.has_role(sasl::smtp_send_as_app_role))
            add("oauth.missing_role", Severity::error,
                "The app-only token lacks the SMTP.SendAsApp role",
                "An app-only (client credentials) token for SMTP AUTH needs the application "
                "permission SMTP.SendAsApp of Office 365 Exchange Online in its roles claim. "
                "Add it to the application (API permissions, Application permissions), grant "
                "admin consent, and request a new token with the scope "
                "https://outlook.office365.com/.default (smtp-facts §7).",
                {"roles: " + (c.roles.empty() ? std::string("none") : join(c.roles, ", "))});
        if (app)
            add("oauth.app_only_mailbox", Severity::info,
                "App-only token: --user must be the mailbox, granted to the application",
                "An app-only token names no user: Exchange Online takes the mailbox from the "
                "user name sent with it (XOAUTH2 user=, here --user " +
                    r_.user_shown +
                    "). That mailbox must be granted to the application's service principal in "
                    "Exchange Online (New-ServicePrincipal, then Add-MailboxPermission with "
                    "FullAccess, or Add-RecipientPermission for SendAs), or the server answers "
                    "535 5.7.3 (smtp-facts §7).");
    }

    TokenPreflight const& p_;
    bool microsoft_;
};

} // namespace

bool exchange_online_target(Report const& report) {
    for (std::string const* name : {&report.host, &report.server_name}) {
        std::string const host = smtp::to_lower(*name);
        if (host == "smtp.office365.com" || host == "smtp-legacy.office365.com" ||
            host == "outlook.office365.com")
            return true;
    }
    if (!report.server.banner)
        return false;
    std::string const banner = report.server.banner->wire();
    return smtp::icontains(banner, ".outlook.office365.com") ||
           smtp::icontains(banner, ".prod.outlook.com");
}

void token_findings(Report const& report, std::vector<Finding>& out) {
    if (report.token)
        TokenRules(report, out).run();
}

} // namespace smtpprobe::diagnose
