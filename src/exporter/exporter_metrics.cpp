#include "exporter/exporter_metrics.hpp"

#include "exporter/probe_metrics.hpp"

#include <openssl/opensslv.h>

#include <chrono>

namespace smtpprobe::exporter {

char const* to_string(ScrapeOutcome result) noexcept {
    switch (result) {
    case ScrapeOutcome::success:
        return "success";
    case ScrapeOutcome::failure:
        return "failure";
    case ScrapeOutcome::concurrency_limit:
        return "concurrency_limit";
    }
    return "failure";
}

ExporterMetrics::ExporterMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
    using namespace prometheus;
    probes_ = &BuildCounter()
                   .Name("smtpprobe_exporter_probes_total")
                   .Help("Probes answered, by module and result (success, failure, "
                         "concurrency_limit)")
                   .Register(*registry_);
    durations_ = &BuildHistogram()
                      .Name("smtpprobe_exporter_probe_duration_seconds")
                      .Help("Wall time of probes, by module")
                      .Register(*registry_);
    requests_ = &BuildCounter()
                     .Name("smtpprobe_exporter_http_requests_total")
                     .Help("HTTP requests, by handler and status code (4xx: refused requests)")
                     .Register(*registry_);
    in_flight_ = &BuildGauge()
                      .Name("smtpprobe_exporter_probes_in_flight")
                      .Help("Probes running now")
                      .Register(*registry_)
                      .Add({});
    waiting_ = &BuildGauge()
                    .Name("smtpprobe_exporter_probes_waiting")
                    .Help("Probes waiting for a slot (max_concurrent_probes reached)")
                    .Register(*registry_)
                    .Add({});
    reloads_ = &BuildCounter()
                    .Name("smtpprobe_exporter_config_reloads_total")
                    .Help("Configuration reloads attempted (SIGHUP, POST /-/reload)")
                    .Register(*registry_)
                    .Add({});
    reload_failures_ = &BuildCounter()
                            .Name("smtpprobe_exporter_config_reload_failures_total")
                            .Help("Configuration reloads that failed (the old config stayed)")
                            .Register(*registry_)
                            .Add({});
    last_reload_ok_ = &BuildGauge()
                           .Name("smtpprobe_exporter_config_last_reload_successful")
                           .Help("1 when the last configuration load succeeded")
                           .Register(*registry_)
                           .Add({});
    last_reload_time_ =
        &BuildGauge()
             .Name("smtpprobe_exporter_config_last_reload_success_timestamp_seconds")
             .Help("When the configuration was last loaded successfully")
             .Register(*registry_)
             .Add({});
    last_reload_ok_->Set(1);
    last_reload_time_->SetToCurrentTime();
    BuildGauge()
        .Name("smtpprobe_build_info")
        .Help("smtpprobe's version and the OpenSSL it was built with (value 1)")
        .Register(*registry_)
        .Add({{"version", SMTPPROBE_VERSION}, {"openssl", OPENSSL_VERSION_STR}})
        .Set(1);
}

void ExporterMetrics::probe_finished(std::string const& module, ScrapeOutcome result,
                                     double seconds) {
    probes_->Add({{"module", module}, {"result", to_string(result)}}).Increment();
    // Probes last from tens of milliseconds (loopback) to the scrape timeout.
    static prometheus::Histogram::BucketBoundaries const buckets{0.05, 0.1, 0.25, 0.5, 1,
                                                                 2.5,  5,   10,   20,  30};
    durations_->Add({{"module", module}}, buckets).Observe(seconds);
}

void ExporterMetrics::reload(bool ok) {
    reloads_->Increment();
    if (!ok)
        reload_failures_->Increment();
    last_reload_ok_->Set(ok ? 1 : 0);
    if (ok)
        last_reload_time_->SetToCurrentTime();
}

void ExporterMetrics::request(char const* handler, int code) {
    requests_->Add({{"handler", handler}, {"code", std::to_string(code)}}).Increment();
}

std::string ExporterMetrics::render() const {
    return serialize(registry_->Collect());
}

} // namespace smtpprobe::exporter
