// The AUTH matrix and the NTLM block of the text report (the rows of Report::rows).

#include "render/cells.hpp"
#include "render/text_sections.hpp"
#include "render/text_style.hpp"
#include "report/auth_verdict.hpp"
#include "report/words.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe::text {
namespace {

constexpr std::size_t auth_width = 21; // "credentials refused" and two spaces

} // namespace

void matrix_section(Report const& r, Style const& st, std::string& out) {
    if (r.rows.empty())
        return;
    if (!r.session_established) {
        // Fourteen rows all saying "skipped" would bury the one line that matters.
        out += st.bold("AUTH mechanisms") + " not probed: no session got that far\n\n";
        return;
    }
    ServerFacts const& s = r.server;
    // A client certificate alone is a credential too (EXTERNAL).
    bool const with_credentials = r.credentials_given || r.client_certificate_given;
    std::string state = !s.tls                 ? "without TLS"
                        : s.starttls_attempted ? "after STARTTLS"
                                               : "over implicit TLS";
    out += st.bold("AUTH mechanisms") +
           st.dim(" (probed " + state + "; " +
                  (with_credentials ? "with credentials"
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
    if (with_credentials)
        header += pad("AUTHENTICATED", auth_width);
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
        std::string cell = cells::recognised_cell(m.recognition);
        std::string const padded = pad(cell, 12);
        if (m.recognition.status == Status::recognised)
            line += st.green(padded);
        else if (m.recognition.status == Status::error)
            line += st.red(padded);
        else
            line += padded;
        if (with_credentials) {
            std::string const word = cells::auth_cell(m);
            std::string const cell_text = pad(word, auth_width);
            AuthVerdict const verdict = auth_verdict(m);
            bool const refused = verdict == AuthVerdict::credentials_refused ||
                                 verdict == AuthVerdict::token_refused;
            line += verdict == AuthVerdict::accepted ? st.green(cell_text)
                    : refused                        ? st.red(cell_text)
                                                     : cell_text;
        }
        std::string const detail =
            with_credentials ? cells::auth_detail(m) : cells::recognition_detail(m.recognition);
        line += detail; // one line per row, however long: rows stay greppable
        out += line + "\n";
    }
    // Why recognised mechanisms were not tried with the credentials, grouped by reason.
    std::vector<std::pair<std::string, std::vector<std::string>>> reasons;
    for (MechanismRow const& m : r.rows) {
        if (!with_credentials || m.authentication.status != Status::skipped ||
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
    // Exchange's X-EXPS names are not AUTH's: a note under the table, not rows.
    if (smtp::Capabilities const* caps = s.final_capabilities(); caps && !caps->x_exps.empty())
        out += "  " +
               wrap("X-EXPS " + escape_controls(join(caps->x_exps, " ")) +
                        ": Exchange's server-to-server authentication (the X-EXPS command), not "
                        "offered to AUTH clients",
                    4, 2) +
               "\n";
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

} // namespace smtpprobe::text
