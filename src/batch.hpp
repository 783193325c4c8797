#pragma once
// Many targets in one run: probe() + evaluate() per target, at most --jobs at once, each
// report written as soon as its target finishes (NDJSON: one line each; JSON: an array; text:
// each report, then a one-line-per-target summary table). Nothing holds all reports: memory
// grows with --jobs, not with the number of targets (the summary keeps one short row each).

#include "request/prepare.hpp"

#include <functional>
#include <istream>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>

namespace smtpprobe {

/// Where the targets come from, one at a time: the command line's list, or a file (or stdin)
/// read line by line ("#" starts a comment; blank lines are skipped).
class TargetSource {
public:
    /// The next target, or nullopt at the end. A line that is not HOST[:PORT] is reported
    /// through `bad` (line number, message) and skipped. Thread-safe.
    std::optional<Target> next();
    /// How many command-line targets were never taken (a file is not read further).
    std::size_t untaken() const;

    TargetSource(PreparedRequest const& request, std::istream* file,
                 std::function<void(std::string const&)> bad);

private:
    PreparedRequest const& request_;
    std::istream* file_;
    std::size_t next_arg_ = 0;
    std::size_t line_ = 0;
    std::function<void(std::string const&)> bad_;
    mutable std::mutex mutex_;
};

/// Runs the batch: run_one() per target, --jobs at once; returns the worst exit code over all
/// targets (README "Exit codes").
int run_batch(PreparedRequest const& request, TargetSource& targets, std::ostream& out);

/// The worse of two exit codes: ok < problems < no_session < usage < interrupted.
int worse_exit_code(int a, int b) noexcept;

} // namespace smtpprobe
