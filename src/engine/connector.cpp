#include "engine/connector.hpp"

#include "net/errc.hpp"
#include "smtp/errc.hpp"

#include <chrono>
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

ConnectResult connect(ConnectorSetup const& s, ConnectRequest const& request) {
    ConnectResult out;
    std::vector<net::ConnectAttempt> attempts;
    net::Clock::time_point const start = net::Clock::now();
    net::Opened opened;
    try {
        opened = s.open(request.id, attempts);
    } catch (std::system_error const& e) {
        out.failure = e.what();
        if (e.code() == net::errc::proxy_failed) {
            out.events.push_back({"proxy_failed", e.what(), request.id});
            if (s.transcript != nullptr)
                s.transcript->add(request.id, TranscriptEvent::Kind::error, false, e.what());
        }
    }
    double const connect_ms =
        std::chrono::duration<double, std::milli>(net::Clock::now() - start).count();
    for (net::ConnectAttempt const& a : attempts)
        if (!a.error.empty())
            out.events.push_back({"connect_failed", a.address + ": " + a.error, request.id});
    if (!opened.transport)
        return out;
    if (s.transcript != nullptr)
        s.transcript->add(request.id, TranscriptEvent::Kind::info, false,
                          net::describe(opened, s.port));
    auto session = std::make_unique<Session>();
    session->id = request.id;
    session->transport = std::move(opened.transport);
    session->conversation =
        std::make_unique<Conversation>(*session->transport, s.transcript, s.timeouts, request.id);
    session->conversation->discard_injected(s.discard_injected);
    probes::SetupOptions setup = s.setup;
    setup.probe_auth_before_tls = request.probe_auth_before_tls;
    ServerFacts& facts = out.facts.emplace();
    try {
        probes::open_session(*session->conversation, setup, facts);
    } catch (std::system_error const& e) {
        if (e.code() == smtp::errc::data_after_starttls) {
            facts.starttls_attempted = true;
            facts.starttls_injected = session->conversation->injected();
        }
        facts.stop_reason = e.code().message();
        if (e.code() == net::errc::tls_handshake_failed)
            facts.tls_error = e.what();
        out.failure = e.what();
        return out;
    }
    if (!session->conversation->injected().empty())
        facts.starttls_injected = session->conversation->injected();
    // Through a proxy: the TCP connect to it; the handshake is timed apart.
    facts.timings.connect = opened.info.connect_ms > 0 ? opened.info.connect_ms : connect_ms;
    facts.timings.proxy = opened.info.proxy_ms;
    facts.bare_lf_lines = session->conversation->parser().bare_lf_lines();
    facts.long_lines = session->conversation->parser().long_lines();
    out.address = opened.peer.address;
    out.path = opened.info;
    if (!facts.ready) {
        out.failure = facts.stop_reason;
        return out;
    }
    session->credentials = credential_policy(facts.tls, s.allow_insecure_auth);
    out.session = std::move(session);
    return out;
}

} // namespace

Connector make_connector(ConnectorSetup setup) {
    return [setup = std::move(setup)](ConnectRequest const& request) {
        return connect(setup, request);
    };
}

} // namespace smtpprobe::engine
