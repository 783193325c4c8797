#include "engine/worker.hpp"

#include "net/errc.hpp"
#include "probes/auth.hpp"

#include <memory>
#include <system_error>

namespace smtpprobe::engine {
namespace {

// A fresh connection after this many AUTH probes: Postfix starts sleeping a second per error
// after smtpd_soft_error_limit (10) and Exim refuses after smtp_accept_max_nonmail (10)
// non-mail commands (tests/integration/QUIRKS.md). A connection that carried credentials is
// never reused (run_task says so).
constexpr int max_probes_per_connection = 8;

// Reconnects one row may cause. A row gets one of its own; a drop met on a connection that had
// answered earlier AUTH commands is not charged to the row (see run_worker), up to this bound.
constexpr int max_attempts = 3;

/// Whether the row whose AUTH met a closed connection runs again, on a fresh one.
bool may_retry(Task const& task, Session const& session) {
    // The server may have decided to hang up in its reply to an earlier command (Exim folds
    // "Too many syntax or protocol errors" into the 504 of the mechanism that hit the limit),
    // so a drop on a used connection says nothing about this row, and a retried row can land
    // on another connection that is already dead. Only a drop on a connection this row had to
    // itself uses up its one retry.
    bool const inherited = session.auth_probes > 1;
    return task.attempts == 0 || (inherited && task.attempts < max_attempts);
}

/// The cell after the connection broke during `task` (no retry left).
TaskResult broken(Task task, MechanismRow row, std::system_error const& e) {
    bool const stopped = e.code() == net::errc::interrupted;
    Status const status = stopped ? Status::skipped : Status::error;
    std::string const what = stopped ? std::string("interrupted") : std::string(e.what());
    if (row.recognition.status == Status::pending) {
        row.recognition.status = status;
        row.recognition.note = what;
    }
    if (task.authenticate) {
        row.authentication.status = status;
        row.authentication.reason = what;
    }
    return {task, std::move(row), {}, false, false, false};
}

} // namespace

TaskResult run_task(WorkerContext const& context, Session& session, Task task, MechanismRow row,
                    bool& keep) {
    ++session.auth_probes;
    TaskResult result{task, std::move(row), {}, false, false, true};
    bool const send = session.credentials.decision == CredentialPolicy::Decision::send;
    if (task.authenticate && send) {
        probes::AuthAttempt attempt{context.credentials, context.client, context.redactor};
        // A session that carried credentials is spent (RFC 4954 §4: no second AUTH after
        // 235), so every credential exchange gets a fresh one; a refusal before any
        // credential was sent leaves the session as good as new.
        bool const spent = probes::authenticate(*session.conversation, result.row, attempt) ==
                           probes::SessionAfter::closed;
        keep = !spent;
        result.sent_insecurely = spent && session.credentials.reason != Withheld::no;
        return result;
    }
    if (task.authenticate) {
        Authentication& a = result.row.authentication;
        a.status = Status::skipped;
        a.withheld = session.credentials.reason;
        a.reason = session.credentials.text;
    }
    keep = probes::recognise(*session.conversation, result.row) == probes::SessionAfter::usable;
    return result;
}

void run_worker(WorkerContext const& context) {
    Collector& collector = context.collector;
    std::unique_ptr<Session> session;
    int open_failures = 0;
    for (int round = 0; round < 10'000; ++round) {
        if (context.interrupted() || net::Clock::now() >= context.deadline || collector.give_up())
            break;
        // An empty queue ends the worker: until some connection is ready nobody knows the
        // server's extra mechanisms, and the engine runs whatever they add afterwards.
        std::optional<Task> task = collector.next_task();
        if (!task)
            break;
        if (session && session->auth_probes >= max_probes_per_connection) {
            session->conversation->quit();
            session.reset();
        }
        if (!session) {
            int const id = collector.next_connection_id();
            auto const opening = std::chrono::steady_clock::now();
            ConnectResult opened = context.connect({id, id == 1});
            collector.connected(opened, id, opening);
            session = std::move(opened.session);
            if (!session) {
                collector.connection_failed(*task, opened.failure);
                if (++open_failures >= 2)
                    break;
                continue;
            }
        }
        MechanismRow const before = collector.row(task->row);
        collector.started_auth();
        auto const auth_start = std::chrono::steady_clock::now();
        int const session_id = session->id;
        bool keep = true;
        try {
            collector.finished(run_task(context, *session, *task, before, keep));
        } catch (std::system_error const& e) {
            keep = false;
            bool const dropped = e.code() == net::errc::closed_by_peer;
            if (dropped && may_retry(*task, *session) && !context.interrupted()) {
                Task again = *task;
                ++again.attempts;
                TaskResult retry{again, before, {}, true, false, false};
                retry.events.push_back(
                    {EventKind::reconnect,
                     "the server closed the connection during AUTH " + before.name + " after " +
                         std::to_string(session->auth_probes - 1) +
                         " earlier AUTH attempt(s) on it; reconnected and retried",
                     session->id});
                collector.finished(std::move(retry));
            } else {
                collector.finished(broken(*task, before, e));
            }
        }
        collector.timed_auth(session_id, before.name, auth_start);
        if (!keep) {
            session->conversation->quit();
            session.reset();
        }
    }
    if (session)
        session->conversation->quit();
}

} // namespace smtpprobe::engine
