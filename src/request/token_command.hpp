#pragma once
// --oauth-token-cmd: run a command for the OAuth token, as msmtp's passwordeval does. The
// command runs as /bin/sh -c CMD with standard input from /dev/null; the first line it prints
// is the token, the rest is read and dropped (never kept). Its standard error is the caller's
// (the terminal, or the exporter's log): the command's own messages ("run az login first")
// are what its user needs, and smtpprobe never reads them, so they reach no report.
// Bounded: at most `timeout` (then the command's process group is killed) and
// max_token_command_output bytes of output.

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace smtpprobe {

inline constexpr std::size_t max_token_command_output = 64 * 1024;

/// Why the command gave no token: its exit status, the signal that ended it, the timeout, or
/// an empty first line. what() never holds the command's output or the command itself (it may
/// carry a client secret).
struct TokenCommandError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Runs `command` and returns the first line of its output, without the line end.
/// Throws TokenCommandError.
std::string run_token_command(std::string const& command, std::chrono::milliseconds timeout);

} // namespace smtpprobe
