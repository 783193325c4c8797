// The AUTH matrix and the NTLM block of the text report (the rows of Report::rows).

#include "render/text_sections.hpp"
#include "render/text_style.hpp"
#include "report/auth_verdict.hpp"
#include "report/words.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe::text {
namespace {

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

/// The AUTHENTICATED column: the row's verdict in words, never a bare failure. Why a row
/// could not be tried goes in the REPLY column or the notes under the table.
std::string auth_cell(MechanismRow const& m) {
    switch (auth_verdict(m)) {
    case AuthVerdict::accepted:
        return "yes";
    case AuthVerdict::credentials_refused:
        return "credentials refused";
    case AuthVerdict::token_refused:
        return "token refused";
    case AuthVerdict::mechanism_not_supported:
        return "not supported";
    case AuthVerdict::cannot_try:
        break;
    }
    return "cannot try";
}

constexpr std::size_t auth_width = 21; // "credentials refused" and two spaces

/// The decoded error challenge of a refused token, escaped for the terminal: "error
/// challenge: status 400, schemes Bearer, scope https://mail.google.com/".
std::string oauth_error_text(sasl::OAuthError const& e) {
    using Form = sasl::OAuthError::Form;
    std::string out;
    switch (e.form) {
    case Form::json: {
        std::vector<std::string> parts;
        auto part = [&](std::string_view name, std::optional<std::string> const& value) {
            if (value)
                parts.push_back(std::string(name) + " " + escape_controls(*value));
        };
        part("status", e.status);
        part("schemes", e.schemes);
        part("scope", e.scope);
        part("openid-configuration", e.openid_configuration);
        out = "error challenge: " +
              (parts.empty() ? std::string("{} (no status)") : join(parts, ", "));
        break;
    }
    case Form::not_json:
        out = "error challenge (not JSON): \"" + escape_controls(e.text) + "\"";
        break;
    case Form::not_base64:
        out = "error challenge (not base64): \"" + escape_controls(e.text) + "\"";
        break;
    case Form::empty:
        out = "empty error challenge";
        break;
    }
    if (e.truncated)
        out += " (cut)";
    return out;
}

/// The REPLY column with credentials: the exchange's last reply when credentials went out.
std::string auth_detail(MechanismRow const& m) {
    Authentication const& a = m.authentication;
    bool const attempted = a.status != Status::skipped && a.reply;
    if (!attempted) {
        std::string out = recognition_detail(m.recognition);
        // An exchange that broke without a reply says why here (a recognised row that was not
        // tried says it in the notes under the table).
        if (a.status != Status::skipped && !a.reason.empty())
            out += (out.empty() ? "" : "; ") + a.reason;
        return out;
    }
    std::string out = a.reply->summary();
    if (a.status != Status::accepted && a.status != Status::rejected && !a.reason.empty())
        out += " (" + a.reason + ")";
    if (a.oauth_error)
        out += "; " + oauth_error_text(*a.oauth_error);
    if (a.server_verified)
        out += sasl::uses_ticket(m.name) ? "; the server proved it holds the service's key"
                                         : "; the server proved it knows the password";
    if (std::string_view const binding = sasl::channel_binding_name(a.channel_binding);
        !binding.empty() && a.status == Status::accepted)
        out += "; bound to this TLS session (" + std::string(binding) + ")";
    return out;
}

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
        std::string cell = recognised_cell(m.recognition);
        std::string const padded = pad(cell, 12);
        if (m.recognition.status == Status::recognised)
            line += st.green(padded);
        else if (m.recognition.status == Status::error)
            line += st.red(padded);
        else
            line += padded;
        if (with_credentials) {
            std::string const word = auth_cell(m);
            std::string const cell_text = pad(word, auth_width);
            AuthVerdict const verdict = auth_verdict(m);
            bool const refused = verdict == AuthVerdict::credentials_refused ||
                                 verdict == AuthVerdict::token_refused;
            line += verdict == AuthVerdict::accepted ? st.green(cell_text)
                    : refused                        ? st.red(cell_text)
                                                     : cell_text;
        }
        std::string const detail =
            with_credentials ? auth_detail(m) : recognition_detail(m.recognition);
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
