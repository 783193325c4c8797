#include "diagnose/refusal_rules.hpp"

#include "report/words.hpp"
#include "smtp/ascii.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace smtpprobe::diagnose {
namespace {

constexpr std::string_view smtp_auth_fix =
    "An Exchange Online administrator turns SMTP AUTH on: for the whole organisation with "
    "Set-TransportConfig -SmtpClientAuthenticationDisabled $false (Exchange admin center: "
    "Settings > Mail flow, clear \"Turn off SMTP AUTH protocol for your organization\"), or "
    "for this mailbox only with Set-CASMailbox -Identity <mailbox> "
    "-SmtpClientAuthenticationDisabled $false (Microsoft 365 admin center: Active users > Mail > "
    "Manage email apps > Authenticated SMTP), a per-mailbox setting that overrides the "
    "organisation's. See https://aka.ms/smtp_auth_disabled. This applies to OAuth (XOAUTH2) as "
    "well as to passwords.";

/// 535 5.7.139: one title and fix per published wording (smtp-facts-additions §3.2). The
/// last entry, with no words to match, is for a wording not seen before.
struct Wording {
    std::string_view words; ///< matched without case in the reply text
    std::string_view title;
    std::string_view detail;
    bool smtp_auth_fix; ///< followed by smtp_auth_fix
};

constexpr Wording wordings[] = {
    {"disabled for the tenant", "SMTP AUTH is disabled for this tenant",
     "Exchange Online refuses SMTP AUTH for every mailbox of the organisation "
     "(SmtpClientAuthenticationDisabled is set tenant-wide); the credentials were not the "
     "problem. ",
     true},
    {"disabled for the mailbox", "SMTP AUTH is disabled for this mailbox",
     "Exchange Online refuses SMTP AUTH for this mailbox (SmtpClientAuthenticationDisabled is "
     "set on it); the credentials were not the problem. ",
     true},
    {"basic authentication is disabled", "Basic authentication is disabled for this account",
     "Exchange Online refuses a password (Basic authentication) for SMTP AUTH here. Move the "
     "client to OAuth 2.0 (XOAUTH2 with a token for https://outlook.office.com/SMTP.Send); an "
     "administrator can also check that SMTP AUTH is enabled for the mailbox and that no policy "
     "blocks legacy authentication.",
     false},
    {"security defaults", "The sign-in is blocked by the organisation's security defaults",
     "Microsoft Entra security defaults block legacy authentication, and SMTP AUTH with a "
     "password is legacy authentication. Move the client to OAuth 2.0 (XOAUTH2); otherwise an "
     "administrator must turn security defaults off (Entra admin center: Properties > Manage "
     "security defaults) and use Conditional Access instead.",
     false},
    {"did not meet the criteria", "A sign-in policy blocked the sign-in",
     "Microsoft Entra refused the sign-in by policy (Conditional Access, security defaults or "
     "MFA requirements; the reply does not say which). The administrator finds the policy in "
     "the account's Entra sign-in log; excluding the mailbox from a policy that blocks legacy "
     "authentication, or moving the client to OAuth 2.0 (XOAUTH2), are the usual fixes.",
     false},
    {"federated sts", "The organisation's federation server could not authenticate the user",
     "The account is federated to an on-premises sign-in service (AD FS or similar) that "
     "Exchange Online could not reach over HTTPS with TLS 1.2. The administrator of that "
     "service must make it reachable, over HTTPS with TLS 1.2 or later.",
     false},
    {"", "Exchange Online refused SMTP AUTH for this account (5.7.139)",
     "535 5.7.139 means the account may not use SMTP AUTH (disabled for the tenant or the "
     "mailbox, or blocked by a sign-in policy), not that the password is wrong. ",
     true},
};

Refusal smtp_auth_disabled(std::string_view text) {
    for (Wording const& w : wordings) {
        if (!smtp::icontains(text, w.words))
            continue; // "" matches every text: the last entry always applies
        return Refusal{"auth.smtp_auth_disabled", Severity::error, std::string(w.title),
                       std::string(w.detail) +
                           (w.smtp_auth_fix ? std::string(smtp_auth_fix) : std::string())};
    }
    return {};
}

std::string oauth_error_words(sasl::OAuthError const& e) {
    using Form = sasl::OAuthError::Form;
    if (e.form != Form::json)
        return e.form == Form::empty
                   ? "an empty error challenge"
                   : "an error challenge that is not JSON (\"" + escape_controls(e.text) + "\")";
    std::vector<std::string> parts;
    if (e.status) {
        std::string part = "status " + escape_controls(*e.status);
        if (std::string_view const meaning = sasl::oauth_status_meaning(*e.status);
            !meaning.empty())
            part += " (" + std::string(meaning) + ")";
        parts.push_back(part);
    }
    if (e.schemes)
        parts.push_back("schemes " + escape_controls(*e.schemes));
    if (e.scope)
        parts.push_back("scope " + escape_controls(*e.scope));
    if (e.openid_configuration)
        parts.push_back("openid-configuration " + escape_controls(*e.openid_configuration));
    return "the error challenge " + (parts.empty() ? std::string("{}") : join(parts, ", "));
}

Refusal token_refused(MechanismRow const& row) {
    Authentication const& a = row.authentication;
    Refusal r{"oauth.token_refused", Severity::error,
              "The server refused the OAuth token with " + row.name, ""};
    std::string detail;
    if (a.oauth_error) {
        detail = "After the token the server sent " + oauth_error_words(*a.oauth_error) +
                 ", then " + (a.reply ? a.reply->status() : std::string("no final reply")) + ".";
        if (a.oauth_error->scope)
            detail += " Get a token that carries the scope " +
                      escape_controls(*a.oauth_error->scope) + ".";
    } else {
        detail = "The server answered the token with " +
                 (a.reply ? a.reply->status() : std::string("no reply")) + ".";
    }
    bool const exchange_online = a.reply && a.reply->enhanced() == "5.7.3";
    if (exchange_online)
        detail += " Exchange Online answers 535 5.7.3 to any token it does not accept: the "
                  "audience must be Exchange Online (https://outlook.office.com, not Microsoft "
                  "Graph); a delegated token needs the SMTP.Send scope and --user must be its "
                  "user; an app-only token needs the SMTP.SendAsApp role and the mailbox granted "
                  "to the application's service principal (Add-MailboxPermission); and it must "
                  "not be expired. The token section of this report checks what it can offline.";
    else
        detail += " A token is refused when it is expired or revoked, issued for another "
                  "service (audience) or without the scope the server needs, or when --user is "
                  "not the token's user: get a fresh token for this service and user.";
    r.detail = std::move(detail);
    return r;
}

} // namespace

std::optional<Refusal> classify_refusal(MechanismRow const& row) {
    Authentication const& a = row.authentication;
    bool const token = sasl::uses_token(row.name);
    if (a.status == Status::skipped || a.status == Status::accepted ||
        a.status == Status::pending || !a.reply || a.reply->first_digit() != 5)
        return std::nullopt;
    smtp::Reply const& reply = *a.reply;
    std::string const enhanced = reply.enhanced();
    std::string const text = reply.text();
    if (enhanced == "5.7.30" && smtp::icontains(text, "basic authentication"))
        return Refusal{
            "auth.basic_auth_retired", Severity::error,
            "Basic authentication (a password) is retired for SMTP AUTH here: move to OAuth "
            "(XOAUTH2)",
            "Exchange Online no longer accepts a password for SMTP AUTH client submission "
            "(550 5.7.30; Microsoft's retirement of Basic auth for Client Submission). Configure "
            "the client for OAuth 2.0 with XOAUTH2: a delegated token for "
            "https://outlook.office.com/SMTP.Send, or an app-only token "
            "(https://outlook.office365.com/.default) with the SMTP.SendAsApp role and the "
            "mailbox granted to the application. A device that cannot do OAuth can send through "
            "High Volume Email, Azure Communication Services or an SMTP relay connector "
            "instead. The Exchange admin center's \"SMTP AUTH Clients Submission Report\" lists "
            "the clients that still use a password."};
    if (enhanced == "5.7.139")
        return smtp_auth_disabled(text);
    bool const google_text = smtp::icontains(text, "gsmtp") || smtp::icontains(text, "google.com");
    if (reply.code == 534 &&
        (smtp::icontains(text, "web browser") || smtp::icontains(text, "WebLoginRequired") ||
         (enhanced == "5.7.14" && google_text)))
        return Refusal{
            "auth.web_login_required", Severity::error,
            "Google blocked the sign-in: log in through a web browser first",
            "Gmail refused the sign-in for security (534 5.7.14) until the account's owner signs "
            "in through a web browser, from the same network if possible, and confirms the "
            "activity. Then prefer an app password (accounts with 2-step verification) or OAuth "
            "(XOAUTH2 with the scope https://mail.google.com/), which Google does not block this "
            "way."};
    if (reply.code == 534 && !token &&
        (smtp::icontains(text, "application-specific password") ||
         smtp::icontains(text, "InvalidSecondFactor")))
        return Refusal{
            "auth.app_password_required", Severity::error,
            "Google wants an app password: the account has 2-step verification",
            "Gmail refused the account's normal password (534 5.7.9 \"Application-specific "
            "password required\"): with 2-step verification on, SMTP takes an app password "
            "(Google Account > Security > App passwords), or OAuth (XOAUTH2 with the scope "
            "https://mail.google.com/). Use the app password in place of the normal one."};
    if (token && (a.status == Status::rejected || a.oauth_error))
        return token_refused(row);
    return std::nullopt;
}

} // namespace smtpprobe::diagnose
