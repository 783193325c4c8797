#include "diagnose/status_codes.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace smtpprobe::diagnose {

namespace {

constexpr RegistryEntry registry[] = {
#include "diagnose/status_registry.inc"
};

// One meaning of a basic reply code. A code may have several: the RFC 5321 meaning and the
// meaning it takes as an answer to AUTH (RFC 4954).
struct ReplyCodeInfo {
    int code;
    std::string_view text;
    std::string_view source;
    std::string_view advice;
};

constexpr std::string_view rfc5321 = "RFC 5321 §4.2.3";

// Texts follow the RFC's suggested replies (smtp-facts.md §1.1, §1.8); the advice is for a
// user troubleshooting authentication, which is what smtpprobe is for.
constexpr ReplyCodeInfo reply_codes[] = {
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
// §3.1-§3.3). Keyed by subject and detail: Microsoft sends 5.7.3 with 451 as well as 535.
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

constexpr Overlay overlays[] = {
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
     "tenant or for the mailbox, or a policy blocked the sign-in (\"the request did not meet the "
     "criteria\": Conditional Access, security defaults or MFA; the exact cause is UNVERIFIED).",
     "For \"disabled for the Tenant\" run Set-TransportConfig -SmtpClientAuthenticationDisabled "
     "$false, for \"disabled for the Mailbox\" Set-CASMailbox -Identity <user> "
     "-SmtpClientAuthenticationDisabled $false (https://aka.ms/smtp_auth_disabled); otherwise ask "
     "the administrator which sign-in policy applies."},
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

std::string_view vendor_source(Vendor vendor) {
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

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                       [](char a, char b) { return ascii_lower(a) == ascii_lower(b); }) !=
           haystack.end();
}

Vendor vendor_from_hint(std::string_view hint) {
    if (contains_ci(hint, "azurecomm")) {
        return Vendor::azure_acs;
    }
    // Host names of Microsoft 365 and the "Microsoft ESMTP MAIL Service" banner of Exchange.
    for (std::string_view marker : {"office365", "outlook.com", "microsoft", "exchange"}) {
        if (contains_ci(hint, marker)) {
            return Vendor::microsoft;
        }
    }
    // Gmail replies end in "- gsmtp".
    for (std::string_view marker : {"gmail", "google", "gsmtp"}) {
        if (contains_ci(hint, marker)) {
            return Vendor::google;
        }
    }
    return Vendor::none;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// RFC 3463 §2: 1*3 digits, no leading zeros.
std::optional<int> parse_code_part(std::string_view part) {
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part.front() == '0')) {
        return std::nullopt;
    }
    int value = 0;
    for (char c : part) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

struct EnhancedCode {
    char cls; // '2', '4', '5' or 'X'
    int subject;
    int detail;
};

std::optional<EnhancedCode> parse_enhanced(std::string_view text) {
    std::size_t const first_dot = text.find('.');
    if (first_dot != 1) {
        return std::nullopt;
    }
    char cls = text.front();
    if (cls == 'x') {
        cls = 'X';
    }
    if (cls != '2' && cls != '4' && cls != '5' && cls != 'X') {
        return std::nullopt;
    }
    std::size_t const second_dot = text.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos) {
        return std::nullopt;
    }
    std::optional<int> const subject = parse_code_part(text.substr(2, second_dot - 2));
    std::optional<int> const detail = parse_code_part(text.substr(second_dot + 1));
    if (!subject || !detail) {
        return std::nullopt;
    }
    return EnhancedCode{cls, *subject, *detail};
}

// RFC 5321 §4.2 ABNF: Reply-code = %x32-35 %x30-35 %x30-39.
bool valid_reply_code(int code) {
    return code >= 200 && code <= 599 && (code / 10) % 10 <= 5;
}

// "RFC7505; RFC7504" -> "RFC 7505, RFC 7504"; the parenthesised remark some entries carry goes
// to `note`.
std::string pretty_reference(std::string_view reference, std::string& note) {
    std::size_t const paren = reference.find(" (");
    if (paren != std::string_view::npos) {
        note = std::string(reference.substr(paren + 1));
        reference = reference.substr(0, paren);
    }
    std::string out;
    for (std::size_t i = 0; i < reference.size(); ++i) {
        char const c = reference[i];
        if (c == ';') {
            out += ',';
            continue;
        }
        out += c;
        if (reference.substr(i, 3) == "RFC" && i + 3 < reference.size() &&
            is_digit(reference[i + 3])) {
            out += "FC ";
            i += 2;
        }
    }
    return out;
}

std::string_view subject_meaning(int subject) {
    // RFC 3463 §2 (details enumerated in §3.1-§3.8).
    switch (subject) {
    case 0:
        return "Other or undefined status";
    case 1:
        return "Addressing status";
    case 2:
        return "Mailbox status";
    case 3:
        return "Mail system status";
    case 4:
        return "Network and routing status";
    case 5:
        return "Mail delivery protocol status";
    case 6:
        return "Message content or media status";
    case 7:
        return "Security or policy status";
    default:
        return "";
    }
}

std::string_view registry_advice(int subject, int detail) {
    if (subject != 7) {
        return "";
    }
    switch (detail) {
    case 8:
        return "Check the user name and the password or token.";
    case 9:
        return "Configure the client to use a stronger mechanism the server offers.";
    case 10:
    case 11:
        return "Use STARTTLS or implicit TLS before authenticating.";
    case 13:
        return "The account is disabled: ask the provider or administrator to enable it.";
    default:
        return "";
    }
}

void explain_reply(int reply_code, std::vector<Meaning>& out) {
    std::string const subject = std::to_string(reply_code);
    if (!valid_reply_code(reply_code)) {
        out.push_back({subject,
                       "Not a valid SMTP reply code: the first digit must be 2-5 and the second "
                       "0-5, and clients should treat such a reply as fatal.",
                       "RFC 5321 §4.2", "Report it as a protocol violation by the server."});
        return;
    }
    bool known = false;
    for (ReplyCodeInfo const& info : reply_codes) {
        if (info.code == reply_code) {
            out.push_back({subject, std::string(info.text), std::string(info.source),
                           std::string(info.advice)});
            known = true;
        }
    }
    if (known) {
        return;
    }
    // RFC 5321 §4.2: unknown codes must be interpreted by their first digit.
    static constexpr std::array<std::string_view, 6> first = {"",
                                                              "",
                                                              "Positive Completion",
                                                              "Positive Intermediate",
                                                              "Transient Negative Completion",
                                                              "Permanent Negative Completion"};
    static constexpr std::array<std::string_view, 6> second = {
        "syntax", "information", "connections", "unspecified", "unspecified", "mail system"};
    std::size_t const first_digit = static_cast<std::size_t>(reply_code / 100);
    std::size_t const second_digit = static_cast<std::size_t>((reply_code / 10) % 10);
    out.push_back({subject,
                   "Not a code RFC 5321 or RFC 4954 defines; by its digits: " +
                       std::string(first[first_digit]) + ", category " +
                       std::string(second[second_digit]) + ".",
                   "RFC 5321 §4.2.1", ""});
}

void explain_enhanced(EnhancedCode const& code, std::vector<Meaning>& out) {
    std::string const tail = "." + std::to_string(code.subject) + "." + std::to_string(code.detail);
    switch (code.cls) {
    case '2':
        out.push_back({"2.X.X", "Class 2: success.", "RFC 3463 §2", ""});
        break;
    case '4':
        out.push_back({"4.X.X",
                       "Class 4: persistent transient failure; the same request may succeed "
                       "later.",
                       "RFC 3463 §2", ""});
        break;
    case '5':
        out.push_back({"5.X.X",
                       "Class 5: permanent failure; repeating the request unchanged will fail "
                       "again.",
                       "RFC 3463 §2", ""});
        break;
    default:
        break;
    }
    std::string const key = "X" + tail;
    for (RegistryEntry const& entry : registry) {
        if (entry.code == key) {
            std::string note;
            std::string const reference = pretty_reference(entry.reference, note);
            std::string text(entry.text);
            if (!note.empty()) {
                text += " " + note;
            }
            if (text.back() != ')' && text.back() != '.') {
                text += ".";
            }
            out.push_back({key, std::move(text),
                           "IANA SMTP Enhanced Status Codes (" + reference + ")",
                           std::string(registry_advice(code.subject, code.detail))});
            return;
        }
    }
    // RFC 3463 §2: a client that does not know the detail still uses the subject.
    std::string_view const meaning = subject_meaning(code.subject);
    std::string const subject_key = "X." + std::to_string(code.subject) + ".X";
    if (meaning.empty()) {
        out.push_back({subject_key,
                       "Subject " + std::to_string(code.subject) +
                           " is not defined by RFC 3463 and " + key +
                           " is not in the IANA registry.",
                       "RFC 3463 §2", ""});
        return;
    }
    out.push_back({subject_key, std::string(meaning) + "; " + key + " is not in the IANA registry.",
                   "RFC 3463 §2", ""});
}

bool overlay_matches_reply(Overlay const& overlay, int reply_code) {
    if (overlay.reply == 0 || reply_code == 0) {
        return true;
    }
    if (overlay.reply < 10) {
        return reply_code / 100 == overlay.reply;
    }
    return reply_code == overlay.reply;
}

void add_overlays(int reply_code, EnhancedCode const& code, Vendor hinted,
                  std::vector<Meaning>& out) {
    std::string const subject = std::string(1, code.cls) + "." + std::to_string(code.subject) +
                                "." + std::to_string(code.detail);
    for (Overlay const& overlay : overlays) {
        if (overlay.subject != code.subject || overlay.detail != code.detail ||
            !overlay_matches_reply(overlay, reply_code)) {
            continue;
        }
        bool const exact = overlay.vendor == hinted;
        // ACS is a Microsoft service, but whether it shares Exchange Online's codes is not
        // documented: show Exchange's meanings marked, as for an unknown server.
        bool const related = hinted == Vendor::azure_acs && overlay.vendor == Vendor::microsoft;
        if (!exact && !(overlay.well_known && (hinted == Vendor::none || related))) {
            continue;
        }
        std::string text(overlay.text);
        if (!exact) {
            text = "(vendor meaning) " + text;
        }
        out.push_back({subject, std::move(text), std::string(vendor_source(overlay.vendor)),
                       std::string(overlay.advice)});
    }
}

} // namespace

std::span<RegistryEntry const> enhanced_status_registry() noexcept {
    return registry;
}

std::vector<Meaning> explain(int reply_code, std::string_view enhanced,
                             std::string_view vendor_hint) {
    std::vector<Meaning> out;
    if (reply_code != 0) {
        explain_reply(reply_code, out);
    }
    if (enhanced.empty()) {
        return out;
    }
    std::optional<EnhancedCode> const code = parse_enhanced(enhanced);
    if (!code) {
        out.push_back({std::string(enhanced),
                       "Not a valid enhanced status code: the form is class.subject.detail, "
                       "class 2, 4 or 5, subject and detail one to three digits without leading "
                       "zeros.",
                       "RFC 3463 §2", ""});
        return out;
    }
    explain_enhanced(*code, out);
    add_overlays(reply_code, *code, vendor_from_hint(vendor_hint), out);
    return out;
}

std::optional<CodeQuery> parse_code_query(std::string_view text) {
    auto const is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    CodeQuery query;
    // A reply code is three digits followed by the end, a space or the "-" of a multiline
    // reply (RFC 5321 §4.2.1), so "504-5.7.4" splits like "504 5.7.4".
    if (text.size() >= 3 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2]) &&
        (text.size() == 3 || is_space(text[3]) || text[3] == '-')) {
        int const code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
        if (valid_reply_code(code)) {
            query.reply_code = code;
        }
        text.remove_prefix(3);
        while (!text.empty() && (is_space(text.front()) || text.front() == '-')) {
            text.remove_prefix(1);
        }
    }
    std::size_t end = 0;
    while (end < text.size() && !is_space(text[end])) {
        ++end;
    }
    std::string_view const token = text.substr(0, end);
    if (parse_enhanced(token)) {
        query.enhanced = std::string(token);
        if (query.enhanced.front() == 'x') {
            query.enhanced.front() = 'X';
        }
    }
    if (query.reply_code == 0 && query.enhanced.empty()) {
        return std::nullopt;
    }
    return query;
}

} // namespace smtpprobe::diagnose
