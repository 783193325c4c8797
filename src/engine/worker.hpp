#pragma once
// A worker: takes tasks from the collector, keeps one connection (from the connector) for as
// many of them as it may carry, and returns what each task produced.

#include "engine/collector.hpp"
#include "engine/connector.hpp"
#include "sasl/sasl.hpp"
#include "session/redactor.hpp"

#include <functional>

namespace smtpprobe::engine {

struct WorkerContext {
    Collector& collector;
    Connector const& connect;
    sasl::Credentials const* credentials = nullptr; ///< null: no user given
    sasl::ClientOptions client;
    Redactor* redactor = nullptr;
    std::function<bool()> interrupted;
    net::Deadline deadline;
};

/// Runs one task on a ready session. Throws std::system_error when the connection breaks
/// (the caller decides whether to retry); `keep` says whether the session can carry more.
TaskResult run_task(WorkerContext const& context, Session& session, Task task, MechanismRow row,
                    bool& keep);

/// Works until the queue is empty, the deadline passes, the run is interrupted or the server
/// cannot be reached. The connection numbered 1, whichever worker opens it, is the run's first:
/// it carries the one-off probes (AUTH and MAIL before TLS), so the transcript's
/// "# connection 1" is always the one that shows them.
void run_worker(WorkerContext const& context);

} // namespace smtpprobe::engine
