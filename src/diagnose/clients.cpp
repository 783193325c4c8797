#include "diagnose/clients.hpp"

#include "diagnose/client_model.hpp"

namespace smtpprobe::diagnose {

namespace {

using client_model::append;
using client_model::has_exact;
using client_model::Mechanisms;
using client_model::Outcome;

// The versions the real-client suite (tests/clients) runs; it fails when the installed ones
// differ, so this table stays true. .NET, MailKit and lettre cannot be installed there.
std::string checked_against(ClientLibrary library) {
    switch (library) {
    case ClientLibrary::go_net_smtp:
        return "Go 1.19.8 net/smtp";
    case ClientLibrary::python_smtplib:
        return "Python 3.11.2 smtplib";
    case ClientLibrary::nodemailer:
        return "Nodemailer 10.6.1";
    case ClientLibrary::phpmailer:
        return "PHPMailer 6.6.3";
    case ClientLibrary::ruby_net_smtp:
        return "net-smtp 0.3.1 (Ruby 3.1.2)";
    case ClientLibrary::libcurl:
        return "curl 7.88.1 (Debian 12 build, with NTLM and GSS-API)";
    case ClientLibrary::jakarta_mail:
        return "Jakarta Mail 2.0.0";
    case ClientLibrary::dotnet_smtp_client:
    case ClientLibrary::mailkit:
    case ClientLibrary::lettre:
        return "";
    }
    return "";
}

// A new verdict on the same library and configuration.
ClientVerdict replaced(ClientVerdict const& old, Outcome outcome, std::string mechanism,
                       std::string how, std::string source) {
    ClientVerdict verdict{old.client, outcome, std::move(mechanism), std::move(how),
                          std::move(source)};
    verdict.library = old.library;
    return verdict;
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
ClientVerdict starttls_refused(ServerAuthView const& view, ClientVerdict const& old) {
    smtp::Reply const& refusal = *view.starttls_refusal;
    std::string const reply = refusal.first_line();
    std::string const code = std::to_string(refusal.code);
    std::string const text = refusal.lines.empty() ? std::string() : refusal.lines.front();
    ClientVerdict verdict =
        replaced(old, Outcome::fails, "",
                 "STARTTLS is offered but refused (" + reply +
                     "), and a client configured for TLS stops there: it sends no AUTH",
                 "smtp-facts.md §4.12");
    std::string ruby_class = "Net::SMTPUnknownError";
    if (refusal.first_digit() == 4) {
        ruby_class = "Net::SMTPServerBusy";
    } else if (refusal.code / 10 == 50) {
        ruby_class = "Net::SMTPSyntaxError";
    } else if (refusal.code / 10 == 53) {
        ruby_class = "Net::SMTPAuthenticationError";
    } else if (refusal.first_digit() == 5) {
        ruby_class = "Net::SMTPFatalError";
    }
    bool const simple_text = text.find_first_of("'\\") == std::string::npos;
    switch (verdict.library) {
    case ClientLibrary::go_net_smtp:
        verdict.error = reply;
        break;
    case ClientLibrary::python_smtplib:
        verdict.error = "SMTPResponseException: (" + code +
                        (simple_text ? ", b'" + text + "')" : std::string(", "));
        break;
    case ClientLibrary::nodemailer:
        verdict.error = "Error upgrading connection with STARTTLS: " + reply;
        break;
    case ClientLibrary::phpmailer:
        verdict.error = "STARTTLS command failed";
        break;
    case ClientLibrary::ruby_net_smtp:
        verdict.error = ruby_class + ": " + reply;
        break;
    case ClientLibrary::libcurl:
        verdict.error = "(64) STARTTLS denied, code " + code;
        break;
    case ClientLibrary::jakarta_mail:
        verdict.error = "jakarta.mail.MessagingException: " + reply;
        break;
    case ClientLibrary::mailkit:
        verdict.error = "SmtpCommandException";
        break;
    case ClientLibrary::dotnet_smtp_client:
        verdict.error = "SmtpException";
        break;
    case ClientLibrary::lettre:
        verdict.error = refusal.first_digit() == 4 ? "transient error" : "permanent error";
        break;
    }
    append(verdict.how, "it fails with " + verdict.error);
    return verdict;
}

// The error each library reports when its TLS handshake reads the injected plaintext (the
// bytes came after the 220, in a read of their own), as the real-client suite saw it.
std::string late_injection_error(ClientLibrary library) {
    switch (library) {
    case ClientLibrary::go_net_smtp:
        return "tls: first record does not look like a TLS handshake";
    case ClientLibrary::python_smtplib:
        return "SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number";
    case ClientLibrary::nodemailer:
        return "wrong version number";
    case ClientLibrary::phpmailer:
        return "SMTP Error: Could not connect to SMTP host. Connection failed. "
               "stream_socket_enable_crypto(): SSL operation failed";
    case ClientLibrary::ruby_net_smtp:
        return "OpenSSL::SSL::SSLError";
    case ClientLibrary::libcurl:
        return "(35)"; // (35) OpenSSL/<version>: ... wrong version number
    case ClientLibrary::jakarta_mail:
        return "jakarta.mail.MessagingException: Could not convert socket to TLS";
    case ClientLibrary::dotnet_smtp_client:
    case ClientLibrary::mailkit:
    case ClientLibrary::lettre:
        return "";
    }
    return "";
}

// The server sent bytes behind its STARTTLS 220, in the same read as the 220. The verdict
// otherwise stands for a client that discards them; curl refuses; PHPMailer reads them as its
// post-TLS EHLO reply.
void injected_same_read(ServerAuthView const& view, ClientVerdict& verdict) {
    using Injection = ClientVerdict::Injection;
    std::string const source = "tests/clients/FINDINGS.md";
    if (verdict.library == ClientLibrary::libcurl) {
        verdict = replaced(verdict, Outcome::fails, "",
                           "it refuses data after the STARTTLS 220 and stops before the handshake",
                           source);
        verdict.error = "(8) Weird server reply";
        verdict.injection = Injection::refuses;
    } else if (verdict.library == ClientLibrary::phpmailer) {
        std::string mech;
        for (std::string_view name : {"CRAM-MD5", "LOGIN", "PLAIN"}) {
            if (has_exact(view.injected_auth, name)) {
                mech = name;
                break;
            }
        }
        verdict = replaced(verdict, mech.empty() ? Outcome::depends : Outcome::fails, mech,
                           "EXPOSED (CVE-2011-0411 class): it takes the injected plaintext as its "
                           "post-TLS EHLO reply and reads every later reply one step late",
                           source);
        if (mech.empty()) {
            verdict.how += "; what it sends then depends on the injected bytes";
        } else {
            verdict.how +=
                "; the injected AUTH line makes it send AUTH " + mech + ", which fails out of step";
            verdict.error = "SMTP Error: Could not authenticate.";
        }
        verdict.injection = Injection::exposed;
    } else if (!checked_against(verdict.library).empty()) {
        verdict.injection = Injection::discards;
        append(verdict.how, "it discards the bytes injected behind the STARTTLS 220 and goes on "
                            "over TLS");
    } else {
        verdict.injection = Injection::unchecked;
        append(verdict.how, "whether it discards the bytes injected behind the STARTTLS 220 was "
                            "not checked");
    }
}

// The bytes came after the 220, in a read of their own: a client that has read the 220 and
// started its handshake reads them as a TLS record, and the handshake fails. Not exposed, but
// no mail goes out.
void injected_late(ClientVerdict& verdict) {
    using Injection = ClientVerdict::Injection;
    std::string const error = late_injection_error(verdict.library);
    if (error.empty()) {
        verdict.injection = Injection::unchecked;
        append(verdict.how, "the bytes injected after the STARTTLS 220 came in a segment of "
                            "their own; what it does with them was not checked (a client that "
                            "has read the 220 meets them in its TLS handshake)");
        return;
    }
    verdict = replaced(verdict, Outcome::fails, "",
                       "the bytes injected after the STARTTLS 220 came in a segment of their "
                       "own, so its TLS handshake reads them as a TLS record and fails: it is "
                       "not exposed, but it sends no AUTH and no mail",
                       "tests/clients/FINDINGS.md");
    verdict.error = error;
    verdict.injection = Injection::handshake_fails;
}

// smtpprobe's own exchange with the user's password, by the mechanism the library ends with,
// was refused (a basic-auth cut-off, a locked account, a wrong password): the library, sending
// the same password the same way, is refused too. Only an exchange with a password leaves a
// refusal for these mechanisms (the plan runs none without one).
void password_refused(ServerAuthView const& view, ClientVerdict& verdict) {
    using client_model::go_style;
    using client_model::wire_style;
    auto const it = view.exchange_refusal.find(verdict.mechanism);
    if (verdict.outcome != Outcome::works || it == view.exchange_refusal.end()) {
        return;
    }
    client_model::Quoted const q = client_model::quoted(it->second);
    verdict.outcome = Outcome::fails;
    append(verdict.how, "smtpprobe's own " + verdict.mechanism +
                            " exchange with this password got " + go_style(q) +
                            ", and so does the library");
    switch (verdict.library) {
    case ClientLibrary::go_net_smtp:
        verdict.error = go_style(q);
        break;
    case ClientLibrary::python_smtplib:
        verdict.error = client_model::python_style(q);
        break;
    case ClientLibrary::nodemailer:
        verdict.error = "Invalid login: " + wire_style(q);
        break;
    case ClientLibrary::jakarta_mail:
        verdict.error = "jakarta.mail.AuthenticationFailedException: " + wire_style(q);
        break;
    case ClientLibrary::phpmailer:
        verdict.error = "SMTP Error: Could not authenticate.";
        break;
    case ClientLibrary::libcurl:
        verdict.error = "(67) Login denied";
        break;
    case ClientLibrary::ruby_net_smtp:
        verdict.error = "Net::SMTPAuthenticationError";
        break;
    case ClientLibrary::mailkit:
        verdict.error = "AuthenticationException";
        break;
    case ClientLibrary::dotnet_smtp_client:
        verdict.error = "SmtpException";
        break;
    case ClientLibrary::lettre:
        verdict.error = "permanent error";
        break;
    }
}

} // namespace

std::vector<ClientVerdict> client_compatibility(ServerAuthView const& view) {
    Mechanisms const& list = final_list(view);
    std::vector<ClientVerdict> verdicts;
    auto add = [&verdicts](ClientLibrary library, ClientVerdict verdict) {
        verdict.library = library;
        verdicts.push_back(std::move(verdict));
    };
    add(ClientLibrary::go_net_smtp, client_model::go_net_smtp(view, list, true));
    add(ClientLibrary::go_net_smtp, client_model::go_net_smtp(view, list, false));
    add(ClientLibrary::python_smtplib, client_model::python_login(view, list));
    add(ClientLibrary::nodemailer, client_model::nodemailer(view, list, ""));
    add(ClientLibrary::nodemailer, client_model::nodemailer(view, list, "PLAIN"));
    add(ClientLibrary::dotnet_smtp_client, client_model::dotnet_smtp_client(view, list));
    add(ClientLibrary::mailkit, client_model::mailkit(view, list));
    add(ClientLibrary::jakarta_mail, client_model::jakarta_mail(view, list));
    add(ClientLibrary::phpmailer, client_model::phpmailer(view, list));
    add(ClientLibrary::libcurl, client_model::libcurl(view, list, ""));
    add(ClientLibrary::libcurl, client_model::libcurl(view, list, "PLAIN"));
    add(ClientLibrary::libcurl, client_model::libcurl(view, list, "LOGIN"));
    add(ClientLibrary::ruby_net_smtp, client_model::ruby_net_smtp(view, list));
    add(ClientLibrary::lettre, client_model::lettre(view, list));
    for (ClientVerdict& verdict : verdicts) {
        password_refused(view, verdict);
    }
    if (view.token_given || client_model::has_any_case(list, "XOAUTH2") ||
        client_model::has_any_case(list, "OAUTHBEARER")) {
        add(ClientLibrary::go_net_smtp, client_model::go_xoauth2(view, list));
        add(ClientLibrary::python_smtplib, client_model::python_xoauth2(view, list));
        add(ClientLibrary::nodemailer, client_model::nodemailer_oauth2(view, list));
        add(ClientLibrary::jakarta_mail, client_model::jakarta_xoauth2(view, list));
        add(ClientLibrary::phpmailer, client_model::phpmailer_xoauth2(view, list));
        add(ClientLibrary::libcurl, client_model::libcurl_bearer(view, list));
    }
    if (view.starttls_refusal) {
        for (ClientVerdict& verdict : verdicts) {
            verdict = starttls_refused(view, verdict);
        }
    } else if (view.starttls_injected) {
        for (ClientVerdict& verdict : verdicts) {
            if (view.starttls_injected_late) {
                injected_late(verdict);
            } else {
                injected_same_read(view, verdict);
            }
        }
    }
    for (ClientVerdict& verdict : verdicts) {
        verdict.checked_against = checked_against(verdict.library);
    }
    return verdicts;
}

} // namespace smtpprobe::diagnose
