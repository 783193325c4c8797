#pragma once
// Observations -> findings a person can act on, each with its evidence; explanations of every
// code seen; client-library compatibility; the exit code (README "Exit codes").

#include "report/report.hpp"

namespace smtpprobe {

/// Fills report.findings, report.explanations, report.clients and report.exit_code.
void diagnose_report(Report& report);

} // namespace smtpprobe
