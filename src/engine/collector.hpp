#pragma once
// The one writer of a probe's Report while it runs: workers hand it what each connection and
// each task produced (ConnectResult, TaskResult) and take their next task from it. Thread-safe.

#include "engine/connector.hpp"
#include "engine/plan.hpp"
#include "engine/probe.hpp"
#include "report/report.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::engine {

/// What one task produced: the filled matrix cell and what happened on the way.
struct TaskResult {
    Task task;
    MechanismRow row;
    std::vector<Event> events;
    bool retry = false;                ///< the server hung up: run the task again, reconnected
    bool sent_insecurely = false;      ///< credentials went over a connection not verified TLS
    bool counts_as_auth_probe = false; ///< a reply came back (for the AUTH timing)
};

class Collector {
public:
    /// `progress` is called after each task, one call at a time. `run_start` is the timeline's
    /// zero (Report::connection_timings).
    Collector(Report& report, Plan& plan, std::function<void(Progress const&)> progress,
              std::chrono::steady_clock::time_point run_start = std::chrono::steady_clock::now());

    int next_connection_id();
    /// Adopts the facts of the first connection that got ready (or, until then, of the one
    /// that got furthest); the first ready one also adds the advertised mechanisms' rows.
    void connected(ConnectResult const& result);
    /// The same, and connection `id`'s steps on the timeline: opened at `opened`, each step of
    /// its facts' Timings after the previous one.
    void connected(ConnectResult const& result, int id,
                   std::chrono::steady_clock::time_point opened);
    /// Connection `id` probed `mechanism` from `start` until now (the timeline's AUTH bar).
    void timed_auth(int id, std::string const& mechanism,
                    std::chrono::steady_clock::time_point start);
    /// No connection could be opened for `task`: it goes back to the queue. True when the
    /// other workers should stop trying too (no connection has ever got as far as AUTH).
    void connection_failed(Task task, std::string const& why);
    bool give_up();

    std::optional<Task> next_task();
    MechanismRow row(std::size_t index);
    void started_auth();
    void finished(TaskResult result);
    void event(Event e);

    /// After the workers: the advertised flags and why a row stayed pending.
    void finish(bool interrupted, bool out_of_time);

private:
    void add_event(Event e); // with mutex_ held

    std::mutex mutex_;
    Report& report_;
    Plan& plan_;
    std::function<void(Progress const&)> progress_;
    bool facts_adopted_ = false;
    bool unreachable_ = false;
    std::string last_failure_;
    std::size_t rows_done_ = 0;
    std::optional<std::chrono::steady_clock::time_point> auth_start_, auth_end_;
    std::chrono::steady_clock::time_point run_start_;
    ConnectionTimings& timeline(int id); // with mutex_ held
};

} // namespace smtpprobe::engine
