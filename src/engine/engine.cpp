// probe(): resolve, plan the matrix, run the workers over the connector, collect, then the
// extra TLS handshakes. The parts: plan.hpp (rows and order), connector.hpp (a ready session
// and the credential policy), worker.hpp (tasks -> TaskResult), collector.hpp (one writer).

#include "engine/all_addresses.hpp"
#include "engine/collector.hpp"
#include "engine/connector.hpp"
#include "engine/plan.hpp"
#include "engine/probe.hpp"
#include "engine/report_setup.hpp"
#include "engine/worker.hpp"
#include "gss/mit_context.hpp"
#include "net/errc.hpp"
#include "net/interrupt.hpp"
#include "probes/auth.hpp"
#include "probes/envelope.hpp"
#include "probes/line_endings.hpp"
#include "probes/tls_versions.hpp"
#include "smtp/extensions.hpp"
#include "smtp/message.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>

namespace smtpprobe {
namespace {

double ms_between(net::Clock::time_point a, net::Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

engine::PlanInput plan_input(ProbeOptions const& o) {
    engine::PlanInput in;
    in.mechanisms = o.mechanisms;
    in.credentials = o.credentials.has_value();
    in.password = o.credentials && !o.credentials->password.empty();
    in.token = o.credentials && !o.credentials->token.empty();
    in.certificate = o.tls.client_certificate.given();
    return in;
}

class Run {
public:
    Run(Target const& target, ProbeOptions const& options, Observer& observer)
        : target_(target), options_(options), observer_(observer), start_(net::Clock::now()),
          deadline_(start_ + options.total_timeout) {
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
    std::string sni() const;
    std::string verify_name() const { return target_.sni ? *target_.sni : target_.host; }
    /// Every connection of the run is opened here: the given opener, or net::open_connection
    /// (proxy, source address), its "===" lines in the transcript as connection `id`.
    net::Opened open(int id, std::vector<net::ConnectAttempt>& attempts) const;
    engine::Connector connector();
    void run_workers(engine::Collector& collector);
    void tls_checks(engine::Collector& collector);
    sasl::ClientOptions client_options() const;
    sasl::Credentials const& credentials() const {
        return options_.credentials ? *options_.credentials : no_user_;
    }
    void envelope_probe(engine::Collector& collector);
    probes::EnvelopeRequest envelope_request(Envelope& envelope) const;
    void line_ending_check(engine::Collector& collector);

    Target const& target_;
    ProbeOptions const& options_;
    Observer& observer_;
    std::mutex observer_mutex_; ///< one observer callback at a time
    std::optional<Transcript> recorder_;
    Transcript* transcript_ = nullptr;
    net::Clock::time_point start_;
    net::Deadline deadline_;
    std::unique_ptr<net::TlsClientContext> tls_context_;
    std::vector<net::Endpoint> endpoints_;
    Report report_;
    /// What EXTERNAL exchanges get without --user: their credential is the certificate.
    sasl::Credentials const no_user_;
};

std::string Run::sni() const {
    if (options_.no_sni)
        return {};
    if (target_.sni)
        return *target_.sni;
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"".
    return net::is_ip_literal(target_.host) ? std::string() : target_.host;
}

net::Opened Run::open(int id, std::vector<net::ConnectAttempt>& attempts) const {
    net::OpenRequest request;
    request.endpoints = &endpoints_;
    request.per_address_timeout = options_.connect_timeout;
    request.deadline = deadline_;
    request.host = target_.host;
    request.port = target_.port;
    request.log = [this, id](std::string const& line) {
        if (transcript_ != nullptr)
            transcript_->add(id, TranscriptEvent::Kind::info, false, line);
    };
    return options_.open ? options_.open(request, attempts)
                         : net::open_connection(options_.connection, request, attempts);
}

engine::Connector Run::connector() {
    engine::ConnectorSetup s;
    s.open = [this](int id, std::vector<net::ConnectAttempt>& attempts) {
        return open(id, attempts);
    };
    s.setup.ehlo_name = options_.ehlo_name;
    s.setup.mode = target_.tls_mode;
    s.setup.tls.context = tls_context_.get();
    s.setup.tls.verify_name = verify_name();
    s.setup.tls.sni = sni();
    s.setup.probe_auth_before_tls = options_.auth_before_tls;
    s.setup.probe_mail_before_auth = options_.mail_before_auth;
    s.timeouts = Timeouts{options_.command_timeout, deadline_};
    s.transcript = transcript_;
    s.port = target_.port;
    s.allow_insecure_auth = options_.allow_insecure_auth;
    // Bytes injected after the STARTTLS 220 (in the same read, or in one of their own before
    // the server's first TLS record) are kept as evidence, discarded unread, and the run goes
    // on over TLS, as most clients do: that completes the matrix and shows what each client
    // gets. Credentials still go only over TLS verified for chain and host, so the bytes
    // cannot reach them.
    s.discard_injected = true;
    s.banner_wait = options_.banner_wait;
    return engine::make_connector(std::move(s));
}

sasl::ClientOptions Run::client_options() const {
    sasl::ClientOptions client;
    client.host = target_.host;
    client.port = target_.port;
    client.gssapi_service = options_.gssapi_service;
    client.gss_context = gss::make_mit_context;
    client.authzid = options_.authzid;
    return client;
}

void Run::run_workers(engine::Collector& collector) {
    engine::Connector const connect = connector();
    engine::WorkerContext const context{collector,
                                        connect,
                                        &credentials(),
                                        client_options(),
                                        &observer_.redactor(),
                                        [this] { return observer_.interrupted(); },
                                        deadline_};
    unsigned const workers = std::max(1u, std::min(options_.parallel, 16u));
    {
        std::vector<std::jthread> threads;
        for (unsigned i = 0; i < workers; ++i)
            threads.emplace_back([&context] { engine::run_worker(context); });
    }
    // A worker that found the queue empty early may have left before the extras arrived;
    // whatever is left now runs here, sequentially, within the same budget.
    engine::run_worker(context);
}

// The envelope (probes/envelope.hpp) on a connection of its own, so that the matrix's
// connections stay as they were: it authenticates with the first mechanism of the matrix that
// got 235 (the same credentials, so the same account), or, without credentials or without a
// mechanism that worked, stays unauthenticated, as a client would.
void Run::envelope_probe(engine::Collector& collector) {
    if (!options_.envelope || !report_.session_established || observer_.interrupted())
        return;
    Envelope& envelope = report_.envelope.emplace();
    envelope.mail_from = options_.envelope->mail_from;
    envelope.rcpt = options_.envelope->rcpt;
    envelope.send_requested = options_.envelope->send;
    MechanismRow const* accepted = nullptr;
    for (MechanismRow const& row : report_.rows)
        if (row.authentication.status == Status::accepted) {
            accepted = &row;
            break;
        }
    int const id = collector.next_connection_id();
    auto const opening = std::chrono::steady_clock::now();
    engine::ConnectResult opened = connector()({id, false});
    collector.connected(opened, id, opening);
    if (!opened.session) {
        envelope.stopped = "no connection for the envelope: " + opened.failure;
        return;
    }
    engine::Session& session = *opened.session;
    envelope.connection = id;
    if (accepted != nullptr &&
        session.credentials.decision == engine::CredentialPolicy::Decision::send) {
        MechanismRow row;
        row.name = accepted->name;
        probes::AuthAttempt const attempt{&credentials(), client_options(), &observer_.redactor()};
        try {
            probes::authenticate(*session.conversation, row, attempt);
        } catch (std::system_error const& e) {
            envelope.stopped = "AUTH " + row.name + " broke the connection: " + e.what();
            return;
        }
        if (row.authentication.status != Status::accepted) {
            envelope.stopped = "AUTH " + row.name + " got " +
                               code_or_status(row.authentication.reply, row.authentication.status) +
                               " on the envelope's connection, 235 in the matrix";
            session.conversation->quit();
            return;
        }
        envelope.authenticated = true;
        envelope.mechanism = row.name;
    }
    probes::EnvelopeRequest const request = envelope_request(envelope);
    probes::run_envelope(*session.conversation, request,
                         opened.facts ? opened.facts->final_capabilities() : nullptr, envelope);
}

// --send: the message that goes, built here when --data-file gave none (its Date from the
// probe's clock, its Message-ID's run id from std::random_device), and what MAIL FROM declares for
// it: the real size (SIZE=, which wins over a declared --size) and whether it is 8-bit. Without
// --send, MAIL FROM declares --size when given.
probes::EnvelopeRequest Run::envelope_request(Envelope& envelope) const {
    probes::EnvelopeRequest request = *options_.envelope;
    if (!request.send) {
        if (!request.size)
            request.size = options_.message_size; // --size: declared with SIZE= (RFC 1870)
        return request;
    }
    if (!request.message) {
        smtp::TestMessage m;
        m.from = request.mail_from;
        m.to = request.rcpt;
        m.date = options_.clock ? options_.clock()
                                : std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
        std::random_device random;
        char id[13];
        std::snprintf(id, sizeof id, "%06x%06x", random() & 0xffffffu, random() & 0xffffffu);
        m.run_id = id;
        std::array<char, 256> host{};
        if (::gethostname(host.data(), host.size() - 1) == 0)
            m.client_host = host.data();
        m.server = target_.host + ":" + std::to_string(target_.port);
        request.message = smtp::build_test_message(m);
        envelope.message_built = true;
    }
    request.size = smtp::message_size(smtp::data_payload(*request.message));
    request.eight_bit = smtp::has_eight_bit(*request.message);
    return request;
}

// The extra handshakes (probes/tls_versions.hpp). The no-SNI check costs a connection, so it
// runs only with --tls-versions (which asks for extra connections anyway) and, the other way
// round, after a --no-sni session failed its handshake or verification: then one handshake
// with SNI tells whether SNI alone would have fixed it.
void Run::tls_checks(engine::Collector& collector) {
    ServerFacts const& s = report_.server;
    bool const handshake_tried = s.tls.has_value() || !s.tls_error.empty();
    if (target_.tls_mode == TlsMode::none || !handshake_tried || observer_.interrupted())
        return;
    probes::HandshakeTarget target;
    target.connect = [this](int id) {
        std::vector<net::ConnectAttempt> attempts;
        return open(id, attempts);
    };
    target.timeouts = Timeouts{options_.command_timeout, deadline_};
    target.setup.ehlo_name = options_.ehlo_name;
    target.setup.mode =
        target_.tls_mode == TlsMode::implicit ? TlsMode::implicit : TlsMode::starttls;
    target.setup.tls.verify_name = verify_name();
    target.setup.tls.sni = sni();
    target.transcript = transcript_;
    target.next_session = [&collector] { return collector.next_connection_id(); };
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

// --line-endings: its own connections, set up as the matrix's are (STARTTLS when offered).
void Run::line_ending_check(engine::Collector& collector) {
    if (!options_.line_endings || !report_.session_established || observer_.interrupted())
        return;
    engine::Connector const connect = connector();
    std::unique_ptr<engine::Session> session;
    probes::NextSession const next = [&]() -> probes::ReadySession {
        session.reset();
        engine::ConnectRequest request;
        request.id = collector.next_connection_id();
        engine::ConnectResult result = connect(request);
        if (!result.session)
            return {nullptr, result.failure};
        session = std::move(result.session);
        session->conversation->note("line-ending check (--line-endings): no mail is sent");
        return {session->conversation.get(), {}};
    };
    report_.line_endings = probes::check_line_endings(next, options_.line_ending_wait);
}

Report Run::execute() {
    engine::record_target(report_, target_, options_, observer_.redactor());
    tls_context_ = std::make_unique<net::TlsClientContext>(options_.tls);
    net::Clock::time_point const resolve_start = net::Clock::now();
    net::ConnectOptions const& connection = options_.connection;
    // Through socks5h:// or http://, the proxy resolves the name: it may be one only the
    // proxy's side knows.
    bool const resolve_here = !connection.proxy || !connection.proxy->proxy_resolves();
    try {
        net::Deadline const until = net::earliest(start_ + options_.connect_timeout, deadline_);
        net::Family const family = connection.family;
        if (resolve_here)
            endpoints_ = options_.resolve
                             ? options_.resolve(target_.host, target_.port, family, until)
                             : net::resolve_system(target_.host, target_.port, family, until);
    } catch (std::system_error const& e) {
        FatalError f;
        f.phase = Phase::resolve;
        report_.interrupted = e.code() == net::errc::interrupted;
        f.kind = report_.interrupted ? FailureKind::interrupted : FailureKind::unreachable;
        f.error = e.what();
        f.elapsed_ms = ms_between(resolve_start, net::Clock::now());
        report_.fatal = f;
        report_.total_ms = ms_between(start_, net::Clock::now());
        return std::move(report_);
    }
    std::optional<double> resolve_ms;
    if (resolve_here)
        resolve_ms = ms_between(resolve_start, net::Clock::now());
    if (options_.all_addresses && endpoints_.size() > 1) {
        Report all =
            engine::probe_each_address(target_, options_, observer_, endpoints_, deadline_, probe);
        all.server.timings.resolve = resolve_ms;
        all.total_ms = ms_between(start_, net::Clock::now());
        return all;
    }
    for (net::Endpoint const& e : endpoints_)
        report_.addresses.push_back(e.address);

    engine::Plan plan(plan_input(options_));
    engine::Collector collector(
        report_, plan,
        [this](Progress const& p) {
            std::lock_guard lock(observer_mutex_);
            observer_.progress(p);
        },
        start_);
    run_workers(collector);
    envelope_probe(collector);
    tls_checks(collector);
    line_ending_check(collector);

    report_.interrupted = observer_.interrupted();
    report_.server.timings.resolve = resolve_ms;
    if (report_.server.tls)
        report_.tls_used =
            report_.server.starttls_attempted ? TlsMode::starttls : TlsMode::implicit;
    collector.finish(report_.interrupted, net::Clock::now() >= deadline_);
    report_.total_ms = ms_between(start_, net::Clock::now());
    return std::move(report_);
}

} // namespace

bool Observer::interrupted() const {
    return net::interrupted();
}

Report probe(Target const& target, ProbeOptions const& options, Observer& observer) {
    Run run(target, options, observer);
    return run.execute();
}

} // namespace smtpprobe
