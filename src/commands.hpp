#pragma once
// The commands main() dispatches to. Each returns the exit code (diagnose/evaluate.hpp).

#include "cli.hpp"

#include <string>
#include <vector>

namespace smtpprobe {

/// prepare() the request, then run_one() for its target, or the batch (batch.hpp) for several;
/// write the outputs. Throws UsageError for what prepare() refuses.
int run_probe_command(ProbeRequest const& request);
/// "smtpprobe explain 504 5.7.4".
int run_explain_command(std::vector<std::string> const& codes);
/// "smtpprobe emulate --profile FILE": a local server until SIGINT/SIGTERM.
int run_emulate_command(EmulateArguments const& arguments);

} // namespace smtpprobe
