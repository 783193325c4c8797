// The HTML report: the sections of the text report, in the issue's order, as one page.

#include "render/html.hpp"

#include "render/cells.hpp"
#include "report/auth_verdict.hpp"
#include "report/timeline.hpp"
#include "report/words.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace smtpprobe {
namespace {

constexpr char const* style_sheet = R"css(
:root{--ok:#d7f0dc;--ok-ink:#135c25;--bad:#fbd9dc;--bad-ink:#8a1020;--warn:#fff0c2;--warn-ink:#6b4e00;
--mute:#eef0f3;--ink:#1d232b;--line:#c9ced6}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
margin:0 auto;padding:1rem;max-width:75rem;background:#fff}
h1{font-size:1.35rem;margin:.2rem 0 .6rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;
border-bottom:1px solid var(--line);padding-bottom:.2rem}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.88em}
.verdict{border:2px solid var(--line);border-radius:.5rem;padding:.8rem 1rem}
.verdict.error{border-color:var(--bad-ink);background:var(--bad)}
.verdict.warning{border-color:var(--warn-ink);background:var(--warn)}
.verdict.ok{border-color:var(--ok-ink);background:var(--ok)}
.verdict p{margin:.25rem 0}
dd code{white-space:pre-wrap}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:var(--mute)}
td.reply{overflow-wrap:anywhere;min-width:14rem}
tr.recognised td,td.ok{background:var(--ok)}
tr.accepted td{background:var(--ok);font-weight:600}
tr.refused td,td.bad,tr.error td{background:var(--bad)}
tr.withheld td,td.warn{background:var(--warn)}
tr.unsupported td{color:#5a6270}
td.differs{outline:3px solid var(--bad-ink);outline-offset:-3px}
.finding{border-left:6px solid var(--line);padding:.3rem .7rem;margin:.6rem 0;background:var(--mute)}
.finding.error{border-color:var(--bad-ink);background:var(--bad)}
.finding.warning{border-color:var(--warn-ink);background:var(--warn)}
.finding h3{font-size:1rem;margin:0}.finding p{margin:.25rem 0}
.sev{display:inline-block;font-size:.75rem;font-weight:700;padding:0 .35rem;border-radius:.2rem;
margin-right:.4rem;background:#fff;border:1px solid currentColor}
ul.evidence{margin:.2rem 0;padding-left:1.2rem}
ul.evidence li{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85em;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr));gap:.7rem}
.card{border:1px solid var(--line);border-radius:.4rem;padding:.5rem .7rem;overflow-wrap:anywhere}
.card.fails{border:2px solid var(--bad-ink);background:var(--bad)}
.card h3{font-size:.95rem;margin:0 0 .3rem}.card p{margin:.15rem 0;font-size:.9em}
.mark{font-weight:700;color:var(--bad-ink)}
svg.timeline{width:100%;height:auto;font:11px system-ui,sans-serif}
pre.transcript{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--mute);padding:.6rem;
border-radius:.3rem}
summary{cursor:pointer;font-weight:600}
footer{margin-top:2rem;font-size:.8em;color:#5a6270}
article+article{margin-top:3rem;border-top:4px double var(--line);padding-top:1rem}
@media (max-width:40rem){body{padding:.5rem;font-size:14px}dl.facts{grid-template-columns:1fr}
dl.facts dt{margin-top:.3rem}}
@media print{body{max-width:none;padding:0;font-size:10pt}.scroll{overflow:visible}
h2{break-after:avoid}tr,.finding,.card{break-inside:avoid}
a{color:inherit;text-decoration:none}details{display:block}}
)css";

/// Appends <tag class="cls">escaped text</tag>.
std::string element(std::string_view tag, std::string_view cls, std::string_view text) {
    std::string out = "<" + std::string(tag);
    if (!cls.empty())
        out += " class=\"" + std::string(cls) + "\"";
    return out + ">" + html_escape(text) + "</" + std::string(tag) + ">";
}

std::string fact(std::string_view label, std::string_view value) {
    return "<dt>" + html_escape(label) + "</dt><dd>" + html_escape(value) + "</dd>\n";
}

std::string exit_meaning(int code, bool nagios) {
    if (nagios) {
        switch (code) {
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
    switch (code) {
    case exit_code::ok:
        return "the probe completed and found no problem of severity error";
    case exit_code::problems:
        return "the probe completed, with at least one error finding or a failed expectation";
    case exit_code::no_session:
        return "no session reached the point where AUTH can be probed";
    case exit_code::interrupted:
        return "interrupted; the report is partial";
    default:
        return "see the README's exit codes";
    }
}

std::string caps_text(std::optional<smtp::Capabilities> const& caps) {
    if (!caps)
        return "-";
    if (caps->from_helo)
        return "(HELO: no extensions)";
    std::vector<std::string> lines;
    for (smtp::Capability const& c : caps->items)
        lines.push_back(c.line);
    return lines.empty() ? std::string("(none)") : join(lines, ", ");
}

std::string ms_text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, value < 10 ? "%.1f ms" : "%.0f ms", value);
    return buffer;
}

void verdict_header(Report const& r, Verdict const& v, std::string& out) {
    Finding const* worst = cells::worst_finding(v.findings);
    std::string_view const cls = !r.session_established              ? "error"
                                 : worst == nullptr                  ? "ok"
                                 : worst->severity == Severity::info ? "ok"
                                                                     : to_string(worst->severity);
    out += "<header class=\"verdict " + std::string(cls) + "\">\n";
    out += "<h1>" + html_escape(r.host) + " port " + std::to_string(r.port) + "</h1>\n";
    if (!r.session_established && r.fatal)
        out +=
            "<p><strong>No session:</strong> " + html_escape(phase_and_detail(*r.fatal)) + "</p>\n";
    if (worst != nullptr)
        out += "<p><strong>Worst finding:</strong> <span class=\"sev\">" +
               std::string(to_string(worst->severity)) + "</span>" + html_escape(worst->title) +
               "</p>\n";
    else
        out += "<p><strong>Worst finding:</strong> none</p>\n";
    out += "<p><strong>Exit code " + std::to_string(v.exit_code) + ":</strong> " +
           html_escape(exit_meaning(v.exit_code, v.expectations.nagios)) + "</p>\n";
    out += "<dl class=\"facts\">\n";
    if (r.started_at != 0)
        out += fact("When", utc_time(r.started_at));
    if (!r.connected_address.empty())
        out += fact("Address", r.connected_address);
    if (r.addresses.size() > 1)
        out += fact("Addresses", join(r.addresses, ", "));
    ConnectionPath const& p = r.path;
    if (!p.proxy.empty())
        out += fact("Proxy", cells::proxy_text(p));
    if (!p.proxy_bypass.empty())
        out += fact("Proxy", p.proxy_bypass);
    if (!p.local_address.empty() || !p.source.empty())
        out += fact("From",
                    (p.local_address.empty() ? std::string("(no connection)") : p.local_address) +
                        (p.source.empty() ? "" : " (--source " + p.source + ")"));
    if (r.credentials_given || !r.user_shown.empty())
        out += fact("User", (r.user_shown.empty() ? std::string("(none)") : r.user_shown) +
                                (r.credentials_given ? "" : " (no password given)"));
    out += fact("Run", std::to_string(r.connections) + " connection(s), at most " +
                           std::to_string(r.parallel) + " at once, " + ms_text(r.total_ms) +
                           " in all; smtpprobe " SMTPPROBE_VERSION);
    out += "</dl>\n</header>\n";
}

void server_section(Report const& r, std::string& out) {
    ServerFacts const& s = r.server;
    if (!s.banner && s.tls_error.empty())
        return;
    out += "<section><h2>Server</h2>\n<dl class=\"facts\">\n";
    if (s.banner)
        out += "<dt>Banner</dt><dd><code>" + html_escape(s.banner->wire()) + "</code></dd>\n";
    if (s.ehlo_reply)
        out += "<dt>" + html_escape(to_string(s.hello_verb)) + "</dt><dd><code>" +
               html_escape(s.ehlo_reply->wire()) + "</code></dd>\n";
    bool const implicit = r.tls_used == TlsMode::implicit;
    if (s.before_tls && !implicit)
        out += fact(s.tls || s.starttls_attempted ? "Before TLS" : "Extensions",
                    caps_text(s.before_tls));
    if (s.auth_before_tls_reply)
        out += fact("AUTH pre-TLS", "AUTH " + s.auth_before_tls_mechanism.value_or("") + " -> " +
                                        s.auth_before_tls_reply->wire());
    if (s.starttls_reply)
        out += fact("STARTTLS", s.starttls_reply->wire());
    if (!s.starttls_injected.empty())
        out += "<dt>Injected</dt><dd class=\"mark\">data after the 220, before the handshake: "
               "<code>" +
               html_escape(escape_bytes(s.starttls_injected)) + "</code></dd>\n";
    if (!s.tls_error.empty())
        out += "<dt>TLS</dt><dd class=\"mark\">handshake failed: " + html_escape(s.tls_error) +
               "</dd>\n";
    if (s.tls) {
        net::TlsInfo const& t = *s.tls;
        out += fact("TLS", t.version + ", " + t.cipher + (t.group.empty() ? "" : ", " + t.group) +
                               (implicit ? " (implicit TLS)" : "") +
                               (t.sni.empty() ? "; no SNI sent" : "; SNI " + t.sni));
    }
    if (s.tls && s.after_tls)
        out += fact(implicit ? "Extensions" : "After TLS", caps_text(s.after_tls));
    out += "</dl>\n</section>\n";
}

std::string_view row_class(MechanismRow const& m, bool with_credentials) {
    if (with_credentials && m.authentication.withheld != Withheld::no)
        return "withheld";
    if (with_credentials) {
        switch (auth_verdict(m)) {
        case AuthVerdict::accepted:
            return "accepted";
        case AuthVerdict::credentials_refused:
        case AuthVerdict::token_refused:
            return "refused";
        default:
            break;
        }
    }
    switch (m.recognition.status) {
    case Status::recognised:
    case Status::accepted:
        return "recognised";
    case Status::refused:
    case Status::error:
        return "refused";
    case Status::temporary_failure:
        return "withheld";
    default:
        return "unsupported";
    }
}

void matrix_section(Report const& r, std::string& out) {
    if (r.rows.empty())
        return;
    out += "<section><h2>AUTH mechanisms</h2>\n";
    if (!r.session_established) {
        out += "<p>Not probed: no session got that far.</p>\n</section>\n";
        return;
    }
    ServerFacts const& s = r.server;
    bool const with_credentials = r.credentials_given || r.client_certificate_given;
    bool const two_states = s.starttls_attempted;
    out += "<p>Probed " +
           std::string(!s.tls                 ? "without TLS"
                       : s.starttls_attempted ? "after STARTTLS"
                                              : "over implicit TLS") +
           "; " +
           (with_credentials ? "with credentials"
                             : "no credentials: recognition only, nothing secret sent") +
           ".</p>\n<div class=\"scroll\"><table class=\"matrix\">\n<thead><tr><th>Mechanism</th>";
    out += two_states ? "<th>Pre-TLS</th><th>TLS</th>" : "<th>Advertised</th>";
    out += "<th>Recognised</th>";
    if (with_credentials)
        out += "<th>Authenticated</th>";
    out += "<th>Reply</th></tr></thead>\n<tbody>\n";
    for (MechanismRow const& m : r.rows) {
        out += "<tr class=\"" + std::string(row_class(m, with_credentials)) + "\"><td><code>" +
               html_escape(m.name) + "</code></td>";
        if (two_states)
            out += "<td>" + std::string(m.advertised_before_tls ? "yes" : "-") + "</td><td>" +
                   (m.advertised_after_tls ? "yes" : "-") + "</td>";
        else
            out += std::string("<td>") +
                   ((s.tls ? m.advertised_after_tls : m.advertised_before_tls) ? "yes" : "-") +
                   "</td>";
        out += element("td", "", cells::recognised_cell(m.recognition));
        if (with_credentials) {
            std::string cell = cells::auth_cell(m);
            if (m.authentication.withheld != Withheld::no && !m.authentication.reason.empty())
                cell = "withheld: " + m.authentication.reason;
            out += element("td", "", cell);
        }
        out += element("td", "reply",
                       with_credentials ? cells::auth_detail(m)
                                        : cells::recognition_detail(m.recognition));
        out += "</tr>\n";
    }
    out += "</tbody></table></div>\n</section>\n";
}

void findings_section(Verdict const& v, std::string& out) {
    if (v.findings.empty())
        return;
    out += "<section><h2>Findings</h2>\n";
    for (Finding const& f : v.findings) {
        std::string_view const cls = to_string(f.severity);
        out += "<div class=\"finding " + std::string(cls) + "\" id=\"finding-" + html_escape(f.id) +
               "\"><h3><span class=\"sev\">" + std::string(cls) + "</span>" + html_escape(f.title) +
               "</h3>\n";
        if (!f.detail.empty())
            out += element("p", "", f.detail) + "\n";
        if (!f.evidence.empty()) {
            out += "<ul class=\"evidence\">";
            for (std::string const& e : f.evidence)
                out += element("li", "", e);
            out += "</ul>\n";
        }
        out += "</div>\n";
    }
    out += "</section>\n";
}

/// --mail-from / --rcpt / --send: each envelope step with its reply, meaning and fix, as the
/// text report's "Envelope" section has them; first whether a message went out, and to whom.
void envelope_section(Verdict const& v, std::string& out) {
    if (!v.envelope)
        return;
    Envelope const& e = *v.envelope;
    std::string context = cells::envelope_context(e) + ".";
    context[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(context[0])));
    out += "<section><h2>Envelope</h2>\n" + element("p", "", context) + "\n";
    if (std::string const outcome = cells::envelope_outcome(e); !outcome.empty())
        out += element("p", "mark", outcome) + "\n";
    out += "<div class=\"scroll\"><table><thead><tr><th>Command</th><th>Reply</th>"
           "<th>Meaning</th></tr></thead>\n<tbody>\n";
    for (EnvelopeStep const& step : e.steps) {
        std::string command(verb(step.kind));
        if (!step.argument.empty())
            command += " " + step.argument;
        int const code = step.reply ? step.reply->code : 0;
        std::string_view const cls = code == 0                        ? "error"
                                     : code / 100 == 2 || code == 354 ? "recognised"
                                     : code / 100 == 4                ? "withheld"
                                                                      : "refused";
        std::string meaning = step.meaning;
        if (!step.fix.empty())
            meaning += (meaning.empty() ? "" : " ") + std::string("Fix: ") + step.fix;
        out += "<tr class=\"" + std::string(cls) + "\"><td><code>" + html_escape(command) +
               "</code></td>" +
               element("td", "reply", step.reply ? step.reply->wire() : "(no reply)") +
               element("td", "", meaning) + "</tr>\n";
    }
    out += "</tbody></table></div>\n";
    if (!e.stopped.empty())
        out += element("p", "", "Stopped: " + e.stopped) + "\n";
    out += "</section>\n";
}

/// The first verification issue at `depth`, or null.
net::VerifyIssue const* issue_at(net::TlsInfo const& t, int depth) {
    for (net::VerifyIssue const& i : t.verify_issues)
        if (i.depth == depth)
            return &i;
    return nullptr;
}

void chain_section(Report const& r, std::string& out) {
    if (!r.server.tls || r.server.tls->chain.empty())
        return;
    net::TlsInfo const& t = *r.server.tls;
    out +=
        "<section><h2>Certificate chain</h2>\n<p>Chain " +
        std::string(t.chain_verified ? "verified"
                                     : "<span class=\"mark\">NOT verified</span>: " +
                                           html_escape(t.verify_error)) +
        (t.host_checked
             ? "; host name " + html_escape(t.verify_name) +
                   (t.host_verified ? " matches the certificate"
                                    : " <span class=\"mark\">does NOT match</span> the certificate")
             : std::string("; host name not checked")) +
        (t.verification_skipped && !t.verified() ? " (--insecure: not enforced)" : "") +
        ".</p>\n<div class=\"cards\">\n";
    for (std::size_t i = 0; i < t.chain.size(); ++i) {
        net::CertificateInfo const& c = t.chain[i];
        net::VerifyIssue const* issue = issue_at(t, static_cast<int>(i));
        bool const wrong_host = i == 0 && t.host_checked && !t.host_verified;
        bool const fails = issue != nullptr || wrong_host;
        out += std::string("<div class=\"card") + (fails ? " fails" : "") + "\"><h3>#" +
               std::to_string(i) + " " + html_escape(c.subject) + "</h3>\n";
        if (issue != nullptr)
            out += "<p class=\"mark\">fails: " + html_escape(issue->reason) + "</p>\n";
        if (wrong_host)
            out +=
                "<p class=\"mark\">fails: not valid for " + html_escape(t.verify_name) + "</p>\n";
        out += element("p", "", "issuer " + c.issuer) + "\n";
        if (!c.subject_alt_names.empty())
            out += element("p", "", "names " + join(c.subject_alt_names, ", ")) + "\n";
        out += element("p", c.days_left < 0 || c.days_until_valid > 0 ? "mark" : "",
                       cells::validity(c)) +
               "\n";
        out += element("p", "", c.key + ", " + c.signature_algorithm) + "\n";
        out += element("p", "mono", "SHA-256 " + c.sha256) + "\n</div>\n";
    }
    out += "</div>\n</section>\n";
}

void clients_section(Verdict const& v, std::string& out) {
    if (v.clients.empty())
        return;
    out += "<section><h2>Client libraries</h2>\n<p>What each would do against this server.</p>\n"
           "<div class=\"scroll\"><table><thead><tr><th>Outcome</th><th>Client</th><th>How</th>"
           "</tr></thead>\n<tbody>\n";
    for (ClientRow const& c : v.clients) {
        std::string how = c.how;
        if (!c.error.empty())
            how += "; error: " + c.error;
        how += c.checked_against.empty() ? " (from documentation)"
                                         : " (checked against " + c.checked_against + ")";
        if (c.injection == ClientInjection::exposed)
            how += "; exposed to the STARTTLS injection";
        std::string_view const cls = c.outcome == ClientOutcome::fails   ? "bad"
                                     : c.outcome == ClientOutcome::works ? "ok"
                                                                         : "warn";
        out += "<tr>" + element("td", cls, to_string(c.outcome)) + element("td", "", c.client) +
               element("td", "", how) + "</tr>\n";
    }
    out += "</tbody></table></div>\n</section>\n";
}

void explanations_section(Verdict const& v, std::string& out) {
    if (v.explanations.empty())
        return;
    out += "<section><h2>Codes seen</h2>\n<div class=\"scroll\"><table><thead><tr><th>Code</th>"
           "<th>Meaning</th><th>Source</th></tr></thead>\n<tbody>\n";
    for (Explanation const& e : v.explanations)
        out += "<tr>" + element("td", "mono", e.subject) +
               element("td", "", e.text + (e.advice.empty() ? "" : " " + e.advice)) +
               element("td", "", e.source) + "</tr>\n";
    out += "</tbody></table></div>\n</section>\n";
}

/// The connections' steps: the report's own timeline, else the first connection's step
/// durations laid end to end (a report without connection_timings).
std::vector<ConnectionTimings> lanes(Report const& r) {
    if (!r.connection_timings.empty())
        return r.connection_timings;
    ConnectionTimings one{1, steps_in_order(r.server, 0)};
    if (one.steps.empty())
        return {};
    return {one};
}

std::string_view step_colour(TimedStep s) {
    switch (s) {
    case TimedStep::connect:
        return "#7a8699";
    case TimedStep::proxy:
        return "#a27bd6";
    case TimedStep::banner:
        return "#4f8fd6";
    case TimedStep::ehlo:
    case TimedStep::ehlo_after_tls:
        return "#3fae8f";
    case TimedStep::starttls:
        return "#d6a84f";
    case TimedStep::tls_handshake:
        return "#d67a4f";
    case TimedStep::auth:
        return "#c94f7c";
    case TimedStep::probes_before_tls:
    case TimedStep::mail_before_auth:
        return "#8a6d3b";
    }
    return "#999";
}

std::string step_label(StepTiming const& s) {
    switch (s.step) {
    case TimedStep::auth:
        return "AUTH " + s.mechanism;
    case TimedStep::probes_before_tls:
        return "AUTH/MAIL before TLS";
    case TimedStep::mail_before_auth:
        return "MAIL before AUTH";
    default:
        return std::string(to_string(s.step));
    }
}

void timeline_section(Report const& r, std::string& out) {
    std::vector<ConnectionTimings> const all = lanes(r);
    if (all.empty())
        return;
    double end = 0;
    for (ConnectionTimings const& c : all)
        for (StepTiming const& s : c.steps)
            end = std::max(end, s.start_ms + s.ms);
    end = std::max(end, 1.0);
    constexpr int label_w = 60, plot_w = 880, lane_h = 34, top = 22;
    int const height = top + static_cast<int>(all.size()) * lane_h + 8;
    auto x_of = [&](double ms) { return label_w + ms / end * plot_w; };
    char buf[160];
    out += "<section><h2>Timeline</h2>\n<p>One lane per connection; each bar is a step, "
           "labelled with its milliseconds" +
           std::string(r.connection_timings.empty()
                           ? " (the first connection's steps, laid end to end)"
                           : "") +
           ".</p>\n<div class=\"scroll\"><svg class=\"timeline\" "
           "role=\"img\" aria-label=\"connection timeline\" viewBox=\"0 0 " +
           std::to_string(label_w + plot_w + 20) + " " + std::to_string(height) + "\">\n";
    // The axis: five ticks.
    for (int i = 0; i <= 4; ++i) {
        double const ms = end * i / 4;
        std::snprintf(buf, sizeof buf,
                      "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c9ced6\"/>"
                      "<text x=\"%.1f\" y=\"12\" text-anchor=\"middle\">",
                      x_of(ms), top - 4, x_of(ms), height - 4, x_of(ms));
        out += buf + html_escape(ms_text(ms)) + "</text>\n";
    }
    int lane = 0;
    for (ConnectionTimings const& c : all) {
        int const y = top + lane * lane_h;
        std::snprintf(buf, sizeof buf, "<text x=\"0\" y=\"%d\">#%d</text>\n", y + 20, c.connection);
        out += buf;
        for (StepTiming const& s : c.steps) {
            double const w = std::max(1.0, s.ms / end * plot_w);
            std::snprintf(buf, sizeof buf,
                          "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"26\" rx=\"2\" "
                          "fill=\"",
                          x_of(s.start_ms), y + 3, w);
            std::string const label = step_label(s) + " " + ms_text(s.ms);
            out += "<g><title>" + html_escape(label) + "</title>" + buf +
                   std::string(step_colour(s.step)) + "\"/>";
            // The label inside the bar when it fits, else none (the <title> has it).
            if (w >= 6.0 * static_cast<double>(label.size())) {
                std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\" fill=\"#fff\">",
                              x_of(s.start_ms) + 3, y + 20);
                out += buf + html_escape(label) + "</text>";
            } else if (w >= 6.0 * static_cast<double>(ms_text(s.ms).size())) {
                std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\" fill=\"#fff\">",
                              x_of(s.start_ms) + 2, y + 20);
                out += buf + html_escape(ms_text(s.ms)) + "</text>";
            }
            out += "</g>\n";
        }
        ++lane;
    }
    out += "</svg></div>\n<p class=\"legend\">";
    for (TimedStep s : {TimedStep::connect, TimedStep::proxy, TimedStep::banner, TimedStep::ehlo,
                        TimedStep::starttls, TimedStep::tls_handshake, TimedStep::auth,
                        TimedStep::probes_before_tls})
        out += "<span style=\"color:" + std::string(step_colour(s)) + "\">&#9632;</span> " +
               (s == TimedStep::probes_before_tls ? std::string("one-off probes (MAIL, AUTH)")
                                                  : std::string(to_string(s))) +
               " ";
    out += "</p>\n</section>\n";
}

/// --all-addresses: one row per address; a cell that differs from the first address's is
/// marked.
void addresses_section(Report const& r, std::string& out) {
    if (r.address_probes.empty())
        return;
    struct Cells {
        std::vector<std::string> values;
    };
    std::vector<Cells> rows;
    for (AddressProbe const& a : r.address_probes) {
        Cells c;
        c.values.push_back(a.session_established ? "yes"
                           : a.fatal             ? "no: " + phase_and_detail(*a.fatal)
                                                 : "no");
        c.values.push_back(a.banner_host().empty() ? "-" : a.banner_host());
        c.values.push_back(a.tls                 ? a.tls->version
                           : a.tls_error.empty() ? std::string("none")
                                                 : "failed: " + a.tls_error);
        c.values.push_back(!a.tls ? "-"
                           : a.tls->verified()
                               ? "verified"
                               : "NOT verified" + (a.tls->verify_error.empty()
                                                       ? std::string()
                                                       : " (" + a.tls->verify_error + ")"));
        c.values.push_back(a.tls && !a.tls->chain.empty() ? a.tls->chain.front().sha256 : "-");
        std::vector<std::string> recognised;
        for (MechanismRow const& m : a.rows)
            if (m.recognition.status == Status::recognised ||
                m.recognition.status == Status::accepted)
                recognised.push_back(m.name);
        c.values.push_back(recognised.empty() ? "-" : join(recognised, " "));
        rows.push_back(std::move(c));
    }
    out += "<section><h2>Addresses</h2>\n<p>" + std::to_string(r.address_probes.size()) + " of " +
           std::to_string(r.addresses.size()) +
           " addresses, each probed on its own (--all-addresses); a framed cell differs between "
           "the addresses.</p>\n<div class=\"scroll\"><table><thead><tr><th>Address</th>"
           "<th>Session</th><th>Banner host</th><th>TLS</th><th>Certificate</th>"
           "<th>Leaf SHA-256</th><th>Recognised</th></tr></thead>\n<tbody>\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        out += "<tr>" + element("td", "mono", r.address_probes[i].address);
        for (std::size_t k = 0; k < rows[i].values.size(); ++k) {
            bool const differs = std::any_of(rows.begin(), rows.end(), [&](Cells const& other) {
                return other.values[k] != rows[i].values[k];
            });
            out += element("td", differs ? "differs" : "", rows[i].values[k]);
        }
        out += "</tr>\n";
    }
    out += "</tbody></table></div>\n</section>\n";
}

void transcript_section(std::string_view transcript, std::string& out) {
    out += "<section><h2>Transcript</h2>\n";
    if (transcript.empty()) {
        out += "<p>Not recorded.</p>\n</section>\n";
        return;
    }
    out += "<details><summary>The conversation, redacted (" +
           std::to_string(std::count(transcript.begin(), transcript.end(), '\n')) +
           " lines)</summary>\n<pre class=\"transcript\">" + html_escape(transcript) +
           "</pre></details>\n</section>\n";
}

} // namespace

std::string render_html_article(Report const& r, Verdict const& v, std::string_view transcript,
                                std::string_view id) {
    std::string out = "<article id=\"" + html_escape(id) + "\">\n";
    verdict_header(r, v, out);
    addresses_section(r, out);
    server_section(r, out);
    matrix_section(r, out);
    findings_section(v, out);
    envelope_section(v, out);
    chain_section(r, out);
    clients_section(v, out);
    explanations_section(v, out);
    timeline_section(r, out);
    transcript_section(transcript, out);
    return out + "</article>\n";
}

std::string html_page(std::string_view title, std::string_view body) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"" +
           std::string(html_content_security_policy) +
           "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           html_escape(title) + "</title>\n<style>" + style_sheet + "</style>\n</head>\n<body>\n" +
           std::string(body) +
           "<footer>smtpprobe " SMTPPROBE_VERSION
           ": secrets are redacted; the user name too unless --show-username.</footer>\n"
           "</body>\n</html>\n";
}

std::string render_html(Report const& r, Verdict const& v, std::string_view transcript) {
    return html_page("smtpprobe: " + r.host + " port " + std::to_string(r.port),
                     render_html_article(r, v, transcript));
}

std::string html_summary_row(std::string_view target, std::string_view anchor, Report const& r,
                             Verdict const& v) {
    Finding const* worst = cells::worst_finding(v.findings);
    std::string_view const cls = !r.session_established                                  ? "bad"
                                 : worst == nullptr || worst->severity == Severity::info ? "ok"
                                 : worst->severity == Severity::error                    ? "bad"
                                                                                         : "warn";
    return "<tr><td><a href=\"#" + html_escape(anchor) + "\">" + html_escape(target) + "</a></td>" +
           element("td", "mono", r.connected_address.empty() ? "-" : r.connected_address) +
           element("td", r.session_established ? "ok" : "bad",
                   r.interrupted           ? "interrupted"
                   : r.session_established ? "yes"
                                           : "no") +
           element("td", "", r.server.tls ? r.server.tls->version : "none") +
           element("td", "", std::to_string(v.exit_code)) +
           element("td", cls,
                   worst == nullptr
                       ? (r.fatal ? phase_and_detail(*r.fatal) : std::string("-"))
                       : std::string(to_string(worst->severity)) + ": " + worst->title) +
           "</tr>\n";
}

std::string render_html_batch(std::vector<std::string> const& rows,
                              std::vector<std::string> const& articles, std::size_t not_started) {
    std::string body =
        "<header class=\"verdict\"><h1>smtpprobe: " + std::to_string(articles.size()) +
        " target(s)</h1>\n<div class=\"scroll\"><table class=\"summary\"><thead><tr>"
        "<th>Target</th><th>Address</th><th>Session</th><th>TLS</th><th>Exit</th>"
        "<th>Worst finding</th></tr></thead>\n<tbody>\n";
    for (std::string const& row : rows)
        body += row;
    body += "</tbody></table></div>\n";
    if (not_started > 0)
        body += "<p>" + std::to_string(not_started) + " target(s) not started: interrupted.</p>\n";
    body += "</header>\n";
    for (std::string const& article : articles)
        body += article;
    return html_page("smtpprobe: " + std::to_string(articles.size()) + " targets", body);
}

} // namespace smtpprobe
