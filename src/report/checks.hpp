#pragma once
// Monitoring checks: what a Nagios/Icinga service (or a JSON-reading monitor) expects of the
// server, judged over the report. Follows the Monitoring Plugins development guidelines:
// states OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3; one status line, then perfdata.

#include "report/report.hpp"

#include <optional>
#include <string>
#include <vector>

namespace smtpprobe {

struct Expectations {
    std::vector<std::string> auth; ///< --expect-auth: recognised, or accepted with credentials
    bool starttls = false;         ///< --expect-starttls
    std::string tls_min;           ///< --expect-tls-min: "1.2"
    std::optional<double> warning_s, critical_s; ///< --warning / --critical for the total
};

/// Fills report.checks: always "session" and "findings", "certificate" when TLS was used,
/// plus one per expectation.
void evaluate_checks(Report& report, Expectations const& expect);

/// The worst state of report.checks: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
int nagios_state(Report const& report) noexcept;

/// "SMTPPROBE CRITICAL - ... | perfdata" and one line per non-OK check after it.
std::string render_nagios(Report const& report, Expectations const& expect);

} // namespace smtpprobe
