#pragma once
// Observations -> findings a person can act on, each with its evidence; explanations of every
// code seen; client-library compatibility. Called by evaluate() (diagnose/evaluate.hpp).

#include "diagnose/evaluate.hpp"

namespace smtpprobe {

/// Fills out.findings, out.explanations and out.clients.
void diagnose_findings(Report const& report, Expectations const& expect, Verdict& out);

} // namespace smtpprobe
