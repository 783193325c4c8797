#include "diagnose/rules.hpp"

#include "report/words.hpp"

#include "diagnose/address_rules.hpp"
#include "diagnose/auth_rules.hpp"
#include "diagnose/clients.hpp"
#include "diagnose/envelope_rules.hpp"
#include "diagnose/line_ending_rules.hpp"
#include "diagnose/mandatory_rules.hpp"
#include "diagnose/rule_set.hpp"
#include "diagnose/status_codes.hpp"
#include "diagnose/tls_rules.hpp"
#include "diagnose/token_rules.hpp"
#include "smtp/capabilities.hpp"

#include <algorithm>
#include <set>

namespace smtpprobe {
namespace {

class Rules : diagnose::RuleSet {
public:
    Rules(Report const& report, Expectations const& expect, Verdict& out)
        : RuleSet(report, out.findings), expect_(expect), v_(out) {}
    void run();

private:
    void session_rules();
    void tls_rules();
    void port_rules();
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

    Expectations const& expect_;
    Verdict& v_;
};

void Rules::session_rules() {
    ServerFacts const& s = r_.server;
    if (!r_.session_established && !r_.fatal_error().empty() && !r_.interrupted) {
        std::vector<std::string> evidence;
        if (s.banner)
            evidence.push_back("banner: " + s.banner->wire());
        if (s.ehlo_reply)
            evidence.push_back(std::string(to_string(s.hello_verb)) + ": " + s.ehlo_reply->wire());
        if (s.starttls_reply)
            evidence.push_back("STARTTLS: " + s.starttls_reply->wire());
        if (r_.fatal && r_.fatal->phase)
            evidence.push_back("phase: " + std::string(to_string(*r_.fatal->phase)) + ", " +
                               std::string(to_string(r_.fatal->kind)) + ", " +
                               std::to_string(r_.fatal->bytes_received) + " bytes in " +
                               std::to_string(static_cast<long long>(r_.fatal->elapsed_ms)) +
                               " ms");
        std::string const why = r_.fatal_error();
        bool const sentence = why.ends_with(".");
        add("session.failed", Severity::error, "No SMTP session could be established",
            "The probe stopped before AUTH could be tested: " + why + (sentence ? "" : "."),
            evidence);
    }
    port_rules();
    if (s.hello_verb == smtp::HelloVerb::helo && s.ehlo_refusal)
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
            "did not read them as SMTP: it discarded them and went on over TLS (credentials "
            "only over TLS verified for chain and host). " +
                std::string(s.starttls_injected_late
                                ? "They came in a read of their own after the 220, so a "
                                  "client that has read the 220 meets them in its TLS "
                                  "handshake. "
                                : "They came in the same read as the 220. ") +
                "The client table says which clients are exposed.",
            {std::string(s.starttls_injected_late ? "bytes after the 220, in a read of their own: "
                                                  : "bytes after the 220: ") +
             escape_bytes(s.starttls_injected)});
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
    diagnose::mandatory_findings(r_, v_.findings);
    diagnose::message_findings(r_, v_.findings);
}

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
            s.why_stopped());
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
        if (e.kind == EventKind::reconnect)
            reconnects.push_back("connection " + std::to_string(e.connection) + ": " + e.detail);
    if (!reconnects.empty())
        add("connection.reconnected", Severity::info,
            "The server dropped connections during AUTH probes",
            "RFC 4954 §9 lets servers drop a connection after failed attempts (no fewer than 3). "
            "smtpprobe reconnected and carried on; rows are unaffected.",
            reconnects);
    if (std::any_of(r_.events.begin(), r_.events.end(),
                    [](Event const& e) { return e.kind == EventKind::capabilities_differ; }))
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
    if (r_.envelope)
        for (EnvelopeStep const& step : r_.envelope->steps)
            if (step.reply)
                replies.push_back(&*step.reply);
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

void Rules::clients() {
    ServerFacts const& s = r_.server;
    if (!r_.session_established)
        return;
    diagnose::ServerAuthView view;
    view.server_name = r_.server_name.empty() ? r_.host : r_.server_name;
    view.tls_available = s.tls.has_value();
    view.implicit_tls = r_.tls_used == TlsMode::implicit;
    view.helo_only = s.hello_verb == smtp::HelloVerb::helo;
    view.password_given = r_.credentials_given && !r_.token_given;
    view.token_given = r_.token_given;
    view.user_has_domain = r_.user_has_domain;
    if (s.starttls_offered && s.starttls_reply && s.starttls_reply->code != 220)
        view.starttls_refusal = s.starttls_reply;
    if (!s.starttls_injected.empty()) {
        view.starttls_injected = true;
        view.starttls_injected_late = s.starttls_injected_late;
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
            view.first_reply_text[m.name] = m.recognition.reply->first_line();
        }
        if (m.name == "LOGIN" && m.recognition.challenge)
            view.login_prompt = *m.recognition.challenge;
        if (m.name == "LOGIN" && m.authentication.password_prompt)
            view.login_password_prompt = *m.authentication.password_prompt;
        if (m.authentication.status == Status::accepted)
            view.authenticated.insert(m.name);
        else if (m.authentication.reply)
            view.exchange_refusal[m.name] = *m.authentication.reply;
        if (m.authentication.oauth_error)
            view.error_challenge.insert(m.name);
    }
    for (diagnose::ClientVerdict const& v : diagnose::client_compatibility(view))
        v_.clients.push_back({v.client, v.outcome, v.mechanism, v.how, v.source, v.error,
                              v.injection, v.checked_against});
}

void Rules::run() {
    diagnose::token_findings(r_, v_.findings); // the preflight: before any connection
    session_rules();
    tls_rules();
    diagnose::line_ending_findings(r_, v_.findings);
    diagnose::auth_findings(r_, v_.findings);
    v_.envelope = diagnose::judge_envelope(r_);
    if (v_.envelope)
        for (Finding& f : diagnose::envelope_findings(*v_.envelope, r_))
            v_.findings.push_back(std::move(f));
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
