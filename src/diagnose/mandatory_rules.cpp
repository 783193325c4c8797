#include "diagnose/mandatory_rules.hpp"

#include "smtp/extensions.hpp"

#include <string>

namespace smtpprobe::diagnose {
namespace {

std::string port_words(Report const& r) {
    return "port " + std::to_string(r.port);
}

void without_tls(Report const& r, std::vector<Finding>& out) {
    std::optional<smtp::Reply> const& reply = r.server.mail_before_tls_reply;
    if (!reply)
        return;
    std::string const evidence = "MAIL FROM:<> before TLS: " + reply->wire();
    bool const tls_offered = r.server.starttls_offered || r.server.tls.has_value();
    switch (r.mail_without_tls()) {
    case MailGate::refused:
        if (!tls_offered)
            break; // refused for another reason than TLS: the AUTH finding below says more
        out.push_back({"mail.tls_required",
                       Severity::info,
                       "TLS is required before mail",
                       "MAIL FROM:<> sent before STARTTLS got " + reply->status() +
                           ": this port takes no mail in plaintext, so a client that skips "
                           "STARTTLS (or a man in the middle that strips it) cannot hand over "
                           "a message unencrypted. Good.",
                       {evidence}});
        return;
    case MailGate::accepted:
        if (r.relay_port())
            out.push_back(
                {"mail.without_tls",
                 Severity::info,
                 "Port 25 takes mail without TLS",
                 "MAIL FROM:<> sent before STARTTLS got " + reply->status() +
                     ". That is normal for an MX: RFC 3207 §4 forbids a publicly-referenced "
                     "server to require STARTTLS for local delivery. Clients that submit mail "
                     "should use 587 (STARTTLS) or 465 (implicit TLS), which should refuse it.",
                 {evidence}});
        else
            out.push_back(
                {"mail.without_tls",
                 Severity::warning,
                 "This submission port takes mail without TLS",
                 "MAIL FROM:<> sent " +
                     std::string(tls_offered ? "before STARTTLS" : "on the plaintext session") +
                     " got " + reply->status() + " on " + port_words(r) +
                     ". A client that skips STARTTLS (or a man in the middle that strips it) "
                     "can hand over mail in plaintext. A submission port should answer 530 "
                     "5.7.0 \"Must issue a STARTTLS command first\" (RFC 3207 §4) until TLS "
                     "is up (Postfix: smtpd_tls_security_level = encrypt).",
                 {evidence}});
        return;
    case MailGate::not_tested:
    case MailGate::not_applicable:
        return;
    }
    // Refused on a port that offers no TLS at all: what it means is AUTH's business.
    out.push_back({"mail.refused_without_tls",
                   Severity::info,
                   "MAIL FROM:<> is refused on this plaintext session",
                   "The server offers no STARTTLS; MAIL FROM:<> got " + reply->status() + ".",
                   {evidence}});
}

void without_auth(Report const& r, std::vector<Finding>& out) {
    std::optional<smtp::Reply> const& reply = r.server.mail_before_auth_reply;
    if (!reply)
        return;
    std::string const evidence = "MAIL FROM:<> under TLS, before AUTH: " + reply->wire();
    if (r.mail_without_auth() == MailGate::refused) {
        bool const auth_required = reply->code == 530 || reply->enhanced() == "5.7.57" ||
                                   reply->enhanced() == "5.7.1" || reply->enhanced() == "5.7.0";
        out.push_back(
            {"mail.auth_required",
             Severity::info,
             auth_required ? "Mail needs AUTH" : "Mail is refused before AUTH",
             "MAIL FROM:<> sent under TLS before AUTH got " + reply->status() +
                 (auth_required ? ": this port takes mail only from an authenticated client "
                                  "(RFC 4954 §6: 530 5.7.0 \"Authentication required\"; "
                                  "Exchange Online says 530 5.7.57)."
                                : ". A mail client sees this reply when it skips AUTH."),
             {evidence}});
        return;
    }
    if (r.mail_without_auth() != MailGate::accepted)
        return;
    if (r.relay_port())
        out.push_back({"mail.without_auth",
                       Severity::info,
                       "Port 25 takes mail without AUTH",
                       "MAIL FROM:<> under TLS before AUTH got " + reply->status() +
                           ", as an MX does. Whether it relays is for RCPT to say "
                           "(--mail-from/--rcpt).",
                       {evidence}});
    else
        out.push_back(
            {"mail.without_auth",
             Severity::info,
             "This submission port takes MAIL FROM before AUTH",
             "MAIL FROM:<> under TLS before AUTH got " + reply->status() + " on " + port_words(r) +
                 ". Postfix does this by default (smtpd_delay_reject = yes refuses at RCPT); this "
                 "opens a "
                 "transaction without it (recipients may still be refused: --rcpt shows it).",
             {evidence}});
}

} // namespace

void message_findings(Report const& report, std::vector<Finding>& out) {
    smtp::Capabilities const* caps = report.server.final_capabilities();
    if (caps == nullptr || !report.session_established)
        return;
    smtp::MessageNeeds needs;
    needs.size = report.message_size;
    needs.requiretls = report.requiretls;
    if (report.envelope) {
        needs.addresses = report.envelope->rcpt;
        needs.addresses.insert(needs.addresses.begin(), report.envelope->mail_from);
    }
    for (smtp::ExtensionMismatch const& m : smtp::check_message(*caps, needs)) {
        std::string evidence =
            "EHLO: " + (caps->has(m.keyword) ? "" : std::string("no ")) + m.keyword;
        if (m.keyword == "SIZE" && caps->size)
            evidence += " " + std::to_string(*caps->size);
        if (m.keyword == "SIZE")
            out.push_back({"message.over_size",
                           Severity::error,
                           "The message is larger than the server's SIZE limit",
                           "With --size " + std::to_string(*report.message_size) + ": " + m.detail +
                               ". Make it smaller (attachments as links) or use "
                               "another server.",
                           {evidence}});
        else if (m.keyword == "SMTPUTF8")
            out.push_back({"message.smtputf8_missing",
                           Severity::error,
                           "A non-ASCII address, and the server has no SMTPUTF8",
                           m.detail + ".",
                           {evidence}});
        else if (m.keyword == "REQUIRETLS")
            out.push_back({"message.requiretls_unsupported",
                           Severity::error,
                           "REQUIRETLS is not advertised",
                           m.detail + ".",
                           {evidence}});
    }
}

void mandatory_findings(Report const& report, std::vector<Finding>& out) {
    without_tls(report, out);
    without_auth(report, out);
}

} // namespace smtpprobe::diagnose
