#pragma once
// The texts of status_codes.cpp: the meaning of every basic reply code, and the vendor
// overlays of enhanced codes. Data only; the registry itself is status_registry.inc, generated
// from data/enhanced-status-codes.json.

#include <string_view>

namespace smtpprobe::diagnose::detail {

// One meaning of a basic reply code. A code may have several: the RFC 5321 meaning and the
// meaning it takes as an answer to AUTH (RFC 4954).
struct ReplyCodeInfo {
    int code;
    std::string_view text;
    std::string_view source;
    std::string_view advice;
};

inline constexpr std::string_view rfc5321 = "RFC 5321 §4.2.3";

// Texts follow the RFC's suggested replies (smtp-facts.md §1.1, §1.8); the advice is for a
// user troubleshooting authentication, which is what smtpprobe is for.
inline constexpr ReplyCodeInfo reply_codes[] = {
    {211, "System status, or system help reply.", rfc5321, ""},
    {214, "Help message.", rfc5321, ""},
    {220, "<domain> Service ready.", rfc5321, ""},
    {221, "<domain> Service closing transmission channel.", rfc5321, ""},
    {235, "Authentication succeeded (enhanced code 2.7.0).", "RFC 4954 §6", ""},
    {250, "Requested mail action okay, completed.", rfc5321, ""},
    {251, "User not local; will forward to <forward-path>.", rfc5321, ""},
    {252, "Cannot VRFY user, but will accept message and attempt delivery.", rfc5321, ""},
    {334,
     "Continuation: the server recognises the mechanism and sends a base64 challenge (empty for "
     "mechanisms where the client speaks first).",
     "RFC 4954 §4", ""},
    {354, "Start mail input; end with <CRLF>.<CRLF>.", rfc5321, ""},
    {421,
     "<domain> Service not available, closing transmission channel (may be a reply to any "
     "command if the service knows it must shut down).",
     rfc5321, ""},
    {421,
     "During authentication: a server may drop the connection after failed attempts, though it "
     "SHOULD allow at least 3.",
     "RFC 4954 §9", "Reconnect before the next attempt and check why the earlier ones failed."},
    {432, "A password transition is needed (enhanced code 4.7.12).", "RFC 4954 §6",
     "Authenticate once with the PLAIN mechanism (over TLS), which RFC 4954 names as the usual "
     "way to do the transition."},
    {450, "Requested mail action not taken: mailbox unavailable.", rfc5321, ""},
    {451, "Requested action aborted: local error in processing.", rfc5321, ""},
    {452, "Requested action not taken: insufficient system storage.", rfc5321, ""},
    {454,
     "Temporary authentication failure: a temporary problem on the server (enhanced code "
     "4.7.0).",
     "RFC 4954 §6",
     "Try again later; the password is not the cause, so the client should not ask for a new "
     "one."},
    {455, "Server unable to accommodate parameters.", rfc5321, ""},
    {500, "Syntax error, command unrecognized (may include \"command line too long\").", rfc5321,
     ""},
    // [derived, smtp-facts.md §2.0] 500/502 as the reply to AUTH itself: AUTH is unknown.
    {500,
     "In an AUTH exchange: the authentication exchange line is too long (enhanced code 5.5.6); "
     "as the reply to AUTH itself it means the server does not know AUTH.",
     "RFC 4954 §4, §6",
     "If a long response such as an OAuth token was sent, the line was longer than the server "
     "accepts; if AUTH itself was refused, check that EHLO advertises AUTH (perhaps only after "
     "STARTTLS)."},
    {501, "Syntax error in parameters or arguments.", rfc5321, ""},
    // LumiSoft.Net's server sends "501 Not supported authentication mechanism." [observed].
    {501,
     "In an AUTH exchange: the client cancelled with \"*\", sent invalid base64, or sent an "
     "initial response for a mechanism where the server speaks first; some servers also use 501 "
     "for an unsupported mechanism.",
     "RFC 4954 §4",
     "If the client sent an initial response with LOGIN (.NET SmtpClient and Python smtplib send "
     "the user name that way), the server may refuse it; otherwise treat it like 504."},
    {502, "Command not implemented.", rfc5321, ""},
    {502,
     "As the reply to AUTH: the server does not implement AUTH here; EHLO must not advertise an "
     "extension whose command gets 500 or 502.",
     "RFC 5321 §4.2.4", "Check the EHLO reply: AUTH may be offered only after STARTTLS."},
    {503, "Bad sequence of commands.", rfc5321, ""},
    {503, "In AUTH: authentication was already done, or AUTH was sent during a mail transaction.",
     "RFC 4954 §4",
     "Send AUTH once, before MAIL FROM; after STARTTLS send EHLO again before AUTH."},
    {504, "Command parameter not implemented.", rfc5321, ""},
    {504,
     "The requested authentication mechanism is invalid: not supported, or it requires an "
     "encryption layer (RFC 4954 suggests enhanced code 5.5.4; Exchange sends 5.7.4).",
     "RFC 4954 §4",
     "The server does not accept this mechanism: configure the client to use one the server "
     "recognises."},
    {523, "Encryption Needed (enhanced code X.7.10).", "IANA SMTP Enhanced Status Codes (RFC 5248)",
     "Use STARTTLS or implicit TLS before authenticating."},
    {524, "Encryption required for requested authentication mechanism (enhanced code X.7.11).",
     "IANA SMTP Enhanced Status Codes (RFC 5248)",
     "Use STARTTLS or implicit TLS before authenticating."},
    {525, "User Account Disabled (enhanced code X.7.13).",
     "IANA SMTP Enhanced Status Codes (RFC 5248)",
     "The account is disabled: ask the provider or administrator to enable it."},
    {530,
     "Authentication required (enhanced code 5.7.0): the server's policy needs AUTH before this "
     "command.",
     "RFC 4954 §6",
     "Authenticate first; if the server gave 530 to AUTH itself, it wants STARTTLS first."},
    {534,
     "Authentication mechanism is too weak (enhanced code 5.7.9); the client should retry with "
     "another mechanism.",
     "RFC 4954 §6", "Configure the client to use a stronger mechanism the server offers."},
    {535, "Authentication credentials invalid (enhanced code 5.7.8).", "RFC 4954 §6",
     "Check the user name and the password or token."},
    {538,
     "Encryption required for requested authentication mechanism (enhanced code 5.7.11); kept "
     "for historical purposes, as servers should not advertise such mechanisms.",
     "RFC 4954 §6", "Use STARTTLS or implicit TLS before authenticating."},
    {550,
     "Requested action not taken: mailbox unavailable (no access, or command rejected for policy "
     "reasons).",
     rfc5321, ""},
    {551, "User not local; please try <forward-path>.", rfc5321, ""},
    {552, "Requested mail action aborted: exceeded storage allocation.", rfc5321, ""},
    {553, "Requested action not taken: mailbox name not allowed.", rfc5321, ""},
    {554, "Transaction failed (as the connection greeting: \"No SMTP service here\").", rfc5321,
     ""},
    {555, "MAIL FROM/RCPT TO parameters not recognized or not implemented.", rfc5321, ""},
};

enum class Vendor { none, microsoft, azure_acs, google };

// Where a vendor uses a code differently from the registry, or beyond it (smtp-facts.md §1.11,
// §3.1-§3.3; data/smtp-facts-additions.md §3.2, §3.3 for the sources of the Microsoft and
// Google texts). Keyed by subject and detail: Microsoft sends 5.7.3 with 451 as well as 535.
struct Overlay {
    int subject;
    int detail;
    // 0: any reply; 4 or 5: replies of that class; otherwise that exact reply code.
    int reply;
    Vendor vendor;
    // Added, marked "(vendor meaning)", when the hint names no vendor: the code is known to
    // come from this vendor in practice.
    bool well_known;
    std::string_view text;
    std::string_view advice;
};

inline constexpr Overlay overlays[] = {
    // Microsoft (Exchange Online), smtp-facts.md §3.2.
    {7, 3, 5, Vendor::microsoft, true,
     "Authentication unsuccessful: wrong user name or password, or an OAuth token not valid for "
     "SMTP (no SMTP.Send permission, or the wrong audience); NTLM logins with bad credentials "
     "get it too.",
     "Check the credentials; with OAuth, use a token issued for SMTP.Send."},
    {7, 3, 4, Vendor::microsoft, true,
     "STARTTLS is required to send mail: the command came before STARTTLS.",
     "Enable STARTTLS in the client."},
    {7, 4, 5, Vendor::microsoft, true,
     "\"Unrecognized authentication type\": Exchange answers 504 5.7.4 to a mechanism it does not "
     "support (e.g. PLAIN or CRAM-MD5 on Microsoft 365), where RFC 4954 suggests 5.5.4.",
     "Use a mechanism the server recognises; Microsoft 365 accepts LOGIN and XOAUTH2 (partly "
     "verified)."},
    {7, 30, 5, Vendor::microsoft, true,
     "Basic authentication is not supported for Client Submission: Exchange Online retires "
     "Basic auth for SMTP AUTH (rejections from 2026-03-01, all by 2026-04-30 per Microsoft's "
     "2025-06-11 update; a later revision reported by a third party is UNVERIFIED); this is not "
     "the registry's REQUIRETLS meaning.",
     "Switch the client to OAuth 2.0 (XOAUTH2); the EAC \"SMTP AUTH Clients Submission Report\" "
     "shows which clients still use Basic auth."},
    {7, 57, 5, Vendor::microsoft, true,
     "Client was not authenticated to send anonymous mail during MAIL FROM: MAIL FROM came "
     "without a successful AUTH (530 in the session, 550 in bounce messages).",
     "Authenticate before MAIL FROM as a user with an Exchange Online mailbox; TLS is required to "
     "authenticate, and a client that shares no mechanism with the server or skipped STARTTLS "
     "often sends MAIL FROM without AUTH."},
    {7, 139, 5, Vendor::microsoft, true,
     "Authentication unsuccessful: SMTP AUTH (SmtpClientAuthentication) is disabled for the "
     "tenant or for the mailbox, basic authentication is disabled, the user is locked by the "
     "security defaults, a sign-in policy blocked the sign-in (\"the request did not meet the "
     "criteria\", which does not say which policy), or a federated sign-in service failed.",
     "For \"disabled for the Tenant\" run Set-TransportConfig -SmtpClientAuthenticationDisabled "
     "$false, for \"disabled for the Mailbox\" Set-CASMailbox -Identity <user> "
     "-SmtpClientAuthenticationDisabled $false (https://aka.ms/smtp_auth_disabled); otherwise ask "
     "the administrator which sign-in policy applies."},
    {7, 60, 5, Vendor::microsoft, true,
     "Client does not have permissions to send as this sender: the sender address is not the "
     "authenticated mailbox's, nor one it may send as.",
     "Send from the authenticated mailbox's own address, or have an administrator grant it Send "
     "As on the sender; to send as any address of the domain, Microsoft points to an SMTP relay "
     "connector instead of client submission."},
    {2, 252, 5, Vendor::microsoft, true,
     "SendAsDenied: after DATA, the message's sender is an address the authenticated mailbox may "
     "not send as.",
     "Make the From address the authenticated mailbox's own, or have an administrator grant the "
     "mailbox Send As on it."},
    // Azure Communication Services, smtp-facts.md §3.1.
    {7, 3, 5, Vendor::azure_acs, false,
     "Authentication unsuccessful (535 5.7.3 was seen from ACS in an OAuth attempt); which ACS "
     "settings cause it is UNVERIFIED.",
     "Check the user name (<ACS resource>.<Entra application id>.<tenant id>, dot- or "
     "pipe-separated, or an SMTP Username resource), that the password is a client secret of "
     "that Entra application, and that the application has the \"Communication and Email Service "
     "Owner\" role or a custom role with the Microsoft.Communication permissions."},
    // Google (Gmail), smtp-facts.md §3.3.
    {5, 1, 530, Vendor::google, false, "Authentication Required: MAIL FROM was sent without AUTH.",
     "Authenticate before sending."},
    {7, 1, 535, Vendor::google, false,
     "Username and Password not accepted (an older form of 535 5.7.8).",
     "Check the user name (the full address) and the password or app password."},
    {7, 8, 5, Vendor::google, false,
     "Username and Password not accepted: the user name, password or app password is wrong.",
     "Use the full address as user name and, for an account with 2-step verification, an app "
     "password or OAuth."},
    {7, 9, 5, Vendor::google, false,
     "Application-specific password required: the account has 2-step verification and its "
     "normal password was used.",
     "Create an app password and use it instead, or use OAuth (XOAUTH2)."},
    {7, 14, 5, Vendor::google, false,
     "Sign-in blocked for security: Google asks the user to log in through a web browser.",
     "Sign in to the account in a web browser, then try again."},
};

inline std::string_view vendor_source(Vendor vendor) {
    switch (vendor) {
    case Vendor::microsoft:
        return "Microsoft (Exchange Online)";
    case Vendor::azure_acs:
        return "Microsoft (Azure Communication Services)";
    case Vendor::google:
        return "Google (Gmail)";
    case Vendor::none:
        break;
    }
    return "";
}

} // namespace smtpprobe::diagnose::detail
