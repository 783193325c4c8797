#pragma once
// `smtpprobe exporter [options]`: its own option table, the config load (a bad one is exit 64),
// the server, and the signals (SIGHUP reloads; SIGINT, SIGTERM stop).

#include <string>
#include <vector>

namespace smtpprobe::exporter {

/// `args` are the words after "exporter". Returns the process exit code.
int run_exporter_command(std::vector<std::string> const& args);

} // namespace smtpprobe::exporter
