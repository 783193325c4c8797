// The JSON report's per-address summaries (--all-addresses): target.address_probes.

#include "render/json_parts.hpp"

namespace smtpprobe::json_parts {
namespace {

Json keywords_json(std::optional<smtp::Capabilities> const& caps) {
    return caps ? Json(caps->keywords()) : Json(nullptr);
}

Json code_json(std::optional<smtp::Reply> const& reply) {
    return reply ? Json(reply->code) : Json(nullptr);
}

Json address_json(AddressProbe const& a) {
    Json mechanisms = Json::array();
    for (MechanismRow const& m : a.rows) {
        Json row{{"name", m.name},
                 {"recognition", std::string(to_string(m.recognition.status))},
                 {"code", code_json(m.recognition.reply)}};
        if (m.authentication.status != Status::skipped) {
            row["authentication"] = std::string(to_string(m.authentication.status));
            row["authentication_code"] = code_json(m.authentication.reply);
        }
        mechanisms.push_back(std::move(row));
    }
    Json tls = nullptr;
    if (a.tls) {
        net::TlsInfo const& t = *a.tls;
        Json certificate = nullptr;
        if (!t.chain.empty()) {
            net::CertificateInfo const& leaf = t.chain.front();
            certificate = Json{{"subject", leaf.subject},
                               {"sha256", leaf.sha256},
                               {"not_after", leaf.not_after},
                               {"days_left", leaf.days_left}};
        }
        tls = Json{{"version", t.version},
                   {"cipher", t.cipher},
                   {"verified", t.verified()},
                   {"chain_verified", t.chain_verified},
                   {"host_verified", t.host_verified},
                   {"verify_code", t.verify_code},
                   {"verify_error", or_null(t.verify_error)},
                   {"certificate", certificate},
                   {"client_certificate_requested", t.client_certificate_requested},
                   {"client_certificate", client_certificate_json(t.client_certificate)}};
    }
    return Json{{"address", a.address},
                {"session_established", a.session_established},
                {"fatal_error", a.fatal ? fatal_error_json(*a.fatal) : Json(nullptr)},
                {"banner", reply_json(a.banner)},
                {"banner_host", or_null(a.banner_host())},
                {"tls_used", std::string(to_string(a.tls_used))},
                {"capabilities", Json{{"before_tls", keywords_json(a.before_tls)},
                                      {"after_tls", keywords_json(a.after_tls)}}},
                {"tls", tls},
                {"tls_error", or_null(a.tls_error)},
                {"mechanisms", mechanisms},
                {"connections", a.connections},
                {"total_ms", optional_ms(a.total_ms)}};
}

} // namespace

Json address_probes_json(Report const& r) {
    if (r.address_probes.empty())
        return nullptr;
    Json out = Json::array();
    for (AddressProbe const& a : r.address_probes)
        out.push_back(address_json(a));
    return out;
}

} // namespace smtpprobe::json_parts
