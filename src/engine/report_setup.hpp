#pragma once
// What a Report says about the probe before any I/O: the target, the options that shape the
// run, the connection path, and the secrets registered in the redactor.

#include "engine/probe.hpp"

namespace smtpprobe::engine {

/// Fills the target, option and path fields of `report` and registers every secret of the
/// options (credentials, proxy password) in `redactor`.
void record_target(Report& report, Target const& target, ProbeOptions const& options,
                   Redactor& redactor);

} // namespace smtpprobe::engine
