#include "render/render.hpp"

#include "report/words.hpp"

#include <cstdio>

namespace smtpprobe {
namespace {

/// A '|' starts the perfdata (Monitoring Plugins guidelines §2.6), in the status line and in
/// the long output alike: one in a server's reply text must not make fake perfdata.
std::string without_pipes(std::string text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text)
        out += c == '|' ? std::string("\\x7c") : std::string(1, c);
    return out;
}

} // namespace

std::string render_nagios(Report const& r, Verdict const& v) {
    Expectations const& expect = v.expectations;
    CheckState const state = nagios_state(v.checks);
    std::vector<std::string> bad;
    for (Check const& c : v.checks)
        if (c.status != CheckState::ok)
            bad.push_back(c.message);
    std::string summary;
    if (bad.empty()) {
        for (Check const& c : v.checks)
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
        perf += std::string(perf.empty() ? "" : " ") + label + "=" + seconds_text(*ms) + "s;" +
                warn + ";" + crit + ";0;";
    };
    add("connect", t.connect, "", "");
    add("proxy_handshake", t.proxy, "", "");
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
                std::to_string(expect.cert_warn_days) + ";" +
                std::to_string(expect.cert_crit_days) + ";;";
    std::string out = "SMTPPROBE " + std::string(to_string(state)) + " - " + without_pipes(summary);
    if (!perf.empty())
        out += " | " + perf;
    out += "\n";
    for (Check const& c : v.checks)
        out +=
            without_pipes("[" + std::string(to_string(c.status)) + "] " + c.id + ": " + c.message) +
            "\n";
    return terminal_safe(out, false);
}

} // namespace smtpprobe
