#include "diagnose/clients.hpp"

#include "diagnose/client_model.hpp"

namespace smtpprobe::diagnose {

namespace {

using detail::append;
using detail::has_exact;
using detail::Mechanisms;
using detail::Outcome;

// The versions the real-client suite (tests/clients) runs; it fails when the installed ones
// differ, so this table stays true. .NET, MailKit and lettre cannot be installed there.
std::string checked_against(std::string_view client) {
    if (client.starts_with("Go ")) {
        return "Go 1.19.8 net/smtp";
    }
    if (client.starts_with("Python")) {
        return "Python 3.11.2 smtplib";
    }
    if (client.starts_with("Nodemailer")) {
        return "Nodemailer 10.6.1";
    }
    if (client == "PHPMailer") {
        return "PHPMailer 6.6.3";
    }
    if (client.starts_with("Ruby")) {
        return "net-smtp 0.3.1 (Ruby 3.1.2)";
    }
    if (client.starts_with("libcurl")) {
        return "curl 7.88.1 (Debian 12 build, with NTLM and GSS-API)";
    }
    if (client == "Jakarta Mail") {
        return "Jakarta Mail 2.0.0";
    }
    return "";
}

// The list the client acts on: after TLS when TLS is in use (smtp-facts.md §4.12).
Mechanisms const& final_list(ServerAuthView const& view) {
    if (view.implicit_tls && view.advertised_after_tls.empty()) {
        return view.advertised_before_tls;
    }
    return view.tls_available ? view.advertised_after_tls : view.advertised_before_tls;
}

// Every client here, configured for TLS because the server offers STARTTLS, stops when the
// server refuses it: none goes on to AUTH in plaintext.
ClientVerdict starttls_refused(ServerAuthView const& view, std::string const& client) {
    std::string const& reply = *view.starttls_refusal;
    std::string const code = reply.substr(0, 3);
    std::string const text = reply.size() > 4 ? reply.substr(4) : std::string();
    ClientVerdict verdict{client, Outcome::fails, "",
                          "STARTTLS is offered but refused (" + reply +
                              "), and a client configured for TLS stops there: it sends no AUTH",
                          "smtp-facts.md §4.12"};
    std::string ruby_class = "Net::SMTPUnknownError";
    if (code.starts_with('4')) {
        ruby_class = "Net::SMTPServerBusy";
    } else if (code.starts_with("50")) {
        ruby_class = "Net::SMTPSyntaxError";
    } else if (code.starts_with("53")) {
        ruby_class = "Net::SMTPAuthenticationError";
    } else if (code.starts_with('5')) {
        ruby_class = "Net::SMTPFatalError";
    }
    bool const simple_text = text.find_first_of("'\\") == std::string::npos;
    if (client.starts_with("Go ")) {
        verdict.error = reply;
    } else if (client.starts_with("Python")) {
        verdict.error = "SMTPResponseException: (" + code +
                        (simple_text ? ", b'" + text + "')" : std::string(", "));
    } else if (client.starts_with("Nodemailer")) {
        verdict.error = "Error upgrading connection with STARTTLS: " + reply;
    } else if (client == "PHPMailer") {
        verdict.error = "STARTTLS command failed";
    } else if (client.starts_with("Ruby")) {
        verdict.error = ruby_class + ": " + reply;
    } else if (client.starts_with("libcurl")) {
        verdict.error = "(64) STARTTLS denied, code " + code;
    } else if (client == "Jakarta Mail") {
        verdict.error = "jakarta.mail.MessagingException: " + reply;
    } else if (client == "MailKit") {
        verdict.error = "SmtpCommandException";
    } else if (client.starts_with(".NET")) {
        verdict.error = "SmtpException";
    } else if (client == "lettre") {
        verdict.error = code.starts_with('4') ? "transient error" : "permanent error";
    }
    append(verdict.how, "it fails with " + verdict.error);
    return verdict;
}

// The server sent bytes behind its STARTTLS 220. The verdict otherwise stands for a client that
// discards them; curl refuses; PHPMailer reads them as its post-TLS EHLO reply.
void injected(ServerAuthView const& view, ClientVerdict& verdict) {
    using Injection = ClientVerdict::Injection;
    std::string const source = "tests/clients/FINDINGS.md";
    if (verdict.client.starts_with("libcurl")) {
        verdict = {verdict.client, Outcome::fails, "",
                   "it refuses data after the STARTTLS 220 and stops before the handshake", source};
        verdict.error = "(8) Weird server reply";
        verdict.injection = Injection::refuses;
    } else if (verdict.client == "PHPMailer") {
        std::string mech;
        for (std::string_view name : {"CRAM-MD5", "LOGIN", "PLAIN"}) {
            if (has_exact(view.injected_auth, name)) {
                mech = name;
                break;
            }
        }
        verdict = {verdict.client, mech.empty() ? Outcome::depends : Outcome::fails, mech,
                   "EXPOSED (CVE-2011-0411 class): it takes the injected plaintext as its "
                   "post-TLS EHLO reply and reads every later reply one step late",
                   source};
        if (mech.empty()) {
            verdict.how += "; what it sends then depends on the injected bytes";
        } else {
            verdict.how +=
                "; the injected AUTH line makes it send AUTH " + mech + ", which fails out of step";
            verdict.error = "SMTP Error: Could not authenticate.";
        }
        verdict.injection = Injection::exposed;
    } else if (!checked_against(verdict.client).empty()) {
        verdict.injection = Injection::discards;
        append(verdict.how, "it discards the bytes injected behind the STARTTLS 220 and goes on "
                            "over TLS");
    } else {
        verdict.injection = Injection::unchecked;
        append(verdict.how, "whether it discards the bytes injected behind the STARTTLS 220 was "
                            "not checked");
    }
}

} // namespace

std::vector<ClientVerdict> client_compatibility(ServerAuthView const& view) {
    Mechanisms const& list = final_list(view);
    std::vector<ClientVerdict> verdicts = {
        detail::go_net_smtp(view, list, true),
        detail::go_net_smtp(view, list, false),
        detail::python_login(view, list),
        detail::nodemailer(view, list, ""),
        detail::nodemailer(view, list, "PLAIN"),
        detail::dotnet_smtp_client(view, list),
        detail::mailkit(view, list),
        detail::jakarta_mail(view, list),
        detail::phpmailer(view, list),
        detail::libcurl(view, list, ""),
        detail::libcurl(view, list, "PLAIN"),
        detail::libcurl(view, list, "LOGIN"),
        detail::ruby_net_smtp(view, list),
        detail::lettre(view, list),
    };
    if (view.starttls_refusal) {
        for (ClientVerdict& verdict : verdicts) {
            verdict = starttls_refused(view, verdict.client);
        }
    } else if (view.starttls_injected) {
        for (ClientVerdict& verdict : verdicts) {
            injected(view, verdict);
        }
    }
    for (ClientVerdict& verdict : verdicts) {
        verdict.checked_against = checked_against(verdict.client);
    }
    return verdicts;
}

} // namespace smtpprobe::diagnose
