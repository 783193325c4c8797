#include "engine/probe.hpp"

#include "net/errc.hpp"
#include "net/interrupt.hpp"
#include "net/tcp_transport.hpp"
#include "probes/auth.hpp"
#include "probes/baseline.hpp"
#include "probes/catalogue.hpp"
#include "probes/tls_versions.hpp"
#include "sasl/base64.hpp"
#include "smtp/capabilities.hpp"
#include "smtp/errc.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace smtpprobe {
namespace {

/// How far a connection got on its way to AUTH: banner, EHLO, STARTTLS, TLS.
int progress(ServerFacts const& f) {
    if (f.tls || !f.tls_error.empty() || !f.starttls_injected.empty())
        return 4;
    if (f.starttls_reply)
        return 3;
    if (f.ehlo_reply)
        return 2;
    return f.banner ? 1 : 0;
}

double ms_between(net::Clock::time_point a, net::Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string one_decimal(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", value);
    return text;
}

constexpr int max_probes_per_connection = 8;
constexpr std::size_t max_extra_mechanisms = 16;

struct Task {
    std::size_t row = 0;
    bool authenticate = false;
    int attempts = 0;
};

/// One live connection of a worker.
struct Session {
    std::unique_ptr<net::TcpTransport> transport;
    std::unique_ptr<Conversation> conversation;
    ServerFacts facts;
    int auth_probes = 0;
    bool may_send_credentials = false;
    std::string no_credentials_reason;
};

class Run {
public:
    Run(Target const& target, ProbeOptions const& options, Observer& observer)
        : target_(target), options_(options), observer_(observer), redactor_(observer.redactor()),
          start_(net::Clock::now()), deadline_(start_ + options.total_timeout) {
        if (observer.wants_transcript()) {
            recorder_.emplace([this](TranscriptEvent const& line) {
                std::lock_guard lock(observer_mutex_);
                observer_.transcript_line(line);
            });
            transcript_ = &*recorder_;
        }
    }

    Report execute();

private:
    void build_rows();
    void add_row(std::string const& name);
    void worker(unsigned index);
    std::unique_ptr<Session> open_session(bool first);
    /// The connector: every connection of the run is opened here (proxy, source address),
    /// its "===" lines go into the transcript as connection `id`.
    std::unique_ptr<net::TcpTransport> connect(int id, net::ConnectInfo& info);
    void run_task(Session& session, Task& task, bool& keep_session);
    void adopt_facts(ServerFacts const& facts, int session_id);
    void event(std::string kind, std::string detail, int session);
    std::optional<Task> pop_task();
    void push_front(Task task);
    void finish_rows();
    /// True once a connection failed while none had reached AUTH: the others stop retrying.
    bool give_up() {
        std::lock_guard lock(mutex_);
        return unreachable_ && !report_.session_established;
    }
    std::string sni() const;
    std::string verify_name() const { return target_.sni ? *target_.sni : target_.host; }
    void tls_checks();

    Target const& target_;
    ProbeOptions const& options_;
    Observer& observer_;
    Redactor& redactor_;
    std::optional<Transcript> recorder_; ///< forwards each line to the observer
    Transcript* transcript_ = nullptr;
    net::Clock::time_point start_;
    net::Deadline deadline_;
    std::unique_ptr<net::TlsClientContext> tls_context_;
    std::vector<net::Endpoint> endpoints_;
    sasl::ClientOptions client_options_;

    std::mutex mutex_;
    Report report_;
    std::deque<Task> queue_;
    int next_session_ = 1;
    bool facts_adopted_ = false;
    bool unreachable_ = false; ///< a connection failed before any reached AUTH
    bool extras_added_ = false;
    std::string last_failure_;
    std::optional<net::Clock::time_point> auth_start_, auth_end_;
    std::size_t rows_done_ = 0;
    std::mutex observer_mutex_; ///< one observer callback at a time
};

void Run::event(std::string kind, std::string detail, int session) {
    std::lock_guard lock(mutex_);
    if (report_.events.size() < 1000)
        report_.events.push_back({std::move(kind), std::move(detail), session});
}

void Run::add_row(std::string const& name) {
    std::string const upper = smtp::to_upper(name);
    for (MechanismRow const& row : report_.rows)
        if (row.name == upper)
            return;
    MechanismRow row;
    row.name = upper;
    row.catalogue = probes::find_mechanism(upper) != nullptr;
    row.implemented = sasl::client_implements(upper);
    report_.rows.push_back(std::move(row));
    Task task{report_.rows.size() - 1, false, 0};
    if (options_.credentials && row.implemented) {
        bool const token = sasl::uses_token(upper);
        bool const have =
            token ? !options_.credentials->token.empty() : !options_.credentials->password.empty();
        task.authenticate = have;
        if (!have)
            report_.rows.back().authentication.reason =
                token ? "no OAuth token given (--oauth-token-env / --oauth-token-file)"
                      : "no password given";
    } else if (options_.credentials) {
        report_.rows.back().authentication.reason = "not implemented by smtpprobe";
    } else {
        report_.rows.back().authentication.reason = "no credentials given";
    }
    // Credential exchanges are the slow ones (fresh session each, failure delays): first,
    // in catalogue order, ahead of the recognitions.
    if (task.authenticate) {
        std::deque<Task>::iterator const first_recognition = std::find_if(
            queue_.begin(), queue_.end(), [](Task const& t) { return !t.authenticate; });
        queue_.insert(first_recognition, task);
    } else {
        queue_.push_back(task);
    }
}

void Run::build_rows() {
    if (!options_.mechanisms.empty()) {
        for (std::string const& name : options_.mechanisms)
            add_row(name);
        extras_added_ = true; // the user chose the rows
        return;
    }
    for (probes::MechanismInfo const& info : probes::catalogue())
        add_row(std::string(info.name));
}

std::optional<Task> Run::pop_task() {
    std::lock_guard lock(mutex_);
    if (queue_.empty())
        return std::nullopt;
    Task task = queue_.front();
    queue_.pop_front();
    return task;
}

void Run::push_front(Task task) {
    std::lock_guard lock(mutex_);
    queue_.push_front(task);
}

void Run::adopt_facts(ServerFacts const& facts, int session_id) {
    std::lock_guard lock(mutex_);
    if (!facts_adopted_ && facts.ready) {
        facts_adopted_ = true;
        std::optional<std::string> mech = report_.server.auth_before_tls_mechanism;
        std::optional<smtp::Reply> reply = report_.server.auth_before_tls_reply;
        report_.server = facts;
        if (!report_.server.auth_before_tls_reply && reply) {
            report_.server.auth_before_tls_mechanism = mech;
            report_.server.auth_before_tls_reply = reply;
        }
        report_.session_established = true;
    } else if (facts_adopted_ && facts.ready) {
        if (facts.auth_before_tls_reply && !report_.server.auth_before_tls_reply) {
            report_.server.auth_before_tls_mechanism = facts.auth_before_tls_mechanism;
            report_.server.auth_before_tls_reply = facts.auth_before_tls_reply;
        }
        // Connections may land on different pool members; say so when they disagree.
        smtp::Capabilities const* mine = facts.final_capabilities();
        smtp::Capabilities const* theirs = report_.server.final_capabilities();
        if (mine != nullptr && theirs != nullptr && mine->auth != theirs->auth &&
            report_.events.size() < 1000)
            report_.events.push_back({"capabilities_differ",
                                      "this connection's AUTH list differs from the first one's",
                                      session_id});
    } else if (!facts_adopted_ && progress(facts) >= progress(report_.server)) {
        // Of the failed connections, report the one that got furthest.
        report_.server = facts;
    }
    if (!extras_added_ && facts.ready) {
        extras_added_ = true;
        for (smtp::Capabilities const* caps : {facts.before_tls ? &*facts.before_tls : nullptr,
                                               facts.after_tls ? &*facts.after_tls : nullptr}) {
            if (caps == nullptr)
                continue;
            for (std::string const& name : caps->auth) {
                // Advertised names go on the wire, so only well-formed ones (RFC 4422 §3.1).
                bool const ok = !name.empty() && name.size() <= 20 &&
                                std::all_of(name.begin(), name.end(), [](char c) {
                                    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                           (c >= '0' && c <= '9') || c == '-' || c == '_';
                                });
                if (!ok)
                    continue;
                // A hostile or broken server may list hundreds of names; the catalogue plus
                // max_extra_mechanisms keeps the run bounded.
                if (report_.rows.size() >= probes::catalogue().size() + max_extra_mechanisms) {
                    if (report_.events.size() < 1000)
                        report_.events.push_back(
                            {"too_many_mechanisms",
                             "the server advertises more mechanisms than smtpprobe probes (" +
                                 std::to_string(max_extra_mechanisms) +
                                 " beyond the catalogue); the rest were not probed",
                             0});
                    return;
                }
                add_row(name);
            }
        }
    }
}

std::unique_ptr<Session> Run::open_session(bool first) {
    int id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_session_++;
        report_.sessions = id;
    }
    std::unique_ptr<Session> session = std::make_unique<Session>();
    net::ConnectInfo info;
    session->transport = connect(id, info);
    session->conversation = std::make_unique<Conversation>(
        *session->transport, transcript_, Timeouts{options_.command_timeout, deadline_}, id);

    // Without credentials nothing secret follows, so bytes injected after the STARTTLS 220 are
    // discarded unread and the run goes on over TLS, as most clients do; that shows what they
    // get. With credentials the connection is refused (below).
    session->conversation->discard_injected(!options_.credentials);
    probes::SetupOptions setup;
    setup.ehlo_name = options_.ehlo_name;
    setup.mode = target_.tls_mode;
    setup.tls.context = tls_context_.get();
    setup.tls.verify_name = verify_name();
    setup.tls.sni = sni();
    setup.probe_auth_before_tls = first;
    try {
        probes::open_session(*session->conversation, setup, session->facts);
    } catch (std::system_error const& e) {
        ServerFacts failed = session->facts;
        if (e.code() == smtp::errc::data_after_starttls) {
            failed.starttls_attempted = true;
            failed.starttls_injected = session->conversation->injected();
        }
        failed.stop_reason = e.code().message();
        if (e.code() == net::errc::tls_handshake_failed)
            failed.tls_error = e.what();
        adopt_facts(failed, id);
        throw;
    }
    if (!session->conversation->injected().empty())
        session->facts.starttls_injected = session->conversation->injected();
    session->facts.timings.connect = info.connect_ms;
    session->facts.timings.proxy = info.proxy_ms;
    session->facts.bare_lf_lines = session->conversation->parser().bare_lf_lines();
    session->facts.long_lines = session->conversation->parser().long_lines();
    {
        std::lock_guard lock(mutex_);
        if (report_.connected_address.empty() && report_.path.local_address.empty()) {
            report_.connected_address = info.peer;
            report_.path.local_address = info.local;
            report_.path.proxy_address = info.proxy_address;
            report_.path.proxy_bound = info.proxy_bound;
        }
    }
    adopt_facts(session->facts, id);
    if (!session->facts.ready) {
        std::lock_guard lock(mutex_);
        last_failure_ = session->facts.stop_reason;
        return nullptr;
    }
    std::optional<net::TlsInfo> const& tls = session->facts.tls;
    if (!tls) {
        session->no_credentials_reason = "not sending credentials over an unencrypted connection";
    } else if (!tls->chain_verified) {
        session->no_credentials_reason =
            "not sending credentials: the certificate did not verify (" + tls->verify_error + ")";
    } else if (!tls->host_verified) {
        session->no_credentials_reason =
            "not sending credentials: the certificate is not valid for " + tls->verify_name;
    }
    session->may_send_credentials =
        session->no_credentials_reason.empty() || options_.allow_insecure_auth;
    return session;
}

std::unique_ptr<net::TcpTransport> Run::connect(int id, net::ConnectInfo& info) {
    auto log = [this, id](std::string const& line) {
        if (transcript_ != nullptr)
            transcript_->add(id, TranscriptEvent::Kind::info, false, line);
    };
    net::ConnectTarget const where{target_.host, target_.port, endpoints_};
    std::unique_ptr<net::TcpTransport> transport;
    try {
        transport = net::connect(where, options_.connection, options_.connect_timeout, deadline_,
                                 info, log);
    } catch (std::system_error const& e) {
        for (net::ConnectAttempt const& a : info.attempts)
            if (!a.error.empty())
                event("connect_failed", a.address + ": " + a.error, id);
        if (e.code() == net::errc::proxy_failed) {
            event("proxy_failed", e.what(), id);
            if (transcript_ != nullptr)
                transcript_->add(id, TranscriptEvent::Kind::error, false, e.what());
        }
        throw;
    }
    for (net::ConnectAttempt const& a : info.attempts)
        if (!a.error.empty())
            event("connect_failed", a.address + ": " + a.error, id);
    std::string line = "Connected to " + (info.peer.empty() ? target_.host : info.peer) + " port " +
                       std::to_string(target_.port);
    if (options_.connection.proxy)
        line += " through the proxy" +
                (info.peer.empty() ? std::string(" (which resolved the name)") : std::string()) +
                (info.proxy_ms ? ", its handshake took " + one_decimal(*info.proxy_ms) + " ms"
                               : std::string());
    else if (options_.connection.source)
        line += " from " + info.local;
    log(line);
    return transport;
}

void Run::run_task(Session& session, Task& task, bool& keep_session) {
    MechanismRow row;
    {
        std::lock_guard lock(mutex_);
        row = report_.rows[task.row];
        if (!auth_start_)
            auth_start_ = net::Clock::now();
    }
    ++session.auth_probes;
    if (task.authenticate && session.may_send_credentials) {
        probes::AuthAttempt attempt{&*options_.credentials, client_options_, &redactor_};
        // A session that carried credentials is spent (RFC 4954 §4: no second AUTH after
        // 235), so every credential exchange gets a fresh one; a refusal before any
        // credential was sent leaves the session as good as new.
        bool const spent = probes::authenticate(*session.conversation, row, attempt) ==
                           probes::SessionAfter::closed;
        keep_session = !spent;
        if (spent && !session.no_credentials_reason.empty()) {
            std::lock_guard lock(mutex_);
            report_.credentials_sent_insecurely = true;
        }
    } else {
        if (task.authenticate) {
            row.authentication.status = Status::skipped;
            row.authentication.reason = session.no_credentials_reason;
        }
        keep_session =
            probes::recognise(*session.conversation, row) == probes::SessionAfter::usable;
    }
    Progress progress;
    {
        std::lock_guard lock(mutex_);
        report_.rows[task.row] = std::move(row);
        auth_end_ = net::Clock::now();
        progress = {++rows_done_, report_.rows.size(), report_.sessions};
    }
    std::lock_guard lock(observer_mutex_);
    observer_.progress(progress);
}

void Run::worker(unsigned index) {
    std::unique_ptr<Session> session;
    int open_failures = 0;
    for (int round = 0; round < 10'000; ++round) {
        if (observer_.interrupted() || net::Clock::now() >= deadline_ || give_up())
            break;
        std::optional<Task> task = pop_task();
        if (!task) {
            // The first connection to learn the server's extra mechanisms adds their rows;
            // until some connection is ready, idle workers have nothing to wait for.
            break;
        }
        // A fresh connection after max_probes_per_connection AUTH probes: Postfix starts
        // sleeping a second per error after smtpd_soft_error_limit (10) and Exim refuses after
        // smtp_accept_max_nonmail (10) non-mail commands (tests/integration/QUIRKS.md).
        // (A connection that carried credentials is never reused: run_task drops it.)
        bool const needs_fresh = session && session->auth_probes >= max_probes_per_connection;
        if (needs_fresh) {
            session->conversation->quit();
            session.reset();
        }
        if (!session) {
            try {
                session = open_session(index == 0 && open_failures == 0 && round == 0);
            } catch (std::system_error const& e) {
                std::lock_guard lock(mutex_);
                last_failure_ = e.what();
            }
            if (!session) {
                push_front(*task);
                std::lock_guard lock(mutex_);
                // No connection has ever got as far as AUTH: the server is down or refuses
                // us, and N workers retrying would only repeat the same failure N times.
                if (!report_.session_established)
                    unreachable_ = true;
                if (++open_failures >= 2)
                    break;
                continue;
            }
        }
        bool keep = true;
        try {
            run_task(*session, *task, keep);
        } catch (std::system_error const& e) {
            keep = false;
            bool const dropped = e.code() == net::errc::closed_by_peer;
            if (dropped && task->attempts == 0 && !observer_.interrupted()) {
                ++task->attempts;
                std::string name;
                {
                    std::lock_guard lock(mutex_);
                    name = report_.rows[task->row].name;
                }
                event("reconnect",
                      "the server closed the connection during AUTH " + name + " after " +
                          std::to_string(session->auth_probes - 1) +
                          " earlier AUTH attempt(s) on it; reconnected and retried",
                      session->conversation->session());
                push_front(*task);
            } else {
                std::lock_guard lock(mutex_);
                MechanismRow& row = report_.rows[task->row];
                Status const status =
                    e.code() == net::errc::interrupted ? Status::skipped : Status::error;
                std::string const what = e.code() == net::errc::interrupted
                                             ? std::string("interrupted")
                                             : std::string(e.what());
                if (row.recognition.status == Status::pending) {
                    row.recognition.status = status;
                    row.recognition.note = what;
                }
                if (task->authenticate) {
                    row.authentication.status = status;
                    row.authentication.reason = what;
                }
            }
        }
        if (!keep) {
            if (session && session->transport)
                session->conversation->quit();
            session.reset();
        }
    }
    if (session)
        session->conversation->quit();
}

void Run::finish_rows() {
    smtp::Capabilities const* before =
        report_.server.before_tls ? &*report_.server.before_tls : nullptr;
    smtp::Capabilities const* after =
        report_.server.tls && report_.server.after_tls ? &*report_.server.after_tls : nullptr;
    for (MechanismRow& row : report_.rows) {
        // With implicit TLS there is no "before TLS": the one EHLO is after it.
        bool const implicit = report_.server.tls && !report_.server.starttls_attempted;
        row.advertised_before_tls = before != nullptr && !implicit && before->offers(row.name);
        row.advertised_after_tls = after != nullptr && after->offers(row.name);
        if (row.recognition.status == Status::pending) {
            row.recognition.status = Status::skipped;
            row.recognition.note = report_.interrupted ? "interrupted"
                                   : net::Clock::now() >= deadline_
                                       ? "the run's time budget (--timeout) ran out"
                                       : "no connection was available: " + last_failure_;
        }
    }
}

std::string Run::sni() const {
    if (options_.no_sni)
        return {};
    if (target_.sni)
        return *target_.sni;
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"".
    return net::is_ip_literal(target_.host) ? std::string() : target_.host;
}

// The extra handshakes (probes/tls_versions.hpp). The no-SNI check costs a connection, so it
// runs only with --tls-versions (which asks for extra connections anyway) and, the other way
// round, after a --no-sni session failed its handshake or verification: then one handshake
// with SNI tells whether SNI alone would have fixed it.
void Run::tls_checks() {
    ServerFacts const& s = report_.server;
    bool const handshake_tried = s.tls.has_value() || !s.tls_error.empty();
    if (target_.tls_mode == TlsMode::none || !handshake_tried || observer_.interrupted())
        return;
    probes::HandshakeTarget target;
    target.connect = [this](int id) {
        net::ConnectInfo info;
        return connect(id, info);
    };
    target.timeouts = Timeouts{options_.command_timeout, deadline_};
    target.setup.ehlo_name = options_.ehlo_name;
    target.setup.mode =
        target_.tls_mode == TlsMode::implicit ? TlsMode::implicit : TlsMode::starttls;
    target.setup.tls.verify_name = verify_name();
    target.setup.tls.sni = sni();
    target.transcript = transcript_;
    target.next_session = [this] {
        std::lock_guard lock(mutex_);
        report_.sessions = next_session_;
        return next_session_++;
    };
    if (options_.tls_versions) {
        report_.tls_versions = probes::enumerate_tls_versions(target, options_.tls);
        if (!sni().empty())
            report_.sni_check = probes::check_sni(target, *tls_context_, "");
    }
    bool const failed = !s.tls || !s.tls->verified();
    if (!report_.sni_check && sni().empty() && options_.no_sni && failed &&
        !net::is_ip_literal(target_.host) && !observer_.interrupted())
        report_.sni_check = probes::check_sni(target, *tls_context_, target_.host);
}

Report Run::execute() {
    report_.host = target_.host;
    report_.server_name = target_.sni.value_or(target_.host);
    report_.port = target_.port;
    report_.tls_mode = target_.tls_mode;
    report_.ehlo_name = options_.ehlo_name;
    report_.parallel = options_.parallel;
    if (options_.credentials) {
        report_.credentials_given =
            !options_.credentials->password.empty() || !options_.credentials->token.empty();
        report_.token_given = !options_.credentials->token.empty();
        report_.user_shown =
            register_secrets(*options_.credentials, options_.show_username, redactor_);
    }
    report_.insecure_auth_allowed = options_.allow_insecure_auth;
    client_options_.host = target_.host;
    client_options_.port = target_.port;
    net::ConnectOptions const& connection = options_.connection;
    report_.path.proxy_bypass = connection.proxy_bypass_reason;
    if (connection.source)
        report_.path.source = connection.source->display();
    if (connection.proxy) {
        net::ProxySpec const& proxy = *connection.proxy;
        report_.path.proxy = proxy.display();
        report_.path.proxy_scheme = std::string(net::to_string(proxy.scheme));
        report_.path.proxy_host = proxy.host;
        report_.path.proxy_port = proxy.port;
        report_.path.proxy_variable = proxy.environment_variable;
        report_.path.proxy_resolved = proxy.proxy_resolves();
        redactor_.add_secret(proxy.password, "proxy password");
        if (!proxy.password.empty())
            redactor_.add_encoded(sasl::base64_encode(proxy.user + ":" + proxy.password),
                                  "proxy credentials");
    }

    tls_context_ = std::make_unique<net::TlsClientContext>(options_.tls);
    net::Clock::time_point const resolve_start = net::Clock::now();
    try {
        // Through socks5h:// or http://, the proxy resolves the name: it may be one only the
        // proxy's side knows.
        if (!connection.proxy || !connection.proxy->proxy_resolves())
            endpoints_ = net::resolve(target_.host, target_.port, connection.family,
                                      net::earliest(start_ + options_.connect_timeout, deadline_));
    } catch (std::system_error const& e) {
        report_.fatal_error = e.what();
        report_.total_ms = ms_between(start_, net::Clock::now());
        return std::move(report_);
    }
    std::optional<double> resolve_ms;
    if (!endpoints_.empty())
        resolve_ms = ms_between(resolve_start, net::Clock::now());
    for (net::Endpoint const& e : endpoints_)
        report_.addresses.push_back(e.address);

    build_rows();
    unsigned const workers = std::max(1u, std::min(options_.parallel, 16u));
    {
        std::vector<std::jthread> threads;
        for (unsigned i = 0; i < workers; ++i)
            threads.emplace_back([this, i] { worker(i); });
    }
    // A worker that found the queue empty early may have left before the extras arrived;
    // whatever is left now runs here, sequentially, within the same budget.
    worker(workers);
    tls_checks();

    report_.interrupted = observer_.interrupted();
    report_.server.timings.resolve = resolve_ms;
    if (report_.server.tls)
        report_.tls_used =
            report_.server.starttls_attempted ? TlsMode::starttls : TlsMode::implicit;
    if (!report_.session_established && report_.fatal_error.empty())
        report_.fatal_error =
            !report_.server.stop_reason.empty() ? report_.server.stop_reason : last_failure_;
    finish_rows();
    if (auth_start_ && auth_end_)
        report_.auth_ms = ms_between(*auth_start_, *auth_end_);
    report_.total_ms = ms_between(start_, net::Clock::now());
    return std::move(report_);
}

} // namespace

std::string register_secrets(sasl::Credentials const& credentials, bool show_username,
                             Redactor& redactor) {
    redactor.add_secret(credentials.password, "password");
    redactor.add_secret(credentials.token, "token");
    if (credentials.user.empty())
        return {};
    if (show_username)
        return credentials.user;
    redactor.add_secret(credentials.user, "user name");
    return "<hidden: " + std::to_string(credentials.user.size()) +
           " characters; --show-username shows it>";
}

bool Observer::interrupted() const {
    return net::interrupted();
}

Report probe(Target const& target, ProbeOptions const& options, Observer& observer) {
    Run run(target, options, observer);
    return run.execute();
}

} // namespace smtpprobe
