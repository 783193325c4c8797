#include "engine/collector.hpp"

#include "report/timeline.hpp"

#include <algorithm>

namespace smtpprobe::engine {
namespace {

constexpr std::size_t max_events = 1000;

/// How far a connection got on its way to AUTH: banner, EHLO, STARTTLS, TLS.
int progress_of(ServerFacts const& f) {
    if (f.tls || !f.tls_error.empty() || !f.starttls_injected.empty())
        return 4;
    if (f.starttls_reply)
        return 3;
    if (f.ehlo_reply)
        return 2;
    return f.banner ? 1 : 0;
}

/// The one-off MAIL FROM:<> replies (first connection) survive whichever connection's facts
/// the report adopts.
void adopt_mail_probe(ServerFacts& server, ServerFacts const& from) {
    if (!server.mail_before_tls_reply)
        server.mail_before_tls_reply = from.mail_before_tls_reply;
    if (!server.mail_before_auth_reply)
        server.mail_before_auth_reply = from.mail_before_auth_reply;
}

} // namespace

Collector::Collector(Report& report, Plan& plan, std::function<void(Progress const&)> progress,
                     std::chrono::steady_clock::time_point run_start)
    : report_(report), plan_(plan), progress_(std::move(progress)), run_start_(run_start) {
    report_.rows = plan_.rows();
}

void Collector::add_event(Event e) {
    if (report_.events.size() < max_events)
        report_.events.push_back(std::move(e));
}

void Collector::event(Event e) {
    std::lock_guard lock(mutex_);
    add_event(std::move(e));
}

int Collector::next_connection_id() {
    std::lock_guard lock(mutex_);
    return ++report_.connections;
}

void Collector::connected(ConnectResult const& result) {
    std::lock_guard lock(mutex_);
    for (Event const& e : result.events)
        add_event(e);
    if (!result.address.empty() && report_.connected_address.empty())
        report_.connected_address = result.address;
    if (!result.path.local.empty() && report_.path.local_address.empty()) {
        report_.path.local_address = result.path.local;
        report_.path.proxy_address = result.path.proxy_address;
        report_.path.proxy_bound = result.path.proxy_bound;
    }
    if (!result.facts)
        return;
    ServerFacts const& facts = *result.facts;
    ServerFacts& server = report_.server;
    if (!facts_adopted_ && facts.ready) {
        facts_adopted_ = true;
        std::optional<std::string> mech = server.auth_before_tls_mechanism;
        std::optional<smtp::Reply> reply = server.auth_before_tls_reply;
        ServerFacts const earlier = server;
        server = facts;
        if (!server.auth_before_tls_reply && reply) {
            server.auth_before_tls_mechanism = mech;
            server.auth_before_tls_reply = reply;
        }
        adopt_mail_probe(server, earlier);
        report_.session_established = true;
    } else if (facts_adopted_ && facts.ready) {
        if (facts.auth_before_tls_reply && !server.auth_before_tls_reply) {
            server.auth_before_tls_mechanism = facts.auth_before_tls_mechanism;
            server.auth_before_tls_reply = facts.auth_before_tls_reply;
        }
        adopt_mail_probe(server, facts);
        // Connections may land on different pool members; say so when they disagree.
        smtp::Capabilities const* mine = facts.final_capabilities();
        smtp::Capabilities const* theirs = server.final_capabilities();
        if (mine != nullptr && theirs != nullptr && mine->auth != theirs->auth)
            add_event({EventKind::capabilities_differ,
                       "this connection's AUTH list differs from the first one's",
                       result.session ? result.session->id : 0});
    } else if (!facts_adopted_ && progress_of(facts) >= progress_of(server)) {
        // Of the failed connections, report the one that got furthest.
        server = facts;
    }
    if (facts.ready && !plan_.advertised_added()) {
        std::vector<std::string> names;
        for (std::optional<smtp::Capabilities> const* caps : {&facts.before_tls, &facts.after_tls})
            if (caps->has_value())
                names.insert(names.end(), (*caps)->auth.begin(), (*caps)->auth.end());
        if (!plan_.add_advertised(names))
            add_event({EventKind::too_many_mechanisms,
                       "the server advertises more mechanisms than smtpprobe probes (" +
                           std::to_string(Plan::max_extra_mechanisms) +
                           " beyond the catalogue); the rest were not probed",
                       0});
        for (std::size_t i = report_.rows.size(); i < plan_.rows().size(); ++i)
            report_.rows.push_back(plan_.rows()[i]);
    }
}

void Collector::connection_failed(Task task, std::string const& why) {
    std::lock_guard lock(mutex_);
    last_failure_ = why;
    plan_.put_back(task);
    // No connection has ever got as far as AUTH: the server is down or refuses us, and N
    // workers retrying would only repeat the same failure N times.
    if (!report_.session_established)
        unreachable_ = true;
}

bool Collector::give_up() {
    std::lock_guard lock(mutex_);
    return unreachable_ && !report_.session_established;
}

std::optional<Task> Collector::next_task() {
    std::lock_guard lock(mutex_);
    return plan_.next();
}

MechanismRow Collector::row(std::size_t index) {
    std::lock_guard lock(mutex_);
    return report_.rows[index];
}

ConnectionTimings& Collector::timeline(int id) {
    std::vector<ConnectionTimings>& all = report_.connection_timings;
    auto it = std::find_if(all.begin(), all.end(),
                           [id](ConnectionTimings const& c) { return c.connection == id; });
    if (it != all.end())
        return *it;
    // In connection order, whichever thread reports first.
    it = std::find_if(all.begin(), all.end(),
                      [id](ConnectionTimings const& c) { return c.connection > id; });
    return *all.insert(it, ConnectionTimings{id, {}});
}

void Collector::connected(ConnectResult const& result, int id,
                          std::chrono::steady_clock::time_point opened) {
    connected(result);
    if (!result.facts)
        return;
    std::vector<StepTiming> const steps = steps_in_order(
        *result.facts, std::chrono::duration<double, std::milli>(opened - run_start_).count());
    std::lock_guard lock(mutex_);
    std::vector<StepTiming>& mine = timeline(id).steps;
    mine.insert(mine.begin(), steps.begin(), steps.end());
}

void Collector::timed_auth(int id, std::string const& mechanism,
                           std::chrono::steady_clock::time_point start) {
    auto const now = std::chrono::steady_clock::now();
    StepTiming step{TimedStep::auth, mechanism,
                    std::chrono::duration<double, std::milli>(start - run_start_).count(),
                    std::chrono::duration<double, std::milli>(now - start).count()};
    std::lock_guard lock(mutex_);
    timeline(id).steps.push_back(std::move(step));
}

void Collector::started_auth() {
    std::lock_guard lock(mutex_);
    if (!auth_start_)
        auth_start_ = std::chrono::steady_clock::now();
}

void Collector::finished(TaskResult result) {
    Progress progress;
    {
        std::lock_guard lock(mutex_);
        for (Event& e : result.events)
            add_event(std::move(e));
        if (result.sent_insecurely)
            report_.credentials_sent_insecurely = true;
        if (result.retry) {
            plan_.put_back(result.task);
            return;
        }
        report_.rows[result.task.row] = std::move(result.row);
        if (result.counts_as_auth_probe)
            auth_end_ = std::chrono::steady_clock::now();
        progress = {++rows_done_, report_.rows.size(), report_.connections};
    }
    if (progress_)
        progress_(progress);
}

void Collector::finish(bool interrupted, bool out_of_time) {
    std::lock_guard lock(mutex_);
    if (!report_.session_established && !report_.fatal) {
        FatalError f;
        if (report_.server.failure) {
            f = *report_.server.failure;
        } else if (report_.server.stop_reason.empty()) {
            // No connection opened at all (refused, unreachable, or the budget ran out).
            f.phase = Phase::connect;
            f.kind = interrupted ? FailureKind::interrupted : FailureKind::unreachable;
            f.error = last_failure_;
        } else {
            // A refusal that came without a structured failure.
            f.phase = std::nullopt;
            f.error = report_.server.stop_reason;
        }
        report_.fatal = f;
    }
    smtp::Capabilities const* before =
        report_.server.before_tls ? &*report_.server.before_tls : nullptr;
    smtp::Capabilities const* after =
        report_.server.tls && report_.server.after_tls ? &*report_.server.after_tls : nullptr;
    // With implicit TLS there is no "before TLS": the one EHLO is after it.
    bool const implicit = report_.tls_used == TlsMode::implicit;
    for (MechanismRow& row : report_.rows) {
        row.advertised_before_tls = before != nullptr && !implicit && before->offers(row.name);
        row.advertised_after_tls = after != nullptr && after->offers(row.name);
        if (row.recognition.status == Status::pending) {
            row.recognition.status = Status::skipped;
            row.recognition.note = interrupted   ? "interrupted"
                                   : out_of_time ? "the run's time budget (--timeout) ran out"
                                                 : "no connection was available: " + last_failure_;
        }
    }
    if (auth_start_ && auth_end_)
        report_.auth_ms =
            std::chrono::duration<double, std::milli>(*auth_end_ - *auth_start_).count();
}

} // namespace smtpprobe::engine
