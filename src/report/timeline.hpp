#pragma once
// A connection's steps on the timeline (issue 22), from the step durations its facts hold.

#include "report/report.hpp"

#include <vector>

namespace smtpprobe {

/// A connection's steps from its facts' Timings, laid end to end from `start_ms` in the order
/// the connection ran them (implicit TLS before the banner, STARTTLS's handshake after its 220,
/// the first connection's one-off probes where they ran). Every wait between the connect and
/// the first AUTH row is one of these steps, so the ends match the connection's clock.
std::vector<StepTiming> steps_in_order(ServerFacts const& facts, double start_ms);

} // namespace smtpprobe
