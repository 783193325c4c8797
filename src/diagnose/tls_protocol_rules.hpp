#pragma once
// TLS findings beyond the main session's certificate: what the extra handshakes showed (SNI,
// report.sni_check; protocol versions, report.tls_versions). Part of tls_findings().

#include "report/report.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// tls.sni_required, from report.sni_check (see engine.cpp, Run::tls_checks, for when it runs).
void sni_findings(Report const& report, std::vector<Finding>& out);
/// tls.legacy_version, tls.no_modern_version, tls.tls13_only, tls.no_tls13 from
/// report.tls_versions.
void version_findings(Report const& report, std::vector<Finding>& out);

} // namespace smtpprobe::diagnose
