#pragma once
// The token preflight's findings (issue 19), ids oauth.*: what the OAuth token given says about
// itself (Report::token, read before the first connection), judged against the local clock,
// --user, and the provider's published rules (data/smtp-facts-additions.md §7). Generic rules
// for any token; Microsoft 365 rules when the target is Exchange Online (its SMTP host names,
// a Microsoft identity-platform issuer, or an Exchange Online banner).

#include "report/report.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// True when the report is about Exchange Online: the host is smtp.office365.com,
/// smtp-legacy.office365.com or outlook.office365.com, or the banner names an Exchange Online
/// node (*.outlook.office365.com, *.prod.outlook.com).
bool exchange_online_target(Report const& report);

/// Appends the oauth.* findings of `report.token` to `out`; nothing without a token.
void token_findings(Report const& report, std::vector<Finding>& out);

} // namespace smtpprobe::diagnose
