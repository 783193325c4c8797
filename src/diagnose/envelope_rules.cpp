#include "diagnose/envelope_rules.hpp"

#include "smtp/ascii.hpp"

#include <string_view>

namespace smtpprobe::diagnose {
namespace {

using Kind = EnvelopeStep::Kind;

/// A known refusal: matched on the step, the enhanced code and words of the reply text.
struct Known {
    std::string_view id;
    bool mail, rcpt;           ///< at which step it is known
    std::string_view enhanced; ///< "" : any
    std::string_view words;    ///< matched without case; "" : any text
    std::string_view meaning;
    std::string_view fix;
};

// The first match wins: vendor texts before the generic classes (smtp-facts-additions §3.4).
constexpr Known known[] = {
    {"envelope.acs_sender_domain_not_linked", true, true, "", "sender domain has not been linked",
     "Azure Communication Services refuses this sender: its domain is not connected to the "
     "Communication Services resource. ACS takes mail only from a MailFrom address of a "
     "connected, verified domain (the Azure managed domain's DoNotReply@<id>.azurecomm.net, or "
     "a verified custom domain).",
     "Connect the domain to the resource (Azure portal: the Communication Services resource > "
     "Email > Domains > Connect domain; the domain must be verified in the Email Communication "
     "Service first), or send as an address of a domain that is connected, e.g. the "
     "DoNotReply@ address of the Azure managed domain."},
    {"envelope.send_as_denied", true, true, "5.7.60", "",
     "Exchange Online refuses this sender for this account: the authenticated user has no "
     "permission to send as this address (550 5.7.60).",
     "Send as the account's own mailbox address, or have an Exchange administrator grant the "
     "account Send As on the sender's mailbox (Add-RecipientPermission -Identity <sender> "
     "-Trustee <account> -AccessRights SendAs; for a shared mailbox the same, or Send on "
     "Behalf)."},
    {"envelope.send_as_denied", true, true, "", "permissions to send as this sender",
     "The server refuses this sender for this account: the authenticated user has no "
     "permission to send as this address (Exchange's 5.7.60 wording).",
     "Send as the account's own address, or grant the account Send As on the sender's "
     "mailbox (Add-RecipientPermission ... -AccessRights SendAs)."},
    {"envelope.not_authenticated", true, true, "5.7.57", "",
     "The server takes mail only from an authenticated client (5.7.57, Microsoft's code: "
     "Exchange Online, ACS): this connection had not authenticated when it sent MAIL FROM.",
     "Authenticate before MAIL FROM (after STARTTLS) with a mechanism the server offers: for "
     "Exchange Online LOGIN or XOAUTH2 as a user with a mailbox, for ACS LOGIN with the "
     "resource's SMTP user name."},
    {"envelope.sender_not_owned", true, true, "", "not owned by user",
     "Postfix refuses this sender for this account: the login is not the owner of the address "
     "in smtpd_sender_login_maps (reject_sender_login_mismatch or "
     "reject_authenticated_sender_login_mismatch in smtpd_sender_restrictions).",
     "Add the address to the account's entry in the map named by smtpd_sender_login_maps "
     "(\"sender@example.org  login\", then postmap it and postfix reload), or send as an "
     "address the map gives this login."},
    {"envelope.sender_not_logged_in", true, true, "", "not logged in",
     "Postfix refuses this sender without a login: smtpd_sender_login_maps gives the address "
     "an owner, and reject_sender_login_mismatch or reject_unauthenticated_sender_login_mismatch "
     "asks that owner to authenticate first.",
     "Authenticate (AUTH) as the address's owner before MAIL FROM."},
    {"envelope.relay_denied", false, true, "", "relay access denied",
     "The server does not relay to this recipient's domain for this client: the domain is "
     "not one it delivers to, and the client is not allowed to relay (Postfix "
     "reject_unauth_destination).",
     "Authenticate before MAIL FROM (an authenticated client may relay when "
     "permit_sasl_authenticated comes before reject_unauth_destination in "
     "smtpd_relay_restrictions), or send to a recipient of a domain this server hosts. If "
     "the client did authenticate, the server's relay restrictions lack "
     "permit_sasl_authenticated."},
    {"envelope.relay_denied", false, true, "", "relay not permitted",
     "Exim does not relay to this recipient's domain for this client (its ACL's \"relay not "
     "permitted\": the domain is not in relay_to_domains and the client is not an "
     "authenticated or relay_from_hosts one).",
     "Authenticate before MAIL FROM, or send to a recipient of a local domain; on the server, "
     "accept authenticated clients in acl_check_rcpt (accept authenticated = *) before the "
     "relay check."},
    {"envelope.relay_denied", false, true, "", "relay",
     "The server refuses to relay to this recipient's domain for this client (\"relaying "
     "denied\", Exchange's \"Unable to relay\"): the domain is not one it accepts mail for, "
     "and the client may not relay.",
     "Authenticate before MAIL FROM with an account allowed to relay, or send to a recipient "
     "of a domain the server accepts mail for."},
    {"envelope.acl_refused", true, true, "", "administrative prohibition",
     "Exim refused the command by an ACL without a message of its own (\"Administrative "
     "prohibition\" is Exim's default text for deny): a sender or recipient rule of its "
     "configuration.",
     "The server's administrator finds the rule in the ACL (acl_smtp_mail, acl_smtp_rcpt) and "
     "its log line (the rejected sender or recipient); Exim logs the reason the client is not "
     "told."},
    {"envelope.sender_unknown_domain", true, false, "", "domain not found",
     "The server refuses this sender because its domain does not resolve (Postfix "
     "reject_unknown_sender_domain).",
     "Use a sender whose domain has an MX or A record, or publish one for this domain."},
    {"envelope.recipient_unknown", false, true, "5.1.1", "",
     "The server has no such recipient (5.1.1: bad destination mailbox address).",
     "Check the recipient address; a local recipient must exist on this server."},
    {"envelope.recipient_unknown", false, true, "", "user unknown",
     "The server has no such recipient.",
     "Check the recipient address; a local recipient must exist on this server."},
    {"envelope.message_too_big", true, false, "5.3.4", "",
     "The declared message size is over the server's limit (552 5.3.4, RFC 1870).",
     "Send a smaller message, or raise the server's limit (Postfix message_size_limit)."},
    {"envelope.not_authenticated", true, true, "", "authentication required",
     "The server takes mail only from authenticated clients.", "Authenticate before MAIL FROM."},
    {"envelope.not_authenticated", true, true, "", "not authenticated",
     "The server takes mail only from authenticated clients.", "Authenticate before MAIL FROM."},
};

Known const* find_known(Kind kind, smtp::Reply const& reply) {
    if (reply.code / 100 == 2 || (kind != Kind::mail && kind != Kind::rcpt))
        return nullptr;
    std::string const enhanced = reply.enhanced();
    std::string const text = reply.text();
    for (Known const& k : known) {
        if ((kind == Kind::mail && !k.mail) || (kind == Kind::rcpt && !k.rcpt))
            continue;
        if (!k.enhanced.empty() && enhanced != k.enhanced)
            continue;
        if (!k.words.empty() && !smtp::icontains(text, k.words))
            continue;
        return &k;
    }
    return nullptr;
}

std::string as_who(Envelope const& e) {
    return e.authenticated ? "this authenticated client (AUTH " + e.mechanism + ")"
                           : "this unauthenticated client";
}

std::string shown(std::string const& address) {
    return address == "<>" ? std::string("the null sender <>") : "<" + address + ">";
}

} // namespace

EnvelopeStep judge_step(EnvelopeStep step, Envelope const& envelope, Report const& report) {
    if (!step.reply) {
        step.meaning = "no reply: the connection broke (" + envelope.stopped + ")";
        return step;
    }
    smtp::Reply const& reply = *step.reply;
    int const cls = reply.code / 100;
    if (Known const* k = find_known(step.kind, reply)) {
        step.finding_id = std::string(k->id);
        step.meaning = std::string(k->meaning);
        step.fix = std::string(k->fix);
        if (k->id == "envelope.not_authenticated" && !envelope.authenticated)
            step.fix += report.credentials_given
                            ? " Credentials were given, but no mechanism got 235 in the matrix "
                              "(see it), so the envelope ran unauthenticated."
                            : " Give credentials (--user and a password or token).";
        return step;
    }
    switch (step.kind) {
    case Kind::mail:
        if (cls == 2)
            step.meaning = "the server takes " + shown(envelope.mail_from) +
                           " as the sender from " + as_who(envelope);
        else {
            step.finding_id = cls == 4 ? "envelope.sender_deferred" : "envelope.sender_refused";
            step.meaning = std::string(cls == 4 ? "the server defers (4xx: try again later) "
                                                : "the server refuses ") +
                           shown(envelope.mail_from) + " as the sender from " + as_who(envelope);
            step.fix = cls == 4 ? "Try again later; if it stays, the server's log says why."
                                : "Use a sender address this account may use (the server's "
                                  "reply text and its log say which rule refused it).";
        }
        break;
    case Kind::rcpt:
        if (cls == 2)
            step.meaning = "the server takes " + step.argument + " as a recipient";
        else {
            step.finding_id =
                cls == 4 ? "envelope.recipient_deferred" : "envelope.recipient_refused";
            step.meaning = std::string(cls == 4 ? "the server defers " : "the server refuses ") +
                           step.argument + " as a recipient from " + as_who(envelope);
            step.fix = cls == 4 ? "Try again later; if it stays, the server's log says why."
                                : "Check the recipient, and that this client may send to its "
                                  "domain (relay).";
        }
        break;
    case Kind::rset:
        step.meaning = cls == 2 ? "the transaction is reset: nothing was sent"
                                : "RSET was not accepted (the QUIT that follows ends the session "
                                  "anyway; nothing was sent)";
        break;
    case Kind::quit:
        step.meaning = cls == 2 ? "the session ended" : "QUIT got an unexpected reply";
        break;
    case Kind::data:
    case Kind::message:
        step.meaning = cls == 2 || reply.code == 354 ? "accepted" : "refused";
        break;
    }
    return step;
}

std::optional<Envelope> judge_envelope(Report const& report) {
    if (!report.envelope)
        return std::nullopt;
    Envelope judged = *report.envelope;
    for (EnvelopeStep& step : judged.steps)
        step = judge_step(std::move(step), judged, report);
    return judged;
}

std::vector<Finding> envelope_findings(Envelope const& e, Report const& report) {
    std::vector<Finding> out;
    (void)report;
    if (e.steps.empty() && !e.stopped.empty()) {
        out.push_back({"envelope.not_run",
                       Severity::warning,
                       "The envelope could not be tested",
                       e.stopped + ".",
                       {}});
        return out;
    }
    bool refused = false;
    for (EnvelopeStep const& step : e.steps) {
        if (!step.reply || step.finding_id.empty())
            continue;
        refused = true;
        bool const temporary = step.reply->code / 100 == 4;
        std::string const what = step.kind == Kind::mail
                                     ? "The sender " + step.argument + " was "
                                     : "The recipient " + step.argument + " was ";
        out.push_back(
            {step.finding_id,
             temporary ? Severity::warning : Severity::error,
             what + (temporary ? "deferred" : "refused") + " (" + step.reply->status() + ")",
             step.meaning + " " + step.fix,
             {std::string(verb(step.kind)) + ": " + step.reply->wire()}});
    }
    if (!e.stopped.empty())
        out.push_back({"envelope.stopped",
                       Severity::warning,
                       "The envelope test stopped short",
                       e.stopped + ".",
                       {}});
    else if (!refused)
        out.push_back({"envelope.accepted",
                       Severity::info,
                       "The server accepts this sender and every recipient",
                       std::string("MAIL FROM and every RCPT TO got 2xx") +
                           (e.authenticated ? " after AUTH " + e.mechanism : "") +
                           "; the transaction was reset (RSET) and no message was sent.",
                       {}});
    return out;
}

} // namespace smtpprobe::diagnose
