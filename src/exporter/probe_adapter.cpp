#include "exporter/probe_adapter.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace smtpprobe::exporter {
namespace {

/// Reads a referenced secret at probe time (so a rotated file is picked up); the config
/// loader already checked that the reference resolves.
std::optional<std::string> read_secret(SecretReference const& ref, std::string& why) {
    if (!ref.env.empty()) {
        char const* value = std::getenv(ref.env.c_str());
        if (value == nullptr) {
            why = "the credential variable " + ref.env + " is not set";
            return std::nullopt;
        }
        return std::string(value);
    }
    std::ifstream in(ref.file);
    std::string line;
    if (!in || !std::getline(in, line)) {
        why = "cannot read the credential file " + ref.file;
        return std::nullopt;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.pop_back();
    return line;
}

ProbeOptions probe_options(ProbeRequest const& request) {
    Module const& m = *request.module;
    ProbeOptions o;
    o.ehlo_name = m.ehlo_name;
    o.total_timeout = request.budget;
    o.connect_timeout = std::min(m.connect_timeout, request.budget);
    o.command_timeout = std::min(m.command_timeout, request.budget);
    o.parallel = m.parallel;
    o.allow_insecure_auth = m.allow_insecure_auth;
    o.tls.ca_file = m.ca_file.empty() ? request.default_ca_file : m.ca_file;
    o.tls.use_system_store = o.tls.ca_file.empty();
    o.tls.insecure = m.insecure;
    o.tls.min_version = m.tls_min;
    o.tls.max_version = m.tls_max;
    o.tls_versions = m.tls_versions;
    o.all_addresses = m.all_addresses;
    o.mechanisms = m.mechanisms;
    return o;
}

Target probe_target(ProbeRequest const& request) {
    Module const& m = *request.module;
    Target t;
    t.host = request.target.host;
    t.port = request.target.port;
    t.tls_mode = m.tls;
    if (m.tls == TlsMode::auto_ && t.port == 465)
        t.tls_mode = TlsMode::implicit; // RFC 8314, as on the command line
    t.sni = m.sni;
    return t;
}

/// A probe that never reached the server: success 0, the reason in fatal (without a phase).
void failed(ProbeRequest const& request, ProbeOutcome& out, std::string const& why) {
    out.report = Report{};
    out.report.host = request.target.host;
    out.report.port = request.target.port;
    FatalError fatal;
    fatal.phase = std::nullopt;
    fatal.error = why;
    out.report.fatal = fatal;
    out.verdict = evaluate(out.report, expectations(*request.module));
    out.success = false;
}

} // namespace

unsigned short default_port(Module const& module) noexcept {
    return module.tls == TlsMode::implicit ? 465 : 587;
}

Expectations expectations(Module const& module) {
    Expectations e = module.expect;
    e.cert_warn_days = module.cert_warn_days;
    e.cert_crit_days = module.cert_crit_days;
    return e;
}

ProbeOutcome run_module_probe(ProbeRequest const& request) {
    ProbeOutcome out;
    out.observer = std::make_unique<TranscriptObserver>(request.want_transcript);
    ProbeOptions options = probe_options(request);
    if (request.module->credentials) {
        ModuleCredentials const& c = *request.module->credentials;
        sasl::Credentials credentials;
        credentials.user = c.user;
        std::string why;
        for (auto const& [ref, value] : {std::pair{&c.password, &credentials.password},
                                         std::pair{&c.token, &credentials.token}}) {
            if (!ref->given())
                continue;
            std::optional<std::string> secret = read_secret(*ref, why);
            if (!secret) {
                failed(request, out, why);
                return out;
            }
            *value = std::move(*secret);
        }
        options.credentials = std::move(credentials);
    }
    try {
        out.report = probe(probe_target(request), options, *out.observer);
    } catch (std::runtime_error const& e) {
        // Local problems only (an unreadable CA file): the server was never asked.
        failed(request, out, e.what());
        return out;
    }
    out.verdict = evaluate(out.report, expectations(*request.module));
    // The session and the module's expectations decide; findings and the certificate have
    // metrics of their own (smtpprobe_finding, smtpprobe_check_status).
    bool const expectations_met =
        std::none_of(out.verdict.checks.begin(), out.verdict.checks.end(),
                     [](Check const& k) { return k.expected && k.status != CheckState::ok; });
    out.success = out.report.session_established && !out.report.interrupted && expectations_met;
    return out;
}

} // namespace smtpprobe::exporter
