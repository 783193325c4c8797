#include "render/json_parts.hpp"
#include "render/ndjson.hpp"
#include "render/render.hpp"
#include "report/auth_verdict.hpp"
#include "report/words.hpp"
#include "smtp/extensions.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe {
namespace json_parts {

Json reply_json(std::optional<smtp::Reply> const& reply) {
    if (!reply)
        return nullptr;
    return Json{{"code", reply->code},
                {"enhanced", reply->enhanced()},
                {"text", reply->text()},
                {"lines", reply->lines}};
}

Json capabilities_json(std::optional<smtp::Capabilities> const& caps) {
    if (!caps)
        return nullptr;
    Json items = Json::array();
    for (smtp::Capability const& c : caps->items)
        items.push_back(Json{{"keyword", c.keyword}, {"params", c.params}});
    return items;
}

Json optional_ms(std::optional<double> const& value) {
    if (!value)
        return nullptr;
    return static_cast<double>(static_cast<long long>(*value * 10.0 + 0.5)) / 10.0;
}

Json or_null(std::string const& s) {
    return s.empty() ? Json(nullptr) : Json(s);
}

Json connection_json(ConnectionPath const& p) {
    Json proxy = nullptr;
    if (!p.proxy.empty())
        proxy = Json{{"url", p.proxy},
                     {"scheme", p.proxy_scheme},
                     {"host", p.proxy_host},
                     {"port", p.proxy_port},
                     {"from_environment", or_null(p.proxy_variable)},
                     {"address", or_null(p.proxy_address)},
                     {"outbound_address", or_null(p.proxy_bound)},
                     {"resolved_the_name", p.proxy_resolved}};
    return Json{{"proxy", proxy},
                {"proxy_bypassed", or_null(p.proxy_bypass)},
                {"source", or_null(p.source)},
                {"local_address", or_null(p.local_address)}};
}

Json client_certificate_json(std::optional<net::CertificateInfo> const& c) {
    if (!c)
        return nullptr;
    return Json{{"subject", c->subject},
                {"issuer", c->issuer},
                {"sha256", c->sha256},
                {"not_after", c->not_after},
                {"days_left", c->days_left}};
}

Json tls_info_json(net::TlsInfo const& t) {
    Json chain = Json::array();
    for (net::CertificateInfo const& c : t.chain)
        chain.push_back(Json{{"subject", c.subject},
                             {"issuer", c.issuer},
                             {"subject_alt_names", c.subject_alt_names},
                             {"not_before", c.not_before},
                             {"not_after", c.not_after},
                             {"days_left", c.days_left},
                             {"days_until_valid", c.days_until_valid},
                             {"key", c.key},
                             {"signature_algorithm", c.signature_algorithm},
                             {"sha256", c.sha256}});
    Json errors = Json::array();
    for (net::VerifyIssue const& i : t.verify_issues)
        errors.push_back(Json{{"code", i.code},
                              {"reason", i.reason},
                              {"depth", i.depth},
                              {"subject", i.subject},
                              {"issuer", i.issuer},
                              {"not_before", i.not_before},
                              {"not_after", i.not_after}});
    return Json{{"established", t.established},
                {"version", t.version},
                {"cipher", t.cipher},
                {"group", t.group},
                {"resumed", t.resumed},
                {"sni_sent", !t.sni.empty()},
                {"sni", t.sni.empty() ? Json(nullptr) : Json(t.sni)},
                {"verified", t.verified()},
                {"chain_verified", t.chain_verified},
                {"verify_code", t.verify_code},
                {"verify_error", t.verify_error},
                {"verify_depth", t.chain_verified ? Json(nullptr) : Json(t.verify_depth)},
                {"verify_errors", errors},
                {"host_checked", t.host_checked},
                {"host_verified", t.host_verified},
                {"verify_name", t.verify_name},
                {"verification_enforced", !t.verification_skipped},
                {"chain", chain},
                {"client_certificate_requested", t.client_certificate_requested},
                {"client_certificate_authorities", t.client_certificate_authorities},
                {"client_certificate", client_certificate_json(t.client_certificate)}};
}

/// Schema 2: {phase, kind, detail, bytes_received, elapsed_ms, protocol}.
Json fatal_error_json(FatalError const& f) {
    return Json{{"phase", f.phase ? Json(std::string(to_string(*f.phase))) : Json(nullptr)},
                {"kind", std::string(to_string(f.kind))},
                {"detail", f.detail()},
                {"bytes_received", f.bytes_received},
                {"elapsed_ms", f.phase ? optional_ms(f.elapsed_ms) : Json(nullptr)},
                {"protocol",
                 f.protocol ? Json(std::string(smtp::protocol_name(*f.protocol))) : Json(nullptr)}};
}

} // namespace json_parts

namespace {

using namespace json_parts;

/// "tls-exporter" / "tls-unique" for a SCRAM-*-PLUS exchange, else null.
Json channel_binding_json(Authentication const& a) {
    std::string_view const name = sasl::channel_binding_name(a.channel_binding);
    return name.empty() ? Json(nullptr) : Json(std::string(name));
}

std::string_view form_name(sasl::OAuthError::Form form) {
    switch (form) {
    case sasl::OAuthError::Form::json:
        return "json";
    case sasl::OAuthError::Form::not_json:
        return "not_json";
    case sasl::OAuthError::Form::not_base64:
        return "not_base64";
    case sasl::OAuthError::Form::empty:
        break;
    }
    return "empty";
}

/// authentication.oauth_error: the decoded error challenge of a refused token. Members the
/// server did not send are absent; values are the server's bytes (the dump escapes them and
/// replaces invalid UTF-8), already cut to the decoder's bounds.
Json oauth_error_json(sasl::OAuthError const& e) {
    Json out{{"form", std::string(form_name(e.form))}, {"text", e.text}};
    if (e.status)
        out["status"] = *e.status;
    if (e.schemes)
        out["schemes"] = *e.schemes;
    if (e.scope)
        out["scope"] = *e.scope;
    if (e.openid_configuration)
        out["openid_configuration"] = *e.openid_configuration;
    if (e.truncated)
        out["truncated"] = true;
    return out;
}

Json tls_versions_json(Report const& r) {
    if (!r.tls_versions)
        return nullptr;
    Json out = Json::array();
    for (TlsVersionResult const& v : *r.tls_versions)
        out.push_back(Json{{"version", v.version},
                           {"tested", v.tested},
                           {"accepted", v.accepted},
                           {"cipher", v.cipher.empty() ? Json(nullptr) : Json(v.cipher)},
                           {"detail", v.detail}});
    return out;
}

/// The extensions a sender cares about (issue 20 item 3): each with its RFC, what it means,
/// and whether the server advertises it (under TLS when TLS was used); empty without EHLO.
Json extensions_json(Report const& r) {
    Json out = Json::array();
    smtp::Capabilities const* caps = r.server.final_capabilities();
    if (caps == nullptr || caps->from_helo)
        return out;
    for (smtp::SenderExtension const& e : smtp::sender_extensions()) {
        Json entry{{"keyword", std::string(e.keyword)},
                   {"rfc", std::string(e.rfc)},
                   {"meaning", std::string(e.meaning)},
                   {"advertised", caps->has(e.keyword)}};
        if (e.keyword == "SIZE")
            entry["limit_bytes"] =
                caps->has("SIZE") && caps->size ? Json(*caps->size) : Json(nullptr);
        out.push_back(std::move(entry));
    }
    return out;
}

Json sni_check_json(Report const& r) {
    if (!r.sni_check)
        return nullptr;
    SniCheck const& c = *r.sni_check;
    return Json{{"sni", c.sni.empty() ? Json(nullptr) : Json(c.sni)},
                {"handshake_ok", c.handshake_ok},
                {"error", c.error.empty() ? Json(nullptr) : Json(c.error)},
                {"tls", c.tls ? tls_info_json(*c.tls) : Json(nullptr)}};
}

Json line_endings_json(Report const& r) {
    if (!r.line_endings)
        return nullptr;
    Json tests = Json::array();
    for (LineEndingTest const& t : r.line_endings->tests)
        tests.push_back(Json{{"ending", std::string(to_string(t.ending))},
                             {"behaviour", std::string(to_string(t.behaviour))},
                             {"reply", reply_json(t.reply)},
                             {"reply_after_crlf", t.reply_after_crlf},
                             {"closed", t.closed},
                             {"connection", t.connection},
                             {"tls", t.tls},
                             {"error", t.error.empty() ? Json(nullptr) : Json(t.error)}});
    return Json{{"wait_ms", r.line_endings->wait.count()}, {"tests", tests}};
}

Json tls_json(Report const& r) {
    ServerFacts const& s = r.server;
    if (!s.tls)
        return nullptr;
    Json out{{"established", s.tls->established}, {"implicit", r.tls_used == TlsMode::implicit}};
    Json const info = tls_info_json(*s.tls);
    for (auto const& [key, value] : info.items())
        if (key != "established")
            out[key] = value;
    return out;
}

Json optional_text(std::optional<std::string> const& value) {
    return value ? Json(*value) : Json(nullptr);
}

std::string hex32(std::uint32_t value) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "0x%08x", static_cast<unsigned>(value));
    return buffer;
}

/// The NTLM information of the NTLM row, or null when it was not probed.
Json ntlm_json(Report const& r) {
    auto const row = std::find_if(r.rows.begin(), r.rows.end(),
                                  [](MechanismRow const& m) { return m.recognition.ntlm; });
    if (row == r.rows.end())
        return nullptr;
    NtlmInfo const& info = *row->recognition.ntlm;
    Json out{{"status", std::string(to_string(info.outcome))},
             {"reply", reply_json(info.reply)},
             {"error", info.error.empty() ? Json(nullptr) : Json(info.error)},
             {"connection", row->connection}};
    if (!info.challenge)
        return out;
    namespace ntlm = sasl::ntlm;
    ntlm::Challenge const& c = *info.challenge;
    std::string challenge;
    for (std::uint8_t b : c.server_challenge) {
        char buffer[4];
        std::snprintf(buffer, sizeof buffer, "%02x", static_cast<unsigned>(b));
        challenge += buffer;
    }
    ntlm::TargetInfo const none;
    ntlm::TargetInfo const& t = c.target_info ? *c.target_info : none;
    out["target_name"] = optional_text(c.target_name);
    out["netbios_computer"] = optional_text(t.nb_computer_name);
    out["netbios_domain"] = optional_text(t.nb_domain_name);
    out["dns_computer"] = optional_text(t.dns_computer_name);
    out["dns_domain"] = optional_text(t.dns_domain_name);
    out["dns_tree"] = optional_text(t.dns_tree_name);
    out["timestamp"] = t.timestamp ? Json(ntlm::filetime_to_iso8601(*t.timestamp)) : Json(nullptr);
    out["os_version"] = c.version ? Json(ntlm::to_string(*c.version)) : Json(nullptr);
    std::string const release = c.version ? ntlm::windows_release(*c.version) : "";
    out["os_release"] = release.empty() ? Json(nullptr) : Json(release);
    out["ntlm_revision"] = c.version ? Json(c.version->ntlm_revision) : Json(nullptr);
    out["flags"] = hex32(c.flags);
    out["flag_names"] = ntlm::flag_names(c.flags);
    out["server_challenge"] = challenge;
    out["target_info"] = Json{{"present", c.target_info.has_value()},
                              {"pairs", t.pairs},
                              {"av_flags", t.flags ? Json(hex32(*t.flags)) : Json(nullptr)},
                              {"spn", optional_text(t.target_name)},
                              {"other_av_ids", t.other_ids}};
    return out;
}

/// Schema 2: {phase, kind, detail, bytes_received, elapsed_ms, protocol}; null with a session.
Json fatal_json(Report const& r) {
    if (!r.fatal)
        return nullptr;
    return fatal_error_json(*r.fatal);
}

/// What the port speaks when it is not what the TLS mode said (probes/contact.hpp).
Json port_json(ServerFacts const& s) {
    auto text = [](std::string const& t) { return t.empty() ? Json(nullptr) : Json(t); };
    return Json{{"implicit_tls_detected", s.implicit_tls_detected},
                {"plaintext_on_implicit_port", s.plaintext_on_implicit_port},
                {"implicit_handshake_error", text(s.implicit_handshake_error)},
                {"tls_probe_error", text(s.tls_probe_error)},
                {"other_protocol", s.other_protocol
                                       ? Json(std::string(smtp::protocol_name(*s.other_protocol)))
                                       : Json(nullptr)}};
}

std::vector<std::string> keyword_difference(std::optional<smtp::Capabilities> const& a,
                                            std::optional<smtp::Capabilities> const& b) {
    std::vector<std::string> out;
    if (!a || !b)
        return out;
    for (std::string const& k : a->keywords())
        if (!b->has(k))
            out.push_back(k);
    return out;
}

/// Each connection's steps on the run's clock (issue 22's timeline): `timings_ms` per
/// connection, each step with its start and its length in ms.
Json connection_timings_json(Report const& r) {
    Json out = Json::array();
    for (ConnectionTimings const& c : r.connection_timings) {
        Json steps = Json::array();
        for (StepTiming const& s : c.steps)
            steps.push_back(
                Json{{"step", std::string(to_string(s.step))},
                     {"mechanism", s.mechanism.empty() ? Json(nullptr) : Json(s.mechanism)},
                     {"start", optional_ms(s.start_ms)},
                     {"ms", optional_ms(s.ms)}});
        out.push_back(Json{{"connection", c.connection}, {"timings_ms", steps}});
    }
    return out;
}

Json json_document(Report const& r, Verdict const& v) {
    ServerFacts const& s = r.server;
    bool const two_states = r.tls_used == TlsMode::starttls;
    Json caps{{"before_tls", capabilities_json(s.before_tls)},
              {"after_tls", s.tls ? capabilities_json(s.after_tls) : Json(nullptr)},
              {"added_after_tls",
               two_states ? Json(keyword_difference(s.after_tls, s.before_tls)) : Json::array()},
              {"removed_after_tls",
               two_states ? Json(keyword_difference(s.before_tls, s.after_tls)) : Json::array()},
              {"size", s.final_capabilities() && s.final_capabilities()->size
                           ? Json(*s.final_capabilities()->size)
                           : Json(nullptr)}};
    bool const implicit = r.tls_used == TlsMode::implicit;
    Json mechs{
        {"before_tls", s.before_tls && !implicit ? Json(s.before_tls->auth) : Json::array()},
        {"after_tls", s.tls && s.after_tls ? Json(s.after_tls->auth) : Json::array()},
        {"legacy_auth_equals",
         s.final_capabilities() ? s.final_capabilities()->auth_equals_form : false},
        {"x_exps", s.final_capabilities() ? Json(s.final_capabilities()->x_exps) : Json::array()}};
    Json server{
        {"banner", reply_json(s.banner)},
        {"ehlo", Json{{"command", std::string(to_string(s.hello_verb))},
                      {"reply", reply_json(s.ehlo_reply)},
                      {"ehlo_refusal", reply_json(s.ehlo_refusal)}}},
        {"capabilities", caps},
        {"auth_mechanisms", mechs},
        {"starttls",
         Json{{"offered", s.starttls_offered},
              {"attempted", s.starttls_attempted},
              {"reply", reply_json(s.starttls_reply)},
              {"injected_bytes",
               s.starttls_injected.empty() ? Json(nullptr) : Json(s.starttls_injected)}}},
        {"tls", tls_json(r)},
        {"tls_error", s.tls_error.empty() ? Json(nullptr) : Json(s.tls_error)},
        {"tls_versions", tls_versions_json(r)},
        {"sni_check", sni_check_json(r)},
        {"line_endings", line_endings_json(r)},
        {"port", port_json(s)},
        {"mail_probe",
         Json{{"without_tls", Json{{"status", std::string(to_string(r.mail_without_tls()))},
                                   {"reply", reply_json(s.mail_before_tls_reply)}}},
              {"without_auth", Json{{"status", std::string(to_string(r.mail_without_auth()))},
                                    {"reply", reply_json(s.mail_before_auth_reply)}}}}},
        {"auth_before_tls", s.auth_before_tls_reply
                                ? Json{{"mechanism", *s.auth_before_tls_mechanism},
                                       {"reply", reply_json(s.auth_before_tls_reply)}}
                                : Json(nullptr)}};
    Json rows = Json::array();
    for (MechanismRow const& m : r.rows) {
        Json recognition{
            {"status", std::string(to_string(m.recognition.status))},
            {"reply", reply_json(m.recognition.reply)},
            {"cancel_reply", reply_json(m.recognition.cancel_reply)},
            {"challenge", m.recognition.challenge ? Json(*m.recognition.challenge) : Json(nullptr)},
            {"note", m.recognition.note}};
        std::string_view const problem = to_string(m.authentication.problem);
        Json authentication{{"status", std::string(to_string(m.authentication.status))},
                            {"reason", m.authentication.reason},
                            {"reply", reply_json(m.authentication.reply)},
                            {"server_verified", m.authentication.server_verified},
                            {"channel_binding", channel_binding_json(m.authentication)},
                            {"verdict", std::string(to_string(auth_verdict(m)))},
                            {"problem", problem.empty() ? Json(nullptr) : Json(problem)}};
        if (m.authentication.oauth_error)
            authentication["oauth_error"] = oauth_error_json(*m.authentication.oauth_error);
        rows.push_back(Json{{"name", m.name},
                            {"catalogue", m.catalogue},
                            {"implemented", m.implemented},
                            {"advertised_before_tls", m.advertised_before_tls},
                            {"advertised_after_tls", m.advertised_after_tls},
                            {"recognition", recognition},
                            {"authentication", authentication},
                            {"connection", m.connection}});
    }
    Json findings = Json::array();
    for (Finding const& f : v.findings)
        findings.push_back(Json{{"id", f.id},
                                {"severity", std::string(to_string(f.severity))},
                                {"title", f.title},
                                {"detail", f.detail},
                                {"evidence", f.evidence}});
    Json explanations = Json::array();
    for (Explanation const& e : v.explanations)
        explanations.push_back(Json{
            {"subject", e.subject}, {"text", e.text}, {"source", e.source}, {"advice", e.advice}});
    Json clients = Json::array();
    for (ClientRow const& c : v.clients) {
        Json client{{"client", c.client},       {"outcome", std::string(to_string(c.outcome))},
                    {"mechanism", c.mechanism}, {"how", c.how},
                    {"source", c.source},       {"reaches_auth", !c.mechanism.empty()},
                    {"error", c.error},         {"verified", !c.checked_against.empty()}};
        if (!c.checked_against.empty())
            client["checked_against"] = c.checked_against;
        if (c.injection != ClientInjection::none)
            client["starttls_injection"] = std::string(to_string(c.injection));
        clients.push_back(std::move(client));
    }
    Json checks = Json::array();
    for (Check const& c : v.checks)
        checks.push_back(Json{
            {"id", c.id}, {"status", std::string(to_string(c.status))}, {"message", c.message}});
    Json events = Json::array();
    for (Event const& e : r.events)
        events.push_back(Json{{"kind", std::string(to_string(e.kind))},
                              {"detail", e.detail},
                              {"connection", e.connection}});
    Timings const& t = s.timings;
    Json doc{
        {"schema_version", json_schema_version},
        {"tool", Json{{"name", "smtpprobe"}, {"version", SMTPPROBE_VERSION}}},
        {"target", Json{{"host", r.host},
                        {"port", r.port},
                        {"tls_mode", std::string(to_string(r.tls_mode))},
                        {"tls_used", std::string(to_string(r.tls_used))},
                        {"addresses", r.addresses},
                        {"connected_address",
                         r.connected_address.empty() ? Json(nullptr) : Json(r.connected_address)},
                        {"address_probes", address_probes_json(r)},
                        {"addresses_not_probed", r.addresses_not_probed},
                        {"ehlo_name", r.ehlo_name}}},
        {"connection", connection_json(r.path)},
        {"session_established", r.session_established},
        {"fatal_error", fatal_json(r)},
        {"server", server},
        {"extensions", extensions_json(r)},
        {"certificate_thresholds", Json{{"warn_days", v.expectations.cert_warn_days},
                                        {"crit_days", v.expectations.cert_crit_days}}},
        {"credentials", Json{{"given", r.credentials_given},
                             {"token_given", r.token_given},
                             {"client_certificate_given", r.client_certificate_given},
                             {"user", r.user_shown.empty() ? Json(nullptr) : Json(r.user_shown)},
                             {"insecure_auth_allowed", r.insecure_auth_allowed},
                             {"sent_insecurely", r.credentials_sent_insecurely}}},
        {"mechanisms", rows},
        {"ntlm", ntlm_json(r)},
        {"findings", findings},
        {"explanations", explanations},
        {"clients", clients},
        {"checks", checks},
        {"events", events},
        {"timings_ms", Json{{"resolve", optional_ms(t.resolve)},
                            {"connect", optional_ms(t.connect)},
                            {"proxy_handshake", optional_ms(t.proxy)},
                            {"tls_handshake", optional_ms(t.tls_handshake)},
                            {"banner", optional_ms(t.banner)},
                            {"ehlo", optional_ms(t.ehlo)},
                            {"starttls", optional_ms(t.starttls)},
                            {"ehlo_after_tls", optional_ms(t.ehlo_after_tls)},
                            {"auth", optional_ms(r.auth_ms)},
                            {"total", optional_ms(r.total_ms)}}},
        {"connections", r.connections},
        {"connection_timings", connection_timings_json(r)},
        {"started_at", r.started_at == 0 ? Json(nullptr) : or_null(iso8601_utc(r.started_at))},
        {"parallel", r.parallel},
        {"interrupted", r.interrupted},
        {"exit_code", v.exit_code}};
    // Only when a token was given (round 3 contract 3), so reports without one stay as they
    // were.
    // Only with --mail-from (issue 20): additive, reports without it stay as they were.
    if (v.envelope)
        doc["envelope"] = envelope_json(*v.envelope);
    if (r.token)
        doc["token"] = token_json(r);
    return doc;
}

/// JSON escapes only C0 (RFC 8259 §7); a C1 control (U+0080..U+009F, such as the C1 CSI a
/// hostile banner can carry) and DEL would reach a terminal that shows the document raw. Both
/// can only stand inside strings, so they become \u escapes: the parsed text is unchanged.
std::string without_raw_controls(std::string json) {
    std::string out;
    out.reserve(json.size());
    char escape[8];
    for (std::size_t i = 0; i < json.size(); ++i) {
        auto const c = static_cast<unsigned char>(json[i]);
        auto const next = i + 1 < json.size() ? static_cast<unsigned char>(json[i + 1]) : 0u;
        if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
            std::snprintf(escape, sizeof escape, "\\u%04x", next);
            out += escape;
            ++i;
        } else if (c == 0x7f) {
            out += "\\u007f";
        } else {
            out += json[i];
        }
    }
    return out;
}

} // namespace

std::string render_json(Report const& r, Verdict const& v) {
    // Server text can hold any byte; replace invalid UTF-8 rather than throw.
    return without_raw_controls(
               json_document(r, v).dump(2, ' ', false, Json::error_handler_t::replace)) +
           "\n";
}

std::string render_json_line(Report const& r, Verdict const& v) {
    return without_raw_controls(
               json_document(r, v).dump(-1, ' ', false, Json::error_handler_t::replace)) +
           "\n";
}

} // namespace smtpprobe
