#include "request/run.hpp"

namespace smtpprobe {

ProbeResult::ProbeResult(Report report, Verdict verdict,
                         std::unique_ptr<TranscriptObserver> observer)
    : report_(std::move(report)), verdict_(std::move(verdict)), observer_(std::move(observer)) {}

std::string ProbeResult::redacted(std::string const& text) const {
    return observer_->redactor().redact(text);
}

std::string ProbeResult::redacted_html(std::string const& page) const {
    return observer_->redactor().redact_html(page);
}

std::string ProbeResult::transcript() const {
    return observer_->transcript().render(observer_->redactor());
}

int run_probe(Target const& target, ProbeOptions const& options, Expectations const& expect,
              ResultSink& sink) {
    auto observer = std::make_unique<TranscriptObserver>(sink.wants_transcript());
    Report report = probe(target, options, *observer);
    Verdict verdict = evaluate(report, expect);
    ProbeResult const result(std::move(report), std::move(verdict), std::move(observer));
    sink.write(target, result);
    return result.verdict().exit_code;
}

int run_one(PreparedRequest const& request, Target const& target, ResultSink& sink) {
    return run_probe(target, request.options_for(target), request.expectations(), sink);
}

ProbeResult not_probed(Target const& target, std::string const& why, Expectations const& expect) {
    Report report;
    report.host = target.host;
    report.port = target.port;
    FatalError fatal;
    fatal.phase = std::nullopt; // before any phase: the probe never started
    fatal.error = why;
    report.fatal = std::move(fatal);
    Verdict verdict = evaluate(report, expect);
    return ProbeResult(std::move(report), std::move(verdict),
                       std::make_unique<TranscriptObserver>(false));
}

} // namespace smtpprobe
