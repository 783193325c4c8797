// The text report's per-address summary (--all-addresses): one block per address of the name.

#include "render/text_sections.hpp"
#include "report/words.hpp"

#include <algorithm>
#include <utility>

namespace smtpprobe::text {
namespace {

std::string keywords_line(std::optional<smtp::Capabilities> const& caps) {
    if (!caps)
        return "-";
    if (caps->from_helo)
        return "(HELO: no extensions)";
    std::vector<std::string> const k = caps->keywords();
    return k.empty() ? std::string("(none)") : join(k, " ");
}

/// "334 PLAIN LOGIN · 504 CRAM-MD5 XOAUTH2": the mechanisms grouped by the reply they got.
template <typename Key> std::string grouped(std::vector<MechanismRow> const& rows, Key key) {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (MechanismRow const& row : rows) {
        std::string const k = key(row);
        if (k.empty())
            continue;
        auto it =
            std::find_if(groups.begin(), groups.end(), [&](auto const& g) { return g.first == k; });
        if (it == groups.end())
            groups.push_back({k, {row.name}});
        else
            it->second.push_back(row.name);
    }
    std::vector<std::string> parts;
    for (auto const& [k, names] : groups)
        parts.push_back(k + " " + join(names, " "));
    return join(parts, " · ");
}

std::string certificate_line(net::TlsInfo const& t) {
    std::string text = t.verified() ? "verified" : "NOT verified";
    if (!t.verified() && !t.verify_error.empty())
        text += " (" + t.verify_error + ")";
    else if (!t.verified() && t.host_checked && !t.host_verified)
        text += " (not valid for " + t.verify_name + ")";
    if (!t.chain.empty()) {
        net::CertificateInfo const& leaf = t.chain.front();
        text += " · until " + leaf.not_after + " (" + std::to_string(leaf.days_left) + " days)";
    }
    return text;
}

} // namespace

void addresses_section(Report const& r, Style const& st, std::string& out) {
    if (r.address_probes.empty())
        return;
    out += st.bold("Addresses") + "  " + std::to_string(r.address_probes.size()) + " of " +
           std::to_string(r.addresses.size()) + ", each probed on its own (--all-addresses); " +
           "the sections below are " +
           (r.connected_address.empty() ? r.address_probes.front().address : r.connected_address) +
           "'s\n";
    for (AddressProbe const& a : r.address_probes) {
        auto line = [&](std::string_view label, std::string const& value) {
            out += "  " + pad(label, 13) + wrap(value, 15, 15) + "\n";
        };
        std::string head = a.address + "  ";
        if (!a.session_established) {
            head += st.red("no session");
            if (a.fatal)
                head += " (" + phase_and_detail(*a.fatal) + ")";
            out += "  " + wrap(head, 4, 2) + "\n";
            continue;
        }
        std::string const banner = a.banner_host();
        head += "reached AUTH · banner " + (banner.empty() ? "-" : banner) + " · " +
                (a.tls                 ? a.tls->version
                 : a.tls_error.empty() ? std::string("no TLS")
                                       : "TLS failed: " + a.tls_error) +
                " · " + std::to_string(a.connections) + " connection(s), " + ms(a.total_ms);
        out += "  " + wrap(head, 4, 2) + "\n";
        bool const implicit = a.tls_used == TlsMode::implicit;
        if (a.before_tls && !implicit)
            line(a.tls ? "before TLS" : "extensions", keywords_line(a.before_tls));
        if (a.tls && a.after_tls)
            line(implicit ? "extensions" : "after TLS", keywords_line(a.after_tls));
        if (a.tls)
            line("certificate", certificate_line(*a.tls));
        if (a.tls && !a.tls->chain.empty())
            line("SHA-256", a.tls->chain.front().sha256);
        line("AUTH", grouped(a.rows, [](MechanismRow const& m) {
                 return code_or_status(m.recognition.reply, m.recognition.status);
             }));
        std::string const login = grouped(a.rows, [](MechanismRow const& m) {
            return m.authentication.status == Status::skipped
                       ? std::string()
                       : code_or_status(m.authentication.reply, m.authentication.status);
        });
        if (!login.empty())
            line("login", login);
    }
    out += "\n";
}

} // namespace smtpprobe::text
