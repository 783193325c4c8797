#pragma once
// The exporter's own metrics (/metrics), kept in a prometheus-cpp Registry: probes by module
// and result, their durations, probes in flight and waiting, configuration reloads, HTTP
// requests by handler and code, and smtpprobe_build_info. Thread-safe.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace smtpprobe::exporter {

/// How a /probe request ended, the `result` label of smtpprobe_exporter_probes_total.
enum class ScrapeOutcome { success, failure, concurrency_limit };
char const* to_string(ScrapeOutcome result) noexcept;

class ExporterMetrics {
public:
    ExporterMetrics();

    void probe_finished(std::string const& module, ScrapeOutcome result, double seconds);
    prometheus::Gauge& in_flight() { return *in_flight_; }
    prometheus::Gauge& waiting() { return *waiting_; }
    void reload(bool ok);
    /// handler: a fixed route name ("probe", "metrics", "index", "logs", "healthy", "reload",
    /// "other"); code: the HTTP status.
    void request(char const* handler, int code);

    std::string render() const;

private:
    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* probes_;
    prometheus::Family<prometheus::Histogram>* durations_;
    prometheus::Family<prometheus::Counter>* requests_;
    prometheus::Gauge* in_flight_;
    prometheus::Gauge* waiting_;
    prometheus::Counter* reloads_;
    prometheus::Counter* reload_failures_;
    prometheus::Gauge* last_reload_ok_;
    prometheus::Gauge* last_reload_time_;
};

} // namespace smtpprobe::exporter
