#include "diagnose/rules.hpp"

#include "report/words.hpp"

#include "diagnose/address_rules.hpp"
#include "diagnose/clients.hpp"
#include "diagnose/status_codes.hpp"
#include "diagnose/tls_rules.hpp"
#include "smtp/capabilities.hpp"

#include <algorithm>
#include <set>

namespace smtpprobe {
namespace {

class Rules {
public:
    Rules(Report const& report, Expectations const& expect, Verdict& out)
        : r_(report), expect_(expect), v_(out) {}
    void run();

private:
    void add(std::string id, Severity severity, std::string title, std::string detail,
             std::vector<std::string> evidence = {}) {
        v_.findings.push_back({std::move(id), std::move(severity), std::move(title),
                               std::move(detail), std::move(evidence)});
    }
    MechanismRow const* row(std::string_view name) const {
        for (MechanismRow const& m : r_.rows)
            if (m.name == name)
                return &m;
        return nullptr;
    }
    void session_rules();
    void tls_rules();
    void auth_rules();
    void ntlm_rules();
    void port_rules();
    void credential_rules();
    void provider_rules();
    void event_rules();
    void explanations();
    void clients();
    std::string vendor_hint() const {
        std::string hint = r_.host;
        if (r_.server.banner)
            hint += " " + r_.server.banner->wire();
        return hint;
    }

    Report const& r_;
    Expectations const& expect_;
    Verdict& v_;
};

void Rules::session_rules() {
    ServerFacts const& s = r_.server;
    if (!r_.session_established && !r_.fatal_error.empty() && !r_.interrupted) {
        std::vector<std::string> evidence;
        if (s.banner)
            evidence.push_back("banner: " + s.banner->wire());
        if (s.ehlo_reply)
            evidence.push_back(s.ehlo_command + ": " + s.ehlo_reply->wire());
        if (s.starttls_reply)
            evidence.push_back("STARTTLS: " + s.starttls_reply->wire());
        if (r_.fatal)
            evidence.push_back("phase: " + std::string(to_string(r_.fatal->phase)) + ", " +
                               std::string(to_string(r_.fatal->kind)) + ", " +
                               std::to_string(r_.fatal->bytes_received) + " bytes in " +
                               std::to_string(static_cast<long long>(r_.fatal->elapsed_ms)) +
                               " ms");
        bool const sentence = r_.fatal_error.ends_with(".");
        add("session.failed", Severity::error, "No SMTP session could be established",
            "The probe stopped before AUTH could be tested: " + r_.fatal_error +
                (sentence ? "" : "."),
            evidence);
    }
    port_rules();
    if (s.ehlo_command == "HELO" && s.ehlo_refusal)
        add("ehlo.helo_fallback", Severity::warning, "The server refused EHLO; HELO worked",
            "Without EHLO the server advertises no extensions (no STARTTLS, no AUTH). Clients "
            "without a HELO fallback (lettre) fail here; .NET falls back only on 500/502.",
            {"EHLO: " + s.ehlo_refusal->wire()});
    if (s.bare_lf_lines > 0)
        add("protocol.bare_lf", Severity::info,
            "The server ends reply lines with LF instead of CRLF",
            std::to_string(s.bare_lf_lines) +
                " reply line(s) ended with a bare LF (RFC 5321 §2.3.8 requires CRLF). Most "
                "clients cope; strict ones do not.");
    if (s.long_lines > 0)
        add("protocol.long_lines", Severity::info, "Reply lines longer than 512 octets",
            "RFC 5321 §4.5.3.1.5 limits reply lines to 512 octets including CRLF.");
}

void Rules::tls_rules() {
    ServerFacts const& s = r_.server;
    if (!s.starttls_injected.empty())
        add("starttls.injection", Severity::error,
            "The server sent data after its STARTTLS 220, before the TLS handshake",
            "Bytes that arrive in plaintext between the 220 and the handshake could have been "
            "injected by a man in the middle (CVE-2011-0411 class, smtp-facts §1.6). smtpprobe "
            "did not read them as SMTP: without credentials it discarded them and went on over "
            "TLS, as most clients do; with credentials it stops there. The client table says "
            "which clients are exposed.",
            {"bytes after the 220: " + escape_bytes(s.starttls_injected)});
    bool const plaintext_session = r_.session_established && !s.tls;
    if (plaintext_session && s.before_tls && !s.starttls_offered && r_.tls_mode != TlsMode::none)
        add("starttls.not_offered",
            r_.tls_mode == TlsMode::starttls ? Severity::error : Severity::warning,
            "The server does not offer STARTTLS",
            "The session stays unencrypted. Clients that require TLS (MailKit with "
            "StartTls, Nodemailer requireTLS, lettre starttls_relay) refuse to continue.");
    if (s.starttls_reply && s.starttls_reply->code != 220)
        add("starttls.refused", Severity::error, "STARTTLS was refused",
            "The server listed STARTTLS but answered " + s.starttls_reply->status() +
                " (RFC 3207 §4: 454 means TLS is temporarily unavailable).",
            {"STARTTLS: " + s.starttls_reply->wire()});
    for (Finding& f : diagnose::tls_findings(r_, expect_))
        v_.findings.push_back(std::move(f));
    for (Finding& f : diagnose::address_findings(r_))
        v_.findings.push_back(std::move(f));
}

void Rules::auth_rules() {
    ServerFacts const& s = r_.server;
    smtp::Capabilities const* final_caps = s.final_capabilities();
    if (!r_.session_established || final_caps == nullptr)
        return;
    bool const via_starttls = r_.tls_used == TlsMode::starttls;
    std::vector<std::string> recognised;
    std::vector<std::string> refused_advertised;
    for (MechanismRow const& m : r_.rows) {
        if (m.recognition.status == Status::recognised || m.recognition.status == Status::accepted)
            recognised.push_back(m.name);
        bool const advertised = s.tls ? m.advertised_after_tls : m.advertised_before_tls;
        if (advertised && m.recognition.status != Status::recognised &&
            m.recognition.status != Status::accepted && m.recognition.status != Status::skipped &&
            m.recognition.status != Status::pending)
            refused_advertised.push_back(m.name);
    }
    bool const auth_before = s.before_tls && !s.before_tls->auth.empty();
    bool const auth_after = via_starttls && s.after_tls && !s.after_tls->auth.empty();

    MechanismRow const* plain = row("PLAIN");
    if (!recognised.empty() && plain != nullptr && plain->recognition.reply &&
        plain->recognition.status != Status::recognised &&
        plain->recognition.status != Status::accepted) {
        std::string const code = plain->recognition.reply->status();
        std::string title = "Only " + list_words(recognised) +
                            (recognised.size() == 1 ? " is" : " are") + " accepted";
        if (via_starttls && auth_after && !auth_before)
            title += ", and only after STARTTLS";
        title += "; clients that send AUTH PLAIN get " + code;
        add("auth.mechanism_mismatch", Severity::warning, title,
            "Clients that send AUTH PLAIN without reading the server's list fail: Go net/smtp "
            "PlainAuth and Ruby net-smtp's default (:plain) among them. Configure the client to "
            "use " +
                list_words(recognised) + " (see \"Client libraries\" below).",
            {"AUTH PLAIN: " + plain->recognition.reply->wire()});
    }
    if (via_starttls && auth_after && !auth_before) {
        std::vector<std::string> evidence{"before TLS: " + join(s.before_tls->keywords(), " "),
                                          "after TLS: AUTH " + join(s.after_tls->auth, " ")};
        std::string detail =
            "AUTH appears only in the EHLO reply after STARTTLS (RFC 4954 §3 allows the list to "
            "change). Clients that authenticate without STARTTLS find no AUTH at all: Python "
            "smtplib without starttls() ('SMTP AUTH extension not supported by server'), .NET "
            "with EnableSsl=false, Jakarta Mail without mail.smtp.starttls.enable, libcurl "
            "without CURLOPT_USE_SSL.";
        if (s.auth_before_tls_reply) {
            evidence.push_back("AUTH " + s.auth_before_tls_mechanism.value_or("") +
                               " before STARTTLS: " + s.auth_before_tls_reply->wire());
            detail += " Sent before STARTTLS, AUTH gets " + s.auth_before_tls_reply->status() + ".";
        }
        add("auth.only_after_starttls", Severity::warning, "AUTH is offered only after STARTTLS",
            detail, evidence);
    }
    if (via_starttls && auth_before && s.auth_before_tls_reply &&
        s.auth_before_tls_reply->code != 334 && s.auth_before_tls_reply->first_digit() == 5)
        add("auth.advertised_before_tls_but_refused", Severity::warning,
            "AUTH is advertised before TLS but refused there",
            "The pre-TLS EHLO lists AUTH, yet AUTH " + *s.auth_before_tls_mechanism +
                " before STARTTLS gets " + s.auth_before_tls_reply->status() + ".",
            {"AUTH before STARTTLS: " + s.auth_before_tls_reply->wire()});

    if (!refused_advertised.empty()) {
        std::vector<std::string> evidence;
        for (std::string const& name : refused_advertised)
            if (MechanismRow const* m = row(name); m != nullptr && m->recognition.reply)
                evidence.push_back("AUTH " + name + ": " + m->recognition.reply->wire());
        add("auth.advertised_but_refused", Severity::error,
            "Advertised but not accepted: " + list_words(refused_advertised),
            "The EHLO reply lists these mechanisms but the server refuses them. Clients pick "
            "mechanisms from that list, so they will fail with the replies shown.",
            evidence);
    }
    std::vector<std::string> hidden;
    for (MechanismRow const& m : r_.rows) {
        bool const advertised = s.tls ? m.advertised_after_tls : m.advertised_before_tls;
        if (!advertised && m.recognition.status == Status::recognised)
            hidden.push_back(m.name);
    }
    if (!hidden.empty())
        add("auth.recognised_not_advertised", Severity::info,
            "Recognised although not advertised: " + list_words(hidden),
            "The server answers 334 to these mechanisms without listing them. Clients only "
            "use advertised mechanisms, so this matters only to clients forced to one.");
    if (recognised.empty() && !final_caps->from_helo)
        add("auth.none", r_.credentials_given ? Severity::error : Severity::warning,
            "No AUTH mechanism was accepted",
            final_caps->auth.empty()
                ? "The server advertises no AUTH in the state probed and refused every mechanism."
                : "The server advertises AUTH but refused every mechanism tried.");
    if (!s.tls && !final_caps->auth.empty() &&
        std::any_of(r_.rows.begin(), r_.rows.end(), [](MechanismRow const& m) {
            return (m.name == "PLAIN" || m.name == "LOGIN") &&
                   m.recognition.status == Status::recognised;
        }))
        add("auth.plaintext", Severity::warning, "Passwords would travel unencrypted",
            "The server accepts PLAIN or LOGIN on a connection without TLS (RFC 4954 §4 requires "
            "a configuration that refuses them there).");
    if (MechanismRow const* anon = row("ANONYMOUS");
        anon != nullptr && anon->recognition.status == Status::recognised)
        add("auth.anonymous", Severity::warning, "ANONYMOUS is accepted",
            "A submission server that accepts ANONYMOUS may relay for anyone (RFC 4505).");
    if (s.final_capabilities()->auth_equals_form && !s.final_capabilities()->auth_space_form)
        add("auth.legacy_equals_only", Severity::warning,
            "AUTH is advertised only in the old AUTH= form",
            "PHPMailer, libcurl, Ruby net-smtp, lettre and Go read only \"AUTH \" lines and see "
            "no mechanisms at all.");
    if (s.final_capabilities()->auth_lowercase)
        add("auth.lowercase_names", Severity::warning,
            "Mechanism names are advertised in lower case",
            "Python smtplib, PHPMailer, lettre, MailKit and Go compare names case-sensitively "
            "and find no match.");
}

// What the port speaks, when it is not what the TLS mode said (probes/contact.hpp).
void Rules::port_rules() {
    ServerFacts const& s = r_.server;
    if (s.implicit_tls_detected)
        add("port.implicit_tls", Severity::warning,
            "This port speaks implicit TLS; clients configured for STARTTLS will hang",
            "No banner arrived in plaintext within the banner wait (--banner-wait), and a TLS "
            "handshake on a fresh connection worked: the server waits for a ClientHello, as on "
            "port 465 (RFC 8314 §3). A client set to STARTTLS or plaintext waits for a banner "
            "that never comes and times out; configure clients with implicit TLS (\"SSL/TLS\") "
            "for this port. smtpprobe went on over implicit TLS.");
    if (s.plaintext_on_implicit_port)
        add("port.plaintext_on_implicit_tls_port", Severity::warning,
            "This port speaks plaintext SMTP, not implicit TLS",
            "The TLS handshake failed (" + s.implicit_handshake_error +
                "), and a plaintext connection got a 220 banner. Clients configured for implicit "
                "TLS (\"SSL/TLS\", port 465) fail here with a handshake error; use STARTTLS on "
                "this port, or turn on implicit TLS in the server (RFC 8314 §3). smtpprobe went "
                "on in plaintext" +
                (s.starttls_attempted ? std::string(" and STARTTLS.") : std::string(".")));
    if (s.other_protocol)
        add("port.other_protocol", Severity::error,
            "This port speaks " + std::string(smtp::protocol_name(*s.other_protocol)) +
                ", not SMTP",
            s.failure ? s.failure->detail : s.stop_reason);
}

void Rules::ntlm_rules() {
    MechanismRow const* m = row("NTLM");
    if (m == nullptr || !m->recognition.ntlm)
        return;
    NtlmInfo const& info = *m->recognition.ntlm;
    if (info.outcome == NtlmInfo::Outcome::malformed) {
        add("auth.ntlm_challenge_malformed", Severity::warning,
            "The server's NTLM CHALLENGE message is malformed",
            "The reply to an NTLM NEGOTIATE message could not be decoded (" + info.error +
                "); NTLM clients will fail against it.",
            info.reply ? std::vector<std::string>{info.reply->wire()} : std::vector<std::string>{});
        return;
    }
    if (!info.challenge)
        return;
    sasl::ntlm::Challenge const& c = *info.challenge;
    std::vector<std::string> named;
    auto name = [&](std::string_view what, std::optional<std::string> const& value) {
        if (value && !value->empty())
            named.push_back(std::string(what) + " " + escape_controls(*value));
    };
    if (c.target_info) {
        name("computer", c.target_info->nb_computer_name);
        name("DNS name", c.target_info->dns_computer_name);
        name("domain", c.target_info->nb_domain_name);
        name("DNS domain", c.target_info->dns_domain_name);
        name("forest", c.target_info->dns_tree_name);
    }
    if (named.empty())
        name("target", c.target_name);
    if (c.version)
        named.push_back("Windows version " + sasl::ntlm::to_string(*c.version));
    if (named.empty())
        return;
    add("auth.ntlm_information", Severity::info,
        "NTLM tells anyone who asks the server's internal names",
        "Before any credential, the CHALLENGE that answers an NTLM NEGOTIATE message gives the " +
            list_words(named) +
            ". This is what nmap's smtp-ntlm-info reads: a map of the internal Windows domain "
            "for anyone who can connect. If no client needs NTLM here, do not offer it (on "
            "Exchange: take Integrated out of the receive connector's AuthMechanism).");
}

void Rules::credential_rules() {
    if (!r_.credentials_given)
        return;
    std::vector<std::string> accepted, rejected, skipped;
    std::vector<std::string> evidence;
    std::string skip_reason;
    for (MechanismRow const& m : r_.rows) {
        Authentication const& a = m.authentication;
        if (a.status == Status::accepted)
            accepted.push_back(m.name);
        else if (a.status == Status::rejected) {
            rejected.push_back(m.name);
            if (a.reply)
                evidence.push_back("AUTH " + m.name + ": " + a.reply->wire());
        } else if (a.status == Status::skipped && m.implemented &&
                   (m.recognition.status == Status::recognised) && a.withheld != Withheld::no) {
            skipped.push_back(m.name);
            skip_reason = a.reason;
        }
    }
    if (!accepted.empty())
        add("auth.credentials_accepted", Severity::info,
            "The credentials work with " + list_words(accepted), "");
    if (!rejected.empty())
        add("auth.credentials_rejected", accepted.empty() ? Severity::error : Severity::warning,
            "The credentials were rejected with " + list_words(rejected),
            accepted.empty()
                ? "The mechanism is recognised, so the problem is the user name or password (or "
                  "the account's permission to submit mail)."
                : "Some mechanisms accept the credentials and others do not: the server's "
                  "back ends disagree.",
            evidence);
    if (!skipped.empty())
        add("auth.credentials_not_sent", Severity::error, "Credentials were not sent",
            skip_reason + ". Fix the TLS problem reported above (--ca-file trusts a private "
                          "CA), or give --allow-insecure-auth to send them anyway (the report "
                          "will say so).");
    if (r_.credentials_sent_insecurely)
        add("auth.credentials_sent_insecurely", Severity::warning,
            "Credentials were sent over a connection that was not verified TLS",
            "--allow-insecure-auth was given. Treat the password as exposed if the network is "
            "not trusted.");
}

void Rules::provider_rules() {
    std::string const hint = smtp::to_upper(vendor_hint());
    if (hint.find("AZURECOMM.NET") != std::string::npos) {
        bool const rejected =
            std::any_of(v_.findings.begin(), v_.findings.end(),
                        [](Finding const& f) { return f.id == "auth.credentials_rejected"; });
        add("provider.azure_acs", rejected ? Severity::warning : Severity::info,
            "Azure Communication Services: how to authenticate",
            "Use AUTH LOGIN after STARTTLS on port 587. The user name is "
            "<ACS resource name>.<Entra application id>.<Entra tenant id> (dot- or "
            "pipe-separated, two GUIDs) or the name of an SMTP Username resource; the password "
            "is a client secret of that Entra application, which needs the \"Communication and "
            "Email Service Owner\" role (or a custom role) on the resource (smtp-facts §3.1).");
    } else if (hint.find("OFFICE365.COM") != std::string::npos ||
               hint.find("OUTLOOK.COM") != std::string::npos) {
        add("provider.microsoft365", Severity::info, "Microsoft 365: SMTP AUTH facts",
            "Exchange Online accepts LOGIN and XOAUTH2, not PLAIN (504 5.7.4). Basic "
            "authentication for client submission is being retired (550 5.7.30); SMTP AUTH "
            "may be disabled per tenant or mailbox (535 5.7.139) (smtp-facts §3.2).");
    } else if (hint.find("GMAIL.COM") != std::string::npos ||
               hint.find("GOOGLE.COM") != std::string::npos) {
        add("provider.gmail", Severity::info, "Gmail: SMTP AUTH facts",
            "Use the full address as user name and an app password (2-step accounts) or an "
            "OAuth token with XOAUTH2/OAUTHBEARER (smtp-facts §3.3).");
    } else if (hint.find("AMAZONAWS.COM") != std::string::npos) {
        add("provider.ses", Severity::info, "Amazon SES: SMTP credentials",
            "SES SMTP credentials are per region and differ from AWS access keys (smtp-facts "
            "§3.4).");
    } else if (hint.find("SENDGRID.NET") != std::string::npos) {
        add("provider.sendgrid", Severity::info, "SendGrid: SMTP credentials",
            "The user name is the literal string \"apikey\" and the password is an API key "
            "(smtp-facts §3.5).");
    }
}

void Rules::event_rules() {
    std::vector<std::string> reconnects;
    for (Event const& e : r_.events)
        if (e.kind == "reconnect")
            reconnects.push_back("connection " + std::to_string(e.session) + ": " + e.detail);
    if (!reconnects.empty())
        add("connection.reconnected", Severity::info,
            "The server dropped connections during AUTH probes",
            "RFC 4954 §9 lets servers drop a connection after failed attempts (no fewer than 3). "
            "smtpprobe reconnected and carried on; rows are unaffected.",
            reconnects);
    if (std::any_of(r_.events.begin(), r_.events.end(),
                    [](Event const& e) { return e.kind == "capabilities_differ"; }))
        add("connection.capabilities_differ", Severity::warning,
            "Connections got different AUTH lists",
            "Different connections to the same name saw different capabilities: the name may "
            "lead to pool members configured differently.");
    std::size_t skipped = static_cast<std::size_t>(
        std::count_if(r_.rows.begin(), r_.rows.end(), [](MechanismRow const& m) {
            return m.recognition.status == Status::skipped;
        }));
    if (r_.interrupted)
        add("run.interrupted", Severity::warning, "Interrupted", "The report is partial.");
    else if (skipped > 0 && r_.session_established)
        add("run.incomplete", Severity::warning,
            std::to_string(skipped) + " mechanism(s) could not be probed",
            "See the rows marked skipped for the reason.");
}

void Rules::explanations() {
    std::set<std::string> seen;
    std::vector<smtp::Reply const*> replies;
    ServerFacts const& s = r_.server;
    for (std::optional<smtp::Reply> const* reply :
         {&s.banner, &s.ehlo_refusal, &s.starttls_reply, &s.auth_before_tls_reply})
        if (*reply)
            replies.push_back(&**reply);
    for (MechanismRow const& m : r_.rows)
        for (std::optional<smtp::Reply> const* reply :
             {&m.recognition.reply, &m.recognition.cancel_reply, &m.authentication.reply})
            if (*reply)
                replies.push_back(&**reply);
    std::string const hint = vendor_hint();
    for (smtp::Reply const* reply : replies) {
        if (reply->code == 250 || reply->code == 220 || reply->code == 334)
            continue;
        std::string const key = reply->status();
        if (!seen.insert(key).second)
            continue;
        for (diagnose::Meaning& m : diagnose::explain(reply->code, reply->enhanced(), hint)) {
            bool const duplicate = std::any_of(
                v_.explanations.begin(), v_.explanations.end(), [&](Explanation const& e) {
                    return e.subject == m.subject && e.source == m.source;
                });
            if (!duplicate)
                v_.explanations.push_back({m.subject, m.text, m.source, m.advice});
        }
    }
}

// The first line of a reply as sent: "454 4.7.0 TLS not available due to local problem".
std::string first_wire_line(smtp::Reply const& reply) {
    return std::to_string(reply.code) + (reply.lines.empty() ? "" : " " + reply.lines.front());
}

void Rules::clients() {
    ServerFacts const& s = r_.server;
    if (!r_.session_established)
        return;
    diagnose::ServerAuthView view;
    view.server_name = r_.server_name.empty() ? r_.host : r_.server_name;
    view.tls_available = s.tls.has_value();
    view.implicit_tls = r_.tls_used == TlsMode::implicit;
    view.helo_only = s.ehlo_command == "HELO";
    if (s.starttls_offered && s.starttls_reply && s.starttls_reply->code != 220)
        view.starttls_refusal = first_wire_line(*s.starttls_reply);
    if (!s.starttls_injected.empty()) {
        view.starttls_injected = true;
        // What a client that reads the injected bytes as its post-TLS EHLO reply sees.
        smtp::ReplyParser parser;
        parser.feed(s.starttls_injected);
        if (std::optional<smtp::Reply> reply = parser.next(); reply && reply->code == 250)
            view.injected_auth = smtp::parse_capabilities(*reply).auth;
    }
    if (s.before_tls && !view.implicit_tls)
        view.advertised_before_tls = s.before_tls->auth;
    if (s.tls && s.after_tls)
        view.advertised_after_tls = s.after_tls->auth;
    if (smtp::Capabilities const* caps = s.final_capabilities())
        view.legacy_auth_equals_only = caps->auth_equals_form && !caps->auth_space_form;
    for (MechanismRow const& m : r_.rows) {
        if (m.recognition.reply) {
            view.first_reply[m.name] = m.recognition.reply->code;
            view.first_reply_text[m.name] = first_wire_line(*m.recognition.reply);
        }
        if (m.name == "LOGIN" && m.recognition.challenge)
            view.login_prompt = *m.recognition.challenge;
    }
    for (diagnose::ClientVerdict const& v : diagnose::client_compatibility(view))
        v_.clients.push_back(
            {v.client, std::string(diagnose::outcome_name(v.outcome)), v.mechanism, v.how, v.source,
             v.error, std::string(diagnose::injection_name(v.injection)), v.checked_against});
}

void Rules::run() {
    session_rules();
    tls_rules();
    auth_rules();
    ntlm_rules();
    credential_rules();
    provider_rules();
    event_rules();
    explanations();
    clients();
}

} // namespace

void diagnose_findings(Report const& report, Expectations const& expect, Verdict& out) {
    Rules(report, expect, out).run();
}

} // namespace smtpprobe
