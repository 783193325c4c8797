#pragma once
// The /probe exposition: one report as Prometheus metric families (README "Metrics"),
// serialised by prometheus-cpp's TextSerializer (text format 0.0.4).
//
// Cardinality is bounded by construction: mechanism labels come from the report's rows (the
// catalogue plus at most 16 extras, engine.cpp), reply codes are three digits, enhanced codes
// are RFC 3463 codes or empty, finding ids and check ids come from the code, never from the
// server; no reply text, banner or certificate name becomes a label.

#include "diagnose/evaluate.hpp"
#include "report/report.hpp"

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace smtpprobe::exporter {

std::vector<prometheus::MetricFamily> probe_families(Report const& report, Verdict const& verdict,
                                                     bool success);

/// probe_families() as text exposition.
std::string render_probe_metrics(Report const& report, Verdict const& verdict, bool success);

/// prometheus-cpp families as text exposition (shared with /metrics).
std::string serialize(std::vector<prometheus::MetricFamily> const& families);

/// "2027-03-01T12:00:00Z" -> seconds since the epoch; nullopt when malformed.
std::optional<double> parse_utc_timestamp(std::string const& text) noexcept;

} // namespace smtpprobe::exporter
