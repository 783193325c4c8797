#pragma once
// The connector: opens a connection and drives it to the state where AUTH is probed (the
// baseline session), then decides whether credentials may be sent on it. A function value:
// the engine builds one from an opener (TCP, a proxy, or a test's replay transport), so the
// same code runs whatever carries the bytes.

#include "net/opener.hpp"
#include "probes/baseline.hpp"
#include "report/report.hpp"
#include "session/conversation.hpp"
#include "session/transcript.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::engine {

/// The credential policy's verdict for one connection (RFC 4954 §4, §14: credentials only over
/// verified TLS, unless --allow-insecure-auth).
struct CredentialPolicy {
    enum class Decision { send, withheld };
    Decision decision = Decision::send;
    Withheld reason = Withheld::no; ///< why the connection is not verified TLS (also when sent)
    std::string text;               ///< the reason in words, for the matrix (empty: verified)
};

/// The policy for a connection's TLS state.
CredentialPolicy credential_policy(std::optional<net::TlsInfo> const& tls,
                                   bool allow_insecure_auth);

/// A connection that is ready for AUTH.
struct Session {
    int id = 0;
    std::unique_ptr<net::Transport> transport;
    std::unique_ptr<Conversation> conversation;
    CredentialPolicy credentials;
    int auth_probes = 0; ///< AUTH commands sent on it so far
};

struct ConnectRequest {
    int id = 0; ///< the connection number (transcript, events)
    /// The run's first connection: it runs the one-off probes that ConnectorSetup::setup asks
    /// for (AUTH before STARTTLS, MAIL FROM:<> before TLS and before AUTH).
    bool first = false;
};

struct ConnectResult {
    std::unique_ptr<Session> session; ///< null: not ready (see failure)
    /// What the connection learnt; absent when no connection was opened at all.
    std::optional<ServerFacts> facts;
    std::string address;       ///< the peer, once the baseline session completed
    net::ConnectInfo path;     ///< local and proxy addresses, once the baseline session completed
    std::vector<Event> events; ///< connect_failed per address that refused
    std::string failure;       ///< why there is no session
};

/// Never throws for what the network or the server does.
using Connector = std::function<ConnectResult(ConnectRequest const&)>;

struct ConnectorSetup {
    /// Opens connection number `id` (its "===" lines go into the transcript under that id).
    std::function<net::Opened(int id, std::vector<net::ConnectAttempt>&)> open;
    /// probe_auth_before_tls and probe_mail_before_auth apply to the first request only
    probes::SetupOptions setup;
    Timeouts timeouts;
    Transcript* transcript = nullptr;
    unsigned short port = 0; ///< for the transcript's "Connected to" line
    bool allow_insecure_auth = false;
    /// Bytes injected after the STARTTLS 220 are dropped unread and TLS goes on (as most
    /// clients do) instead of refusing the connection. Credentials still need verified TLS.
    bool discard_injected = false;
    /// --tls auto: no banner by then -> try implicit TLS on a fresh connection (contact.hpp).
    std::chrono::milliseconds banner_wait{3000};
};

Connector make_connector(ConnectorSetup setup);

} // namespace smtpprobe::engine
