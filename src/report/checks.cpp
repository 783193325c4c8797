#include "report/checks.hpp"

#include "report/words.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe {
namespace {

int state_value(std::string const& status) noexcept {
    if (status == "OK")
        return 0;
    if (status == "WARNING")
        return 1;
    if (status == "CRITICAL")
        return 2;
    return 3;
}

char const* state_name(int value) noexcept {
    switch (value) {
    case 0:
        return "OK";
    case 1:
        return "WARNING";
    case 2:
        return "CRITICAL";
    default:
        return "UNKNOWN";
    }
}

/// "TLSv1.2" -> 12, "1.3" -> 13; 0 when unknown.
int version_number(std::string_view text) {
    if (text.starts_with("TLSv"))
        text.remove_prefix(4);
    if (text.size() < 3 || text[0] != '1' || text[1] != '.')
        return 0;
    return 10 + (text[2] - '0');
}

std::string seconds(double ms) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6f", ms / 1000.0);
    return buffer;
}

void auth_check(Report const& r, std::string const& name, std::vector<Check>& out) {
    MechanismRow const* row = nullptr;
    for (MechanismRow const& m : r.rows)
        if (m.name == name)
            row = &m;
    std::string const id = "auth." + name;
    if (row == nullptr) {
        out.push_back({id, "UNKNOWN", name + " was not probed"});
        return;
    }
    bool const with_credentials =
        r.credentials_given && row->implemented && row->authentication.status != Status::skipped;
    if (with_credentials) {
        Authentication const& a = row->authentication;
        if (a.status == Status::accepted)
            out.push_back({id, "OK", name + " authenticates"});
        else
            out.push_back({id, "CRITICAL",
                           name + " " + std::string(to_string(a.status)) +
                               (a.reply ? " (" + a.reply->summary() + ")" : "") +
                               (a.reason.empty() ? "" : ": " + a.reason)});
        return;
    }
    Recognition const& rec = row->recognition;
    if (rec.status == Status::recognised || rec.status == Status::accepted) {
        out.push_back({id, "OK", name + " recognised"});
        return;
    }
    std::string message = name + " not recognised";
    if (rec.reply)
        message += " (" + rec.reply->summary() + ")";
    else if (!rec.note.empty())
        message += " (" + rec.note + ")";
    out.push_back(
        {id, rec.status == Status::error || rec.status == Status::skipped ? "UNKNOWN" : "CRITICAL",
         message});
}

void certificate_check(Report const& r, std::vector<Check>& out) {
    if (!r.server.tls || r.server.tls->chain.empty())
        return;
    net::TlsInfo const& t = *r.server.tls;
    long const days = t.chain.front().days_left;
    std::string message = "certificate expires in " + std::to_string(days) + " days";
    if (days < 0)
        message = "certificate expired " + std::to_string(-days) + " days ago";
    std::string status = "OK";
    if (days < r.cert_crit_days)
        status = "CRITICAL";
    else if (days < r.cert_warn_days)
        status = "WARNING";
    if (!t.verified() && !t.verification_skipped) {
        status = "CRITICAL";
        message += "; not verified: " +
                   (t.chain_verified ? "not valid for " + t.verify_name : t.verify_error);
    }
    out.push_back({"certificate", status, message});
}

} // namespace

void evaluate_checks(Report& r, Expectations const& expect) {
    std::vector<Check> out;
    if (r.interrupted)
        out.push_back({"session", "UNKNOWN", "interrupted"});
    else if (!r.session_established)
        out.push_back(
            {"session", "CRITICAL", r.fatal_error.empty() ? "no SMTP session" : r.fatal_error});
    else
        out.push_back({"session", "OK",
                       "SMTP session" + std::string(r.server.tls ? " with " + r.server.tls->version
                                                                 : " without TLS")});
    for (std::string const& name : expect.auth)
        auth_check(r, name, out);
    if (expect.starttls) {
        bool const ok = r.server.tls && r.server.starttls_attempted;
        std::string message = ok ? "STARTTLS works" : "STARTTLS ";
        if (!ok)
            message +=
                !r.server.starttls_offered ? "not offered"
                : r.server.starttls_reply && r.server.starttls_reply->code != 220
                    ? "refused (" + r.server.starttls_reply->summary() + ")"
                    : "failed" + (r.server.tls_error.empty() ? "" : ": " + r.server.tls_error);
        out.push_back({"starttls", ok ? "OK" : "CRITICAL", message});
    }
    if (!expect.tls_min.empty()) {
        int const want = version_number(expect.tls_min);
        int const got = r.server.tls ? version_number(r.server.tls->version) : 0;
        std::string status = got >= want ? "OK" : "CRITICAL";
        std::string message = got == 0 ? "no TLS (expected at least TLS " + expect.tls_min + ")"
                                       : r.server.tls->version + (got >= want ? " >= " : " < ") +
                                             "TLSv" + expect.tls_min;
        // With --tls-versions we also know what else the server would accept.
        if (r.tls_versions) {
            std::vector<std::string> older;
            for (TlsVersionResult const& v : *r.tls_versions)
                if (v.accepted && version_number(v.version) < want)
                    older.push_back("TLS " + v.version);
            if (!older.empty()) {
                status = "CRITICAL";
                message += "; the server also accepts " + list_words(older);
            }
        }
        out.push_back({"tls_min", status, message});
    }
    if (expect.warning_s || expect.critical_s) {
        double const total_s = r.total_ms / 1000.0;
        std::string status = "OK";
        if (expect.critical_s && total_s > *expect.critical_s)
            status = "CRITICAL";
        else if (expect.warning_s && total_s > *expect.warning_s)
            status = "WARNING";
        out.push_back({"time", status, "run took " + seconds(r.total_ms) + " s"});
    }
    certificate_check(r, out);
    // Problems no expectation named still count, but only as a warning: the service works.
    std::vector<std::string> errors;
    for (Finding const& f : r.findings)
        if (f.severity == "error" && f.id != "session.failed")
            errors.push_back(f.title);
    if (!errors.empty()) {
        std::string message = errors.front();
        if (errors.size() > 1)
            message += " (+" + std::to_string(errors.size() - 1) + " more)";
        out.push_back({"findings", "WARNING", message});
    }
    r.checks = std::move(out);
}

int nagios_state(Report const& r) noexcept {
    int worst = 0;
    for (Check const& c : r.checks) {
        int const v = state_value(c.status);
        // UNKNOWN only wins when nothing is CRITICAL (plugin guidelines: CRITICAL > UNKNOWN
        // for the service's state, but UNKNOWN > WARNING).
        if (v == 3 && worst < 2)
            worst = 3;
        else if (v == 2)
            worst = 2;
        else if (v == 1 && worst == 0)
            worst = 1;
    }
    return worst;
}

std::string render_nagios(Report const& r, Expectations const& expect) {
    int const state = nagios_state(r);
    std::vector<std::string> bad;
    for (Check const& c : r.checks)
        if (c.status != "OK")
            bad.push_back(c.message);
    std::string summary;
    if (bad.empty()) {
        for (Check const& c : r.checks)
            summary += (summary.empty() ? "" : ", ") + c.message;
    } else {
        for (std::string const& b : bad)
            summary += (summary.empty() ? "" : "; ") + b;
    }
    // Perfdata (guidelines §2.6): 'label'=value[UOM];[warn];[crit];[min];[max]
    Timings const& t = r.server.timings;
    std::string perf;
    auto add = [&](char const* label, std::optional<double> const& ms, std::string const& warn,
                   std::string const& crit) {
        if (!ms)
            return;
        perf += std::string(perf.empty() ? "" : " ") + label + "=" + seconds(*ms) + "s;" + warn +
                ";" + crit + ";0;";
    };
    add("connect", t.connect, "", "");
    add("tls_handshake", t.tls_handshake, "", "");
    add("banner", t.banner, "", "");
    add("ehlo", t.ehlo, "", "");
    add("starttls", t.starttls, "", "");
    add("auth", r.auth_ms, "", "");
    auto threshold = [](std::optional<double> const& s) {
        if (!s)
            return std::string();
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.3f", *s);
        return std::string(buffer);
    };
    add("total", r.total_ms, threshold(expect.warning_s), threshold(expect.critical_s));
    if (r.server.tls && !r.server.tls->chain.empty())
        perf += " cert_days=" + std::to_string(r.server.tls->chain.front().days_left) + ";" +
                std::to_string(r.cert_warn_days) + ";" + std::to_string(r.cert_crit_days) + ";;";
    std::string out = std::string("SMTPPROBE ") + state_name(state) + " - " + summary;
    if (!perf.empty())
        out += " | " + perf;
    out += "\n";
    for (Check const& c : r.checks)
        out += "[" + c.status + "] " + c.id + ": " + c.message + "\n";
    return out;
}

} // namespace smtpprobe
