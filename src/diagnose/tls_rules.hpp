#pragma once
// TLS findings: a failed handshake, each certificate problem by name (expired, not yet valid,
// wrong host, incomplete chain, self-signed, untrusted CA, other verification errors), expiry
// against --cert-warn-days/--cert-crit-days, SNI and protocol versions. Each carries a fix and
// its evidence.

#include "diagnose/evaluate.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// Findings about report.server's TLS session and the extra TLS checks (report.sni_check,
/// report.tls_versions). A verification problem is an error because verifying clients refuse
/// the server, and a warning under --insecure (TlsInfo::verification_skipped). Expiry is a
/// warning below expect.cert_warn_days days left and an error below expect.cert_crit_days.
std::vector<Finding> tls_findings(Report const& report, Expectations const& expect);

} // namespace smtpprobe::diagnose
