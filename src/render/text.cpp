#include "render/render.hpp"

#include "render/text_sections.hpp"
#include "render/text_style.hpp"
#include "report/words.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe {
namespace {

using text::ms;
using text::pad;
using text::Style;
using text::wrap;

std::string caps_line(smtp::Capabilities const& caps) {
    if (caps.from_helo)
        return "(HELO: no extensions)";
    std::vector<std::string> lines;
    for (smtp::Capability const& c : caps.items)
        lines.push_back(c.line);
    return lines.empty() ? std::string("(none)") : join(lines, ", ");
}

std::string recognised_cell(Recognition const& r) {
    switch (r.status) {
    case Status::recognised:
        return "yes";
    case Status::accepted:
        return "yes (235!)";
    case Status::not_supported:
        return "no";
    case Status::refused:
        return "refused";
    case Status::temporary_failure:
        return "temp. fail";
    case Status::error:
        return "error";
    case Status::skipped:
        return "skipped";
    default:
        return "?";
    }
}

std::string recognition_detail(Recognition const& r) {
    std::string out;
    if (r.reply) {
        out = r.reply->code == 334 ? "334" : r.reply->summary();
        if (r.reply->code == 334 && r.challenge)
            out += " \"" + *r.challenge + "\"";
    }
    if (r.cancel_reply)
        out += ", \"*\" -> " + std::to_string(r.cancel_reply->code) +
               (r.cancel_reply->enhanced().empty() ? "" : " " + r.cancel_reply->enhanced());
    if (!r.note.empty() && (r.status == Status::error || r.status == Status::skipped || !r.reply))
        out += (out.empty() ? "" : "; ") + r.note;
    return out;
}

/// The AUTHENTICATED column: a word. Why a row was not tried goes in the notes under the table.
std::string auth_cell(MechanismRow const& m) {
    Authentication const& a = m.authentication;
    switch (a.status) {
    case Status::accepted:
        return "yes";
    case Status::rejected:
        return "NO";
    case Status::skipped:
        if (m.recognition.status != Status::recognised)
            return "-";
        return a.withheld != Withheld::no ? "withheld" : "not tried";
    default:
        return std::string(to_string(a.status));
    }
}

/// The REPLY column with credentials: the exchange's last reply when credentials went out.
std::string auth_detail(MechanismRow const& m) {
    Authentication const& a = m.authentication;
    bool const attempted = a.status != Status::skipped && a.reply;
    if (!attempted)
        return recognition_detail(m.recognition);
    std::string out = a.reply->summary();
    if (a.status != Status::accepted && a.status != Status::rejected && !a.reason.empty())
        out += " (" + a.reason + ")";
    if (a.server_verified)
        out += "; the server proved it knows the password";
    return out;
}

std::string validity(net::CertificateInfo const& c) {
    std::string out = "valid " + c.not_before + " to " + c.not_after + " (";
    if (c.days_until_valid > 0)
        out += "not valid for another " + std::to_string(c.days_until_valid) + " day(s)";
    else if (c.days_left < 0)
        out += "expired " + std::to_string(-c.days_left) + " day(s) ago";
    else
        out += std::to_string(c.days_left) + " day(s) left";
    return out + ")";
}

template <typename Line>
void tls_verification_lines(net::TlsInfo const& t, Style const& st, Line const& line) {
    std::string chain;
    if (t.chain_verified) {
        chain = st.green("verified");
    } else {
        chain = st.red("NOT verified") + ": " + t.verify_error;
        if (!t.verify_issues.empty())
            chain += " (depth " + std::to_string(t.verify_depth) + ": " +
                     t.verify_issues.front().subject + ")";
        for (std::size_t i = 1; i < t.verify_issues.size(); ++i)
            chain += "; also " + t.verify_issues[i].reason + " (depth " +
                     std::to_string(t.verify_issues[i].depth) + ")";
    }
    if (t.verification_skipped && !t.verified())
        chain += " (--insecure: not enforced)";
    line("Chain", chain);
    if (t.host_checked)
        line("Host name", t.verify_name + ": " +
                              (t.host_verified ? st.green("matches the certificate")
                                               : st.red("does NOT match the certificate")));
    else if (!t.chain.empty())
        line("Host name", "not checked");
}

template <typename Line> void tls_chain_lines(net::TlsInfo const& t, Line const& line) {
    for (std::size_t i = 0; i < t.chain.size(); ++i) {
        net::CertificateInfo const& c = t.chain[i];
        line(i == 0 ? "Certificates" : "", "#" + std::to_string(i) + " " + c.subject);
        line("", "   issuer " + c.issuer);
        if (!c.subject_alt_names.empty())
            line("", "   names " + join(c.subject_alt_names, ", "));
        line("", "   " + validity(c));
        line("", "   " + c.key + ", " + c.signature_algorithm + "; SHA-256 " + c.sha256);
    }
}

template <typename Line> void tls_check_lines(Report const& r, Line const& line) {
    if (r.tls_versions) {
        std::string text;
        for (TlsVersionResult const& v : *r.tls_versions)
            text += (text.empty() ? "" : "; ") + v.version + " " +
                    (v.accepted ? "accepted"
                     : v.tested ? "refused"
                                : "") +
                    (v.accepted || v.detail.empty() ? ""
                     : v.tested                     ? " (" + v.detail + ")"
                                                    : v.detail);
        line("TLS versions", text);
    }
    if (r.sni_check) {
        SniCheck const& c = *r.sni_check;
        std::string text = c.sni.empty() ? "without SNI: " : "with SNI " + c.sni + ": ";
        if (!c.handshake_ok || !c.tls)
            text += "handshake failed: " + c.error;
        else
            text += (c.tls->chain.empty() ? std::string("no certificate")
                                          : c.tls->chain.front().subject) +
                    (c.tls->verified() ? ", verified" : ", NOT verified");
        line("SNI check", text);
    }
}

void server_section(Report const& r, Style const& st, std::string& out) {
    ServerFacts const& s = r.server;
    auto line = [&](std::string_view label, std::string const& value) {
        out += "  " + pad(label, 13) + wrap(value, 15, 15) + "\n";
    };
    out += st.bold("Server") + "\n";
    if (s.implicit_tls_detected)
        line("Port", st.yellow("speaks implicit TLS") +
                         ": no banner in plaintext, and a TLS handshake on a fresh connection "
                         "worked");
    if (s.plaintext_on_implicit_port)
        line("Port", st.yellow("speaks plaintext SMTP, not implicit TLS") +
                         ": the TLS handshake failed (" + s.implicit_handshake_error +
                         ") and a plaintext connection got a 220");
    if (s.banner)
        line("Banner", s.banner->wire());
    if (s.ehlo_refusal)
        line("EHLO", s.ehlo_refusal->wire() + "  -> fell back to HELO");
    if (s.ehlo_reply)
        line(s.ehlo_command == "HELO" ? "HELO" : "EHLO",
             std::to_string(s.ehlo_reply->code) + " " +
                 (s.ehlo_reply->lines.empty() ? "" : s.ehlo_reply->lines.front()));
    bool const implicit = r.tls_used == TlsMode::implicit;
    if (s.before_tls && !implicit)
        line(s.tls || s.starttls_attempted ? "Before TLS" : "Extensions", caps_line(*s.before_tls));
    if (s.auth_before_tls_reply)
        line("AUTH pre-TLS", "AUTH " + s.auth_before_tls_mechanism.value_or("") + " -> " +
                                 s.auth_before_tls_reply->wire());
    if (s.starttls_reply)
        line("STARTTLS", s.starttls_reply->wire());
    if (!s.starttls_injected.empty())
        line("", st.red("data after the 220, before the handshake: ") +
                     escape_bytes(s.starttls_injected));
    if (!s.tls_error.empty())
        line("TLS", st.red("handshake failed: ") + s.tls_error);
    if (s.tls) {
        net::TlsInfo const& t = *s.tls;
        std::string text = t.version + ", " + t.cipher;
        if (!t.group.empty())
            text += ", " + t.group;
        text += implicit ? " (implicit TLS)" : "";
        text += t.sni.empty() ? "; no SNI sent" : "; SNI " + t.sni;
        text += t.resumed ? "; resumed" : "";
        line("TLS", text);
        tls_verification_lines(t, st, line);
        tls_chain_lines(t, line);
    }
    tls_check_lines(r, line);
    if (s.tls && s.after_tls) {
        std::string text = caps_line(*s.after_tls);
        if (!implicit && s.before_tls) {
            std::vector<std::string> added, removed;
            for (std::string const& k : s.after_tls->keywords())
                if (!s.before_tls->has(k))
                    added.push_back(k);
            for (std::string const& k : s.before_tls->keywords())
                if (!s.after_tls->has(k))
                    removed.push_back(k);
            if (!added.empty() || !removed.empty())
                text += "  (" + (added.empty() ? "" : "added " + join(added, " ")) +
                        (!added.empty() && !removed.empty() ? "; " : "") +
                        (removed.empty() ? "" : "removed " + join(removed, " ")) + ")";
        }
        line(implicit ? "Extensions" : "After TLS", text);
    }
    out += "\n";
}

void matrix_section(Report const& r, Style const& st, std::string& out) {
    if (r.rows.empty())
        return;
    if (!r.session_established) {
        // Fourteen rows all saying "skipped" would bury the one line that matters.
        out += st.bold("AUTH mechanisms") + " not probed: no session got that far\n\n";
        return;
    }
    ServerFacts const& s = r.server;
    std::string state = !s.tls                 ? "without TLS"
                        : s.starttls_attempted ? "after STARTTLS"
                                               : "over implicit TLS";
    out += st.bold("AUTH mechanisms") +
           st.dim(" (probed " + state + "; " +
                  (r.credentials_given ? "with credentials"
                                       : "no credentials: recognition only, nothing "
                                         "secret sent") +
                  ")") +
           "\n";
    bool const two_states = s.starttls_attempted;
    std::size_t name_width = 10;
    for (MechanismRow const& m : r.rows)
        name_width = std::max(name_width, m.name.size() + 2);
    std::string header = "  " + pad("MECHANISM", name_width);
    if (two_states)
        header += pad("PRE-TLS", 9) + pad("TLS", 6);
    else
        header += pad("ADVERTISED", 12);
    header += pad("RECOGNISED", 12);
    if (r.credentials_given)
        header += pad("AUTHENTICATED", 15);
    header += "REPLY";
    out += st.dim(header) + "\n";
    for (MechanismRow const& m : r.rows) {
        std::string line = "  " + pad(m.name, name_width);
        if (two_states)
            line += pad(m.advertised_before_tls ? "yes" : "-", 9) +
                    pad(m.advertised_after_tls ? "yes" : "-", 6);
        else
            line +=
                pad((s.tls ? m.advertised_after_tls : m.advertised_before_tls) ? "yes" : "-", 12);
        std::string cell = recognised_cell(m.recognition);
        std::string const padded = pad(cell, 12);
        if (m.recognition.status == Status::recognised)
            line += st.green(padded);
        else if (m.recognition.status == Status::error)
            line += st.red(padded);
        else
            line += padded;
        if (r.credentials_given) {
            std::string const word = auth_cell(m);
            std::string const cell_text = pad(word, 15);
            line += word == "yes"                     ? st.green(cell_text)
                    : word == "NO" || word == "error" ? st.red(cell_text)
                                                      : cell_text;
        }
        std::string const detail =
            r.credentials_given ? auth_detail(m) : recognition_detail(m.recognition);
        line += detail; // one line per row, however long: rows stay greppable
        out += line + "\n";
    }
    // Why recognised mechanisms were not tried with the credentials, grouped by reason.
    std::vector<std::pair<std::string, std::vector<std::string>>> reasons;
    for (MechanismRow const& m : r.rows) {
        if (!r.credentials_given || m.authentication.status != Status::skipped ||
            m.recognition.status != Status::recognised)
            continue;
        std::string const reason =
            m.authentication.reason.empty() ? "not tried" : m.authentication.reason;
        auto it = std::find_if(reasons.begin(), reasons.end(),
                               [&](auto const& entry) { return entry.first == reason; });
        if (it == reasons.end())
            reasons.push_back({reason, {m.name}});
        else
            it->second.push_back(m.name);
    }
    for (auto const& [reason, names] : reasons)
        out += "  " + wrap(join(names, ", ") + ": " + reason, 4, 2) + "\n";
    out += "\n";
}

/// What the NTLM CHALLENGE disclosed (nmap's smtp-ntlm-info shows the same fields).
void ntlm_section(Report const& r, Style const& st, std::string& out) {
    auto const row = std::find_if(r.rows.begin(), r.rows.end(),
                                  [](MechanismRow const& m) { return m.recognition.ntlm; });
    if (row == r.rows.end())
        return;
    namespace ntlm = sasl::ntlm;
    NtlmInfo const& info = *row->recognition.ntlm;
    auto line = [&](std::string_view label, std::string const& value) {
        out += "  " + pad(label, 15) + wrap(value, 17, 17) + "\n";
    };
    out += st.bold("NTLM information") +
           st.dim(" (a NEGOTIATE message after \"AUTH NTLM\", then \"*\"; no credentials)") + "\n";
    if (!info.challenge) {
        line("Not decoded", info.error);
        out += "\n";
        return;
    }
    ntlm::Challenge const& c = *info.challenge;
    auto shown = [](std::optional<std::string> const& value) {
        return value ? escape_controls(*value) : std::string("-");
    };
    line("Target name", shown(c.target_name));
    if (c.target_info) {
        ntlm::TargetInfo const& t = *c.target_info;
        line("NetBIOS names",
             "computer " + shown(t.nb_computer_name) + ", domain " + shown(t.nb_domain_name));
        line("DNS names", "computer " + shown(t.dns_computer_name) + ", domain " +
                              shown(t.dns_domain_name) + ", forest " + shown(t.dns_tree_name));
        if (t.timestamp)
            line("Server time", ntlm::filetime_to_iso8601(*t.timestamp));
    } else {
        line("Target info", "none (NEGOTIATE_TARGET_INFO not set)");
    }
    if (c.version) {
        std::string const release = ntlm::windows_release(*c.version);
        line("OS version", ntlm::to_string(*c.version) +
                               (release.empty() ? "" : " (" + release + ")") + ", NTLM revision " +
                               std::to_string(c.version->ntlm_revision));
    }
    char flags[16];
    std::snprintf(flags, sizeof flags, "0x%08x", static_cast<unsigned>(c.flags));
    line("Flags", std::string(flags) + " " + join(ntlm::flag_names(c.flags), " "));
    out += "\n";
}

} // namespace

std::string render_text(Report const& r, Verdict const& v, TextOptions const& options) {
    Style const st{options.color};
    std::string out;
    out +=
        st.bold("smtpprobe " SMTPPROBE_VERSION) + "  " + r.host + " port " + std::to_string(r.port);
    if (!r.connected_address.empty())
        out += " (" + r.connected_address + ")";
    out += "\n";
    if (r.addresses.size() > 1)
        out += "  addresses: " + join(r.addresses, ", ") + "\n";
    ConnectionPath const& p = r.path;
    if (!p.proxy.empty()) {
        std::string line = "through the proxy " + p.proxy;
        if (!p.proxy_variable.empty())
            line += " (from the environment: " + p.proxy_variable + ")";
        if (!p.proxy_address.empty())
            line += ", reached at " + p.proxy_address;
        if (p.proxy_resolved)
            line += "; the proxy resolved the name";
        if (!p.proxy_bound.empty())
            line += "; its outbound address: " + p.proxy_bound;
        out += "  " + wrap(line, 4, 2) + "\n";
    }
    if (!p.proxy_bypass.empty())
        out += "  " + wrap(p.proxy_bypass, 4, 2) + "\n";
    if (!p.source.empty() || !p.proxy.empty()) {
        std::string line =
            "  local address: " +
            (p.local_address.empty() ? std::string("(no connection)") : p.local_address);
        if (!p.source.empty())
            line += " (--source " + p.source + ")";
        out += line + "\n";
    }
    if (!r.credentials_given && !r.user_shown.empty())
        out += "  user " + r.user_shown + " (no password given)\n";
    else if (r.credentials_given)
        out += "  user " + (r.user_shown.empty() ? std::string("(none)") : r.user_shown) + "\n";
    out += "\n";
    text::addresses_section(r, st, out);
    if (r.server.banner || !r.server.tls_error.empty())
        server_section(r, st, out);
    matrix_section(r, st, out);
    ntlm_section(r, st, out);
    text::checks_section(v, st, out);
    text::findings_section(v, st, out);
    text::clients_section(v, st, out);
    text::explanations_section(v, st, out);
    Timings const& t = r.server.timings;
    std::string timing = "connect " + ms(t.connect);
    if (t.proxy)
        timing += " · proxy handshake " + ms(t.proxy);
    if (t.tls_handshake)
        timing += " · TLS handshake " + ms(t.tls_handshake);
    timing += " · banner " + ms(t.banner) + " · EHLO " + ms(t.ehlo);
    if (t.starttls)
        timing += " · STARTTLS " + ms(t.starttls);
    if (r.auth_ms)
        timing += " · AUTH probes " + ms(r.auth_ms);
    timing += " · total " + ms(r.total_ms) + " · " + std::to_string(r.sessions) +
              " connection(s), at most " + std::to_string(r.parallel) + " at once";
    out += st.dim(wrap("Timing: " + timing, 8, 0)) + "\n";
    return out;
}

} // namespace smtpprobe
