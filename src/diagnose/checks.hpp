#pragma once
// Monitoring checks: what a Nagios/Icinga service (or a JSON-reading monitor) expects of the
// server, judged over the report. Follows the Monitoring Plugins development guidelines:
// states OK, WARNING, CRITICAL, UNKNOWN. Part of evaluate() (diagnose/evaluate.hpp).

#include "diagnose/evaluate.hpp"

#include <vector>

namespace smtpprobe {

/// Always "session" and "findings", "certificate" when TLS was used, plus one per expectation.
std::vector<Check> evaluate_checks(Report const& report, std::vector<Finding> const& findings,
                                   Expectations const& expect);

} // namespace smtpprobe
