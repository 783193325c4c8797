#include "diagnose/checks.hpp"

#include "report/words.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe {
namespace {

void auth_check(Report const& r, std::string const& name, std::vector<Check>& out) {
    MechanismRow const* row = nullptr;
    for (MechanismRow const& m : r.rows)
        if (m.name == name)
            row = &m;
    std::string const id = "auth." + name;
    if (row == nullptr) {
        out.push_back({id, CheckState::unknown, name + " was not probed"});
        return;
    }
    bool const with_credentials = (r.credentials_given || r.client_certificate_given) &&
                                  row->implemented && row->authentication.status != Status::skipped;
    if (with_credentials) {
        Authentication const& a = row->authentication;
        if (a.status == Status::accepted)
            out.push_back({id, CheckState::ok, name + " authenticates"});
        else
            out.push_back({id, CheckState::critical,
                           name + " " + std::string(to_string(a.status)) +
                               (a.reply ? " (" + a.reply->summary() + ")" : "") +
                               (a.reason.empty() ? "" : ": " + a.reason)});
        return;
    }
    Recognition const& rec = row->recognition;
    if (rec.status == Status::recognised || rec.status == Status::accepted) {
        out.push_back({id, CheckState::ok, name + " recognised"});
        return;
    }
    std::string message = name + " not recognised";
    if (rec.reply)
        message += " (" + rec.reply->summary() + ")";
    else if (!rec.note.empty())
        message += " (" + rec.note + ")";
    out.push_back({id,
                   rec.status == Status::error || rec.status == Status::skipped
                       ? CheckState::unknown
                       : CheckState::critical,
                   message});
}

void certificate_check(Report const& r, Expectations const& expect, std::vector<Check>& out) {
    if (!r.server.tls || r.server.tls->chain.empty())
        return;
    net::TlsInfo const& t = *r.server.tls;
    long const days = t.chain.front().days_left;
    std::string message = "certificate expires in " + std::to_string(days) + " days";
    if (days < 0)
        message = "certificate expired " + std::to_string(-days) + " days ago";
    CheckState status = CheckState::ok;
    if (days < expect.cert_crit_days)
        status = CheckState::critical;
    else if (days < expect.cert_warn_days)
        status = CheckState::warning;
    if (!t.verified() && !t.verification_skipped) {
        status = CheckState::critical;
        message += "; not verified: " +
                   (t.chain_verified ? "not valid for " + t.verify_name : t.verify_error);
    }
    out.push_back({"certificate", status, message});
}

/// --expect-sender-accepted, --expect-rcpt-accepted: the envelope's MAIL FROM, every RCPT TO.
void envelope_checks(Report const& r, Expectations const& expect, std::vector<Check>& out) {
    using Kind = EnvelopeStep::Kind;
    Envelope const* e = r.envelope ? &*r.envelope : nullptr;
    auto reply_state = [](EnvelopeStep const& step) {
        if (!step.reply)
            return CheckState::unknown;
        return step.reply->code / 100 == 2 ? CheckState::ok : CheckState::critical;
    };
    if (expect.sender_accepted) {
        EnvelopeStep const* mail = e != nullptr ? e->first(Kind::mail) : nullptr;
        if (mail == nullptr)
            out.push_back({"envelope.sender", CheckState::unknown,
                           e == nullptr ? "no envelope test (--mail-from not given, or no session)"
                                        : "MAIL FROM not sent: " + e->stopped});
        else
            out.push_back({"envelope.sender", reply_state(*mail),
                           "MAIL FROM:" + mail->argument + ": " +
                               (mail->reply ? mail->reply->summary() : "no reply")});
    }
    if (expect.rcpt_accepted) {
        std::vector<EnvelopeStep const*> rcpts;
        if (e != nullptr)
            for (EnvelopeStep const& step : e->steps)
                if (step.kind == Kind::rcpt)
                    rcpts.push_back(&step);
        if (rcpts.empty()) {
            out.push_back({"envelope.rcpt", CheckState::unknown,
                           e == nullptr || e->rcpt.empty()
                               ? "no recipient tested (--rcpt not given, or no session)"
                               : "RCPT TO not sent (MAIL FROM was refused or the test stopped)"});
        } else {
            CheckState state = CheckState::ok;
            std::string message;
            for (EnvelopeStep const* step : rcpts) {
                CheckState const s = reply_state(*step);
                if (s != CheckState::ok) {
                    state = s == CheckState::critical || state == CheckState::critical
                                ? CheckState::critical
                                : s;
                    message += (message.empty() ? "" : "; ") + step->argument + ": " +
                               (step->reply ? step->reply->summary() : "no reply");
                }
            }
            if (message.empty())
                message = std::to_string(rcpts.size()) + " recipient(s) accepted";
            out.push_back({"envelope.rcpt", state, message});
        }
    }
}

Finding const* find(std::vector<Finding> const& findings, std::string_view id) {
    for (Finding const& f : findings)
        if (f.id == id)
            return &f;
    return nullptr;
}

/// --size, --requiretls: the user said what the message needs, so a mismatch is CRITICAL like
/// an expectation (and not counted again under "findings").
void message_checks(Report const& r, std::vector<Finding> const& findings,
                    std::vector<Check>& out) {
    if (!r.session_established)
        return;
    smtp::Capabilities const* caps = r.server.final_capabilities();
    if (r.message_size) {
        std::string const size = std::to_string(*r.message_size) + " bytes";
        if (find(findings, "message.over_size") != nullptr)
            out.push_back({"message.size", CheckState::critical,
                           "message of " + size + " over the server's SIZE" +
                               (caps && caps->size ? " " + std::to_string(*caps->size) : "")});
        else
            out.push_back({"message.size", CheckState::ok,
                           "message of " + size +
                               (caps && caps->size && *caps->size > 0
                                    ? " within SIZE " + std::to_string(*caps->size)
                                    : ": no size limit advertised")});
    }
    if (r.requiretls)
        out.push_back(
            find(findings, "message.requiretls_unsupported")
                ? Check{"message.requiretls", CheckState::critical, "REQUIRETLS not advertised"}
                : Check{"message.requiretls", CheckState::ok, "REQUIRETLS advertised"});
}

/// "Is TLS mandatory?": what MAIL FROM:<> got before STARTTLS. A submission port that takes
/// mail without TLS is a WARNING (finding mail.without_tls); port 25 may (RFC 3207 §4).
void mail_tls_check(Report const& r, std::vector<Check>& out) {
    std::optional<smtp::Reply> const& reply = r.server.mail_before_tls_reply;
    if (!reply)
        return;
    switch (r.mail_without_tls()) {
    case MailGate::accepted:
        out.push_back({"mail_tls", r.relay_port() ? CheckState::ok : CheckState::warning,
                       (r.relay_port() ? "port 25 takes mail without TLS ("
                                       : "this submission port takes mail without TLS (") +
                           reply->summary() + ")"});
        return;
    case MailGate::refused:
        out.push_back({"mail_tls", CheckState::ok,
                       std::string(r.server.starttls_offered ? "TLS required before mail ("
                                                             : "MAIL refused without TLS (") +
                           reply->summary() + ")"});
        return;
    case MailGate::not_tested:
    case MailGate::not_applicable:
        return;
    }
}

} // namespace

std::vector<Check> evaluate_checks(Report const& r, std::vector<Finding> const& findings,
                                   Expectations const& expect) {
    std::vector<Check> out;
    if (r.interrupted)
        out.push_back({"session", CheckState::unknown, "interrupted"});
    else if (!r.session_established)
        out.push_back({"session", CheckState::critical,
                       r.fatal_error().empty() ? "no SMTP session" : r.fatal_error()});
    else
        out.push_back({"session", CheckState::ok,
                       "SMTP session" + std::string(r.server.tls ? " with " + r.server.tls->version
                                                                 : " without TLS")});
    std::size_t const first_expected = out.size();
    for (std::string const& name : expect.auth)
        auth_check(r, name, out);
    if (expect.starttls) {
        bool const ok = r.tls_used == TlsMode::starttls;
        std::string message = ok ? "STARTTLS works" : "STARTTLS ";
        if (!ok)
            message +=
                !r.server.starttls_offered ? "not offered"
                : r.server.starttls_reply && r.server.starttls_reply->code != 220
                    ? "refused (" + r.server.starttls_reply->summary() + ")"
                    : "failed" + (r.server.tls_error.empty() ? "" : ": " + r.server.tls_error);
        out.push_back({"starttls", ok ? CheckState::ok : CheckState::critical, message});
    }
    if (expect.sender_accepted || expect.rcpt_accepted)
        envelope_checks(r, expect, out);
    if (!expect.tls_min.empty()) {
        int const want = net::tls_version_number(expect.tls_min);
        int const got = r.server.tls ? net::tls_version_number(r.server.tls->version) : 0;
        CheckState status = got >= want ? CheckState::ok : CheckState::critical;
        std::string message = got == 0 ? "no TLS (expected at least TLS " + expect.tls_min + ")"
                                       : r.server.tls->version + (got >= want ? " >= " : " < ") +
                                             "TLSv" + expect.tls_min;
        // With --tls-versions we also know what else the server would accept.
        if (r.tls_versions) {
            std::vector<std::string> older;
            for (TlsVersionResult const& v : *r.tls_versions)
                if (v.accepted && net::tls_version_number(v.version) < want)
                    older.push_back("TLS " + v.version);
            if (!older.empty()) {
                status = CheckState::critical;
                message += "; the server also accepts " + list_words(older);
            }
        }
        out.push_back({"tls_min", status, message});
    }
    if (expect.warning_s || expect.critical_s) {
        double const total_s = r.total_ms / 1000.0;
        CheckState status = CheckState::ok;
        if (expect.critical_s && total_s > *expect.critical_s)
            status = CheckState::critical;
        else if (expect.warning_s && total_s > *expect.warning_s)
            status = CheckState::warning;
        out.push_back({"time", status, "run took " + seconds_text(r.total_ms) + " s"});
    }
    message_checks(r, findings, out);
    for (std::size_t i = first_expected; i < out.size(); ++i)
        out[i].expected = true;
    certificate_check(r, expect, out);
    mail_tls_check(r, out);
    // Problems no expectation named still count, but only as a warning: the service works.
    std::vector<std::string> errors;
    for (Finding const& f : findings)
        if (f.severity == Severity::error && f.id != "session.failed" &&
            f.id != "message.over_size" && f.id != "message.requiretls_unsupported")
            errors.push_back(f.title);
    if (!errors.empty()) {
        std::string message = errors.front();
        if (errors.size() > 1)
            message += " (+" + std::to_string(errors.size() - 1) + " more)";
        out.push_back({"findings", CheckState::warning, message});
    }
    return out;
}

CheckState nagios_state(std::vector<Check> const& checks) noexcept {
    CheckState worst = CheckState::ok;
    for (Check const& c : checks) {
        // UNKNOWN only wins when nothing is CRITICAL (plugin guidelines: CRITICAL > UNKNOWN
        // for the service's state, but UNKNOWN > WARNING).
        if (c.status == CheckState::unknown && worst != CheckState::critical)
            worst = CheckState::unknown;
        else if (c.status == CheckState::critical)
            worst = CheckState::critical;
        else if (c.status == CheckState::warning && worst == CheckState::ok)
            worst = CheckState::warning;
    }
    return worst;
}

} // namespace smtpprobe
