#pragma once
// The envelope's replies (probes/envelope.hpp), each named with what it means and the fix,
// vendor by vendor where the texts are known (data/smtp-facts-additions.md §3.4): ACS's
// "sender domain has not been linked", Exchange Online's 5.7.60 and 5.7.57, Postfix's
// "not owned by user" (smtpd_sender_login_maps) and "Relay access denied", Exim's "relay not
// permitted" and its ACL default "Administrative prohibition". Part of evaluate().

#include "report/report.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// What one reply of the envelope means: `meaning`, `fix` and `finding_id` of the step,
/// filled. `report` gives the context (credentials given, the matrix).
EnvelopeStep judge_step(EnvelopeStep step, Envelope const& envelope, Report const& report);

/// The report's envelope with every step judged (none without an envelope).
std::optional<Envelope> judge_envelope(Report const& report);

/// One finding per refused step of a judged envelope (error for 5xx, warning for 4xx), and
/// one when the envelope could not run; an info finding when everything was accepted.
std::vector<Finding> envelope_findings(Envelope const& judged, Report const& report);

} // namespace smtpprobe::diagnose
