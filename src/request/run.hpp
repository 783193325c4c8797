#pragma once
// run_one(): probe -> evaluate -> render -> redact, written once (ARCHITECTURE §12). Every front
// end is a loop or an adapter over it: one target, many targets, --demo, --all-addresses (inside
// probe()), the exporter and the tests' harness. A ResultSink says where the outputs go.

#include "diagnose/evaluate.hpp"
#include "engine/probe.hpp"
#include "render/html.hpp"
#include "render/render.hpp"
#include "request/prepare.hpp"

#include <memory>
#include <string>

namespace smtpprobe {

/// One target's report and verdict. Everything that leaves it is redacted: the one
/// render-then-redact path.
class ProbeResult {
public:
    ProbeResult(Report report, Verdict verdict, std::unique_ptr<TranscriptObserver> observer);

    Report const& report() const noexcept { return report_; }
    Verdict const& verdict() const noexcept { return verdict_; }

    /// The report in `format`, redacted; the HTML page with the transcript folded in, when
    /// one was recorded.
    std::string rendered(Format format, TextOptions const& options = {}) const {
        if (format == Format::html)
            return redacted_html(render_html(report_, verdict_, transcript()));
        return redacted(render(format, report_, verdict_, options));
    }
    /// An HTML rendering of this result (the batch page's parts), redacted as HTML.
    template <typename Render> std::string rendered_html_with(Render&& render_fn) const {
        return redacted_html(render_fn(report_, verdict_));
    }
    /// Any other rendering of this result (the exporter's metrics), redacted.
    template <typename Render> std::string rendered_with(Render&& render_fn) const {
        return redacted(render_fn(report_, verdict_));
    }
    /// The transcript, redacted; empty unless the sink asked for it.
    std::string transcript() const;

private:
    std::string redacted(std::string const& text) const;
    std::string redacted_html(std::string const& page) const;

    Report report_;
    Verdict verdict_;
    std::unique_ptr<TranscriptObserver> observer_; ///< its redactor knows every secret
};

/// Where a result goes.
class ResultSink {
public:
    ResultSink() = default;
    ResultSink(ResultSink const&) = delete;
    ResultSink& operator=(ResultSink const&) = delete;
    virtual ~ResultSink() = default;

    /// Record the transcript of the probe (it costs memory for every line).
    virtual bool wants_transcript() const { return false; }
    /// Called once per target, from the thread that probed it.
    virtual void write(Target const& target, ProbeResult const& result) = 0;
};

/// Probes one target of the request and writes the result to `sink`; returns the exit code.
int run_one(PreparedRequest const& request, Target const& target, ResultSink& sink);

/// The same with the options and expectations given directly (the tests' harness, which
/// points them at an emulator); run_one() is this with the request's.
int run_probe(Target const& target, ProbeOptions const& options, Expectations const& expect,
              ResultSink& sink);

/// A result for a probe that never started (a secret that cannot be read when the exporter
/// runs it): the reason as the fatal error, judged against `expect`.
ProbeResult not_probed(Target const& target, std::string const& why, Expectations const& expect);

} // namespace smtpprobe
