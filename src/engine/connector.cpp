#include "engine/connector.hpp"

#include "net/errc.hpp"
#include "probes/contact.hpp"
#include "smtp/errc.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>

namespace smtpprobe::engine {

CredentialPolicy credential_policy(std::optional<net::TlsInfo> const& tls,
                                   bool allow_insecure_auth) {
    CredentialPolicy policy;
    if (!tls) {
        policy.reason = Withheld::plaintext;
        policy.text = "not sending credentials over an unencrypted connection";
    } else if (!tls->chain_verified) {
        policy.reason = Withheld::unverified_chain;
        policy.text =
            "not sending credentials: the certificate did not verify (" + tls->verify_error + ")";
    } else if (!tls->host_verified) {
        policy.reason = Withheld::wrong_host;
        policy.text =
            "not sending credentials: the certificate is not valid for " + tls->verify_name;
    }
    if (policy.reason != Withheld::no && !allow_insecure_auth)
        policy.decision = CredentialPolicy::Decision::withheld;
    return policy;
}

namespace {

/// What the first contacts found the port speaks; later connections use it.
struct Found {
    std::mutex mutex;
    std::optional<TlsMode> mode;
};

ConnectResult connect(ConnectorSetup const& s, ConnectRequest const& request, Found& found) {
    ConnectResult out;
    double connect_ms = 0;
    std::string peer;
    net::ConnectInfo path;
    // probes/contact.hpp may open a second connection (the other way round) on this request.
    probes::Open const open = [&]() {
        std::vector<net::ConnectAttempt> attempts;
        net::Clock::time_point const start = net::Clock::now();
        net::Opened opened;
        try {
            opened = s.open(request.id, attempts);
        } catch (std::system_error const& e) {
            for (net::ConnectAttempt const& a : attempts)
                if (!a.error.empty())
                    out.events.push_back(
                        {EventKind::connect_failed, a.address + ": " + a.error, request.id});
            if (e.code() == net::errc::proxy_failed) {
                out.events.push_back({EventKind::proxy_failed, e.what(), request.id});
                if (s.transcript != nullptr)
                    s.transcript->add(request.id, TranscriptEvent::Kind::error, false, e.what());
            }
            throw;
        }
        connect_ms = std::chrono::duration<double, std::milli>(net::Clock::now() - start).count();
        for (net::ConnectAttempt const& a : attempts)
            if (!a.error.empty())
                out.events.push_back(
                    {EventKind::connect_failed, a.address + ": " + a.error, request.id});
        if (s.transcript != nullptr)
            s.transcript->add(request.id, TranscriptEvent::Kind::info, false,
                              net::describe(opened, s.port));
        peer = opened.peer.address;
        path = opened.info;
        probes::Connection c;
        c.transport = std::move(opened.transport);
        c.conversation =
            std::make_unique<Conversation>(*c.transport, s.transcript, s.timeouts, request.id);
        c.conversation->discard_injected(s.discard_injected);
        return c;
    };
    probes::ContactOptions contact;
    contact.setup = s.setup;
    contact.setup.probe_auth_before_tls = request.first && s.setup.probe_auth_before_tls;
    contact.setup.probe_mail_before_auth = request.first && s.setup.probe_mail_before_auth;
    contact.banner_wait = s.banner_wait;
    contact.command_timeout = s.timeouts.command;
    {
        std::lock_guard lock(found.mutex);
        contact.setup.mode = found.mode.value_or(s.setup.mode);
        contact.detect = !found.mode;
    }
    probes::Contact c;
    try {
        c = probes::make_contact(open, contact);
    } catch (std::system_error const& e) {
        out.failure = e.what(); // not even a TCP connection
        return out;
    }
    if (c.facts.implicit_tls_detected || c.facts.plaintext_on_implicit_port) {
        std::lock_guard lock(found.mutex);
        if (!found.mode)
            found.mode = c.facts.implicit_tls_detected ? TlsMode::implicit : TlsMode::auto_;
    }
    ServerFacts& facts = out.facts.emplace(std::move(c.facts));
    Conversation* conversation = c.connection.conversation.get();
    if (conversation != nullptr && !conversation->injected().empty()) {
        facts.starttls_injected = conversation->injected();
        facts.starttls_injected_late = conversation->injected_late();
    }
    // Through a proxy: the TCP connect to it; the handshake is timed apart.
    facts.timings.connect = path.connect_ms > 0 ? path.connect_ms : connect_ms;
    facts.timings.proxy = path.proxy_ms;
    if (conversation != nullptr) {
        facts.bare_lf_lines = conversation->parser().bare_lf_lines();
        facts.long_lines = conversation->parser().long_lines();
    }
    out.address = peer;
    out.path = path;
    if (!facts.ready) {
        out.failure = facts.why_stopped();
        return out;
    }
    auto session = std::make_unique<Session>();
    session->id = request.id;
    session->transport = std::move(c.connection.transport);
    session->conversation = std::move(c.connection.conversation);
    session->credentials = credential_policy(facts.tls, s.allow_insecure_auth);
    out.session = std::move(session);
    return out;
}

} // namespace

Connector make_connector(ConnectorSetup setup) {
    auto found = std::make_shared<Found>();
    return [setup = std::move(setup), found](ConnectRequest const& request) {
        return connect(setup, request, *found);
    };
}

} // namespace smtpprobe::engine
