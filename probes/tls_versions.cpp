#include "probes/tls_versions.hpp"

#include "net/errc.hpp"
#include "net/interrupt.hpp"

#include <memory>
#include <system_error>

namespace smtpprobe::probes {
namespace {

/// "error:0A00042E:SSL routines::tlsv1 alert protocol version: TLS handshake failed" ->
/// "tlsv1 alert protocol version": the reason alone, for a table of versions.
std::string handshake_reason(std::string const& text) {
    std::size_t start = text.rfind("::");
    start = start == std::string::npos ? 0 : start + 2;
    std::size_t end = text.find(": ", start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

} // namespace

HandshakeOutcome try_handshake(HandshakeTarget const& target, net::TlsConnectOptions const& tls,
                               std::string const& purpose) {
    HandshakeOutcome out;
    int const id = target.next_session ? target.next_session() : 0;
    net::Opened opened;
    try {
        opened = target.connect(id);
    } catch (std::system_error const& e) {
        out.error = e.what();
        out.interrupted = e.code() == net::errc::interrupted;
        return out;
    }
    Conversation conversation(*opened.transport, target.transcript, target.timeouts, id);
    conversation.note(net::describe(opened, opened.peer.port) + " (" + purpose + ")");
    SetupOptions setup = target.setup;
    setup.tls = tls;
    setup.probe_auth_before_tls = false;
    ServerFacts facts;
    try {
        open_session(conversation, setup, facts);
        if (!facts.tls)
            out.error = !facts.stop_reason.empty() ? facts.stop_reason
                                                   : "the server does not offer STARTTLS";
    } catch (std::system_error const& e) {
        out.handshake_failed = e.code() == net::errc::tls_handshake_failed;
        out.interrupted = e.code() == net::errc::interrupted;
        out.error = e.what();
    }
    out.handshake_ok = facts.tls.has_value();
    out.tls = facts.tls;
    conversation.quit();
    return out;
}

std::vector<TlsVersionResult> enumerate_tls_versions(HandshakeTarget const& target,
                                                     net::TlsClientOptions const& base) {
    std::vector<TlsVersionResult> results;
    std::string stopped;
    for (std::string_view const name : net::tls_versions) {
        std::string const version(name);
        TlsVersionResult& result = results.emplace_back();
        result.version = version;
        if (stopped.empty() && net::interrupted())
            stopped = "interrupted";
        if (stopped.empty() && net::Clock::now() >= target.timeouts.run_deadline)
            stopped = "the run's time budget (--timeout) ran out";
        if (!stopped.empty()) {
            result.detail = "not tested: " + stopped;
            continue;
        }
        net::TlsClientOptions options = base;
        options.min_version = version;
        options.max_version = version;
        options.legacy = net::tls_version_number(version) < 12;
        std::unique_ptr<net::TlsClientContext> context;
        try {
            context = std::make_unique<net::TlsClientContext>(options);
        } catch (std::runtime_error const& e) {
            result.detail = "not tested: " + std::string(e.what());
            continue;
        }
        if (std::string problem = context->local_problem(); !problem.empty()) {
            result.detail = "not tested: " + problem;
            continue;
        }
        net::TlsConnectOptions tls = target.setup.tls;
        tls.context = context.get();
        HandshakeOutcome const outcome =
            try_handshake(target, tls, "TLS version check: offering only TLS " + version);
        if (outcome.handshake_ok) {
            result.tested = true;
            result.accepted = true;
            if (outcome.tls) {
                result.cipher = outcome.tls->cipher;
                result.detail = outcome.tls->version + ", " + outcome.tls->cipher;
            } else {
                result.detail = "handshake completed; then " + outcome.error;
            }
        } else if (outcome.handshake_failed) {
            result.tested = true;
            result.detail = handshake_reason(outcome.error);
        } else {
            if (outcome.interrupted)
                stopped = "interrupted";
            result.detail = "not tested: " + outcome.error;
        }
    }
    return results;
}

SniCheck check_sni(HandshakeTarget const& target, net::TlsClientContext const& context,
                   std::string const& sni) {
    net::TlsConnectOptions tls = target.setup.tls;
    tls.context = &context;
    tls.sni = sni;
    HandshakeOutcome outcome =
        try_handshake(target, tls, sni.empty() ? "SNI check: no SNI" : "SNI check: SNI " + sni);
    SniCheck check;
    check.sni = sni;
    check.handshake_ok = outcome.handshake_ok;
    check.handshake_failed = outcome.handshake_failed;
    check.error = std::move(outcome.error);
    check.tls = std::move(outcome.tls);
    return check;
}

} // namespace smtpprobe::probes
