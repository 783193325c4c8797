#pragma once
// The exporter's adapter over the request pipeline (ARCHITECTURE §12): a module plus the
// scrape's target become a ProbeRequest, prepare() and run_one() run it like any other front
// end's, and a ScrapeSink keeps what the scrape answers with. Nothing else in src/exporter/
// knows the engine's API.

#include "exporter/allow_list.hpp"
#include "exporter/config.hpp"
#include "request/run.hpp"

#include <chrono>
#include <string>

namespace smtpprobe::exporter {

/// What one scrape answers with, every part redacted.
class ScrapeSink : public ResultSink {
public:
    explicit ScrapeSink(bool want_transcript) : want_transcript_(want_transcript) {}
    bool wants_transcript() const override { return want_transcript_; }
    void write(Target const& target, ProbeResult const& result) override;

    /// Session established and every expectation of the module met (README "Metrics").
    bool success = false;
    std::string metrics;    ///< the exposition
    std::string report;     ///< the text report, for &debug=true and the status page
    std::string transcript; ///< likewise, when asked for
    std::string html;       ///< the HTML report, for the status page's links

private:
    bool want_transcript_;
};

/// The module's request for one scrape: its target, the time left of the scrape's budget
/// (which caps the module's timeouts), and the exporter's --ca-file for a module without one.
ProbeRequest scrape_request(Module const& module, TargetAddress const& target,
                            std::chrono::milliseconds budget, std::string const& default_ca_file);

/// The target a scrape probes: the URL's host and port, the module's TLS mode and SNI; the
/// port, when the URL has none, by the one implicit-TLS rule (465 or 587).
Target scrape_target(Module const& module, TargetAddress const& target);

/// Runs one probe into `sink`. Never throws for anything the server does; a local problem (an
/// unreadable CA file, a credential variable that disappeared) becomes a failed probe with the
/// reason as its fatal error.
void run_module_probe(ProbeRequest const& request, Target const& target, ScrapeSink& sink);

} // namespace smtpprobe::exporter
