#pragma once
// The plan of one probe: the rows of the AUTH matrix and the order of their tasks. Pure (no
// I/O, no clock, no lock): the collector owns one and serialises access to it.

#include "report/report.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::engine {

/// One matrix cell to fill: recognise the mechanism, or run a real exchange with credentials.
struct Task {
    std::size_t row = 0;
    bool authenticate = false;
    int attempts = 0; ///< reconnects so far (when the server hangs up; worker.cpp's may_retry)
};

/// What the plan needs to know of the options.
struct PlanInput {
    std::vector<std::string> mechanisms; ///< chosen by the user; empty = the catalogue
    bool credentials = false;            ///< a user was given
    bool password = false;               ///< ... with a password
    bool token = false;                  ///< ... with an OAuth token
    bool certificate = false;            ///< a client certificate (--cert): EXTERNAL
};

class Plan {
public:
    /// At most this many advertised mechanisms beyond the catalogue get rows.
    static constexpr std::size_t max_extra_mechanisms = 16;

    explicit Plan(PlanInput input);

    /// The first connection that is ready adds a row for each mechanism it advertised that has
    /// none yet (well-formed names only: they go on the wire), once per run and not when the
    /// user chose the mechanisms. Returns false when the bound cut the list short.
    bool add_advertised(std::vector<std::string> const& names);
    bool advertised_added() const noexcept { return extras_added_; }

    /// The next task: credential exchanges first (each needs a fresh session), in row order,
    /// then the recognitions.
    std::optional<Task> next();
    /// Puts a task back at the front (its connection could not be opened, or it is retried).
    void put_back(Task task);

    std::vector<MechanismRow>& rows() noexcept { return rows_; }
    std::vector<MechanismRow> const& rows() const noexcept { return rows_; }

private:
    void add_row(std::string const& name);

    PlanInput input_;
    std::vector<MechanismRow> rows_;
    std::deque<Task> queue_;
    bool extras_added_ = false;
};

} // namespace smtpprobe::engine
