#pragma once
// AUTH findings: what the matrix says a client can use (only after STARTTLS, advertised but
// refused, recognised but hidden, plaintext passwords), what NTLM disclosed, and what the
// credentials did (accepted, rejected, withheld, sent over an unverified connection).

#include "report/report.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// Appends the AUTH, NTLM and credential findings of `report` to `out`.
void auth_findings(Report const& report, std::vector<Finding>& out);

} // namespace smtpprobe::diagnose
