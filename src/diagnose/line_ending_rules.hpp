#pragma once
// Findings of --line-endings (report.line_endings; probes/line_endings.hpp): how the server
// takes a command ended by a bare LF or a bare CR, and what that does and does not say about
// SMTP smuggling (CVE-2023-51764 class; data/smtp-facts-additions.md §1.12).

#include "report/report.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// line_endings.bare_lf_line_end, line_endings.bare_lf_rejected, line_endings.bare_cr_line_end.
void line_ending_findings(Report const& report, std::vector<Finding>& out);

} // namespace smtpprobe::diagnose
