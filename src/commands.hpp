#pragma once
// The commands main() dispatches to. Each returns the exit code (diagnose/evaluate.hpp).

#include "cli.hpp"

#include <string>
#include <vector>

namespace smtpprobe {

/// Probe the target (or the --demo emulator), evaluate, write the outputs.
int run_probe_command(Config& config);
/// "smtpprobe explain 504 5.7.4".
int run_explain_command(std::vector<std::string> const& codes);
/// "smtpprobe emulate --profile FILE": a local server until SIGINT/SIGTERM.
int run_emulate_command(Command const& command);

} // namespace smtpprobe
