#include "exporter/probe_adapter.hpp"

#include "exporter/probe_metrics.hpp"

#include <algorithm>

namespace smtpprobe::exporter {

void ScrapeSink::write(Target const&, ProbeResult const& result) {
    // The session and the module's expectations decide; findings and the certificate have
    // metrics of their own (smtpprobe_finding, smtpprobe_check_status).
    std::vector<Check> const& checks = result.verdict().checks;
    bool const expectations_met = std::none_of(checks.begin(), checks.end(), [](Check const& k) {
        return k.expected && k.status != CheckState::ok;
    });
    Report const& probed = result.report();
    success = probed.session_established && !probed.interrupted && expectations_met;
    metrics = result.rendered_with(
        [this](Report const& r, Verdict const& v) { return render_probe_metrics(r, v, success); });
    report = result.rendered(Format::text);
    html = result.rendered(Format::html);
    if (want_transcript_)
        transcript = result.transcript();
}

ProbeRequest scrape_request(Module const& module, TargetAddress const& target,
                            std::chrono::milliseconds budget, std::string const& default_ca_file) {
    ProbeRequest request = module.request;
    request.targets.hosts = {target.text()};
    ProbeOptions& o = request.options;
    o.total_timeout = std::min(o.total_timeout, budget);
    o.connect_timeout = std::min(o.connect_timeout, budget);
    o.command_timeout = std::min(o.command_timeout, budget);
    if (o.tls.ca_file.empty() && o.tls.ca_path.empty())
        o.tls.ca_file = default_ca_file;
    return request;
}

Target scrape_target(Module const& module, TargetAddress const& target) {
    ProbeRequest const& q = module.request;
    return make_target(target.host, target.port, q.targets.tls, q.targets.sni);
}

void run_module_probe(ProbeRequest const& request, Target const& target, ScrapeSink& sink) {
    // The environment for secrets by reference; no terminal, no standard input, no demo.
    static PrepareContext const context = [] {
        PrepareContext c = system_context({});
        c.read_stdin_line = nullptr;
        c.prompt_password = nullptr;
        c.note = nullptr;
        return c;
    }();
    try {
        PreparedRequest const prepared = prepare(request, context);
        run_one(prepared, target, sink);
    } catch (std::runtime_error const& e) {
        // Local problems only (a secret that cannot be read, an unreadable CA file): the
        // server was never asked.
        sink.write(target, not_probed(target, e.what(), request.expectations()));
    }
}

} // namespace smtpprobe::exporter
