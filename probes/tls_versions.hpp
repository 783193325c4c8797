#pragma once
// Extra TLS handshakes beside the AUTH sessions: one per protocol version (which of TLS 1.0 to
// 1.3 the server accepts) and one that differs from the main session only in the SNI sent.
// Each runs on its own connection, as far as the handshake and the EHLO after it, then QUITs.

#include "net/opener.hpp"
#include "probes/baseline.hpp"
#include "report/report.hpp"
#include "session/conversation.hpp"
#include "session/transcript.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::probes {

/// Where and how the extra connections go: what the engine's own sessions use.
struct HandshakeTarget {
    /// Opens connection number `session` the way the run's own sessions are opened (the
    /// engine's opener: proxy, source address); throws std::system_error like net::Opener.
    std::function<net::Opened(int session)> connect;
    Timeouts timeouts;
    /// ehlo_name, mode (starttls or implicit) and tls.verify_name are used as given;
    /// tls.context and tls.sni are set by each probe.
    SetupOptions setup;
    Transcript* transcript = nullptr;  ///< may be null
    std::function<int()> next_session; ///< a fresh connection number for the transcript
};

struct HandshakeOutcome {
    bool handshake_ok = false;       ///< the TLS handshake completed
    bool handshake_failed = false;   ///< the handshake was tried and failed (net::errc)
    std::optional<net::TlsInfo> tls; ///< its facts (absent if the session broke right after it)
    std::string error;               ///< why no handshake, or what broke after it
    bool interrupted = false;
};

/// One connection up to the handshake and the EHLO after it, then QUIT. `purpose` goes into
/// the transcript. Never throws for what the network or the server does.
HandshakeOutcome try_handshake(HandshakeTarget const& target, net::TlsConnectOptions const& tls,
                               std::string const& purpose);

/// Offers TLS 1.0, 1.1, 1.2 and 1.3 one at a time (min = max), in that order, on separate
/// connections. 1.0 and 1.1 use security level 0 (TlsClientOptions::legacy) since OpenSSL 3
/// refuses them otherwise; 1.2 and 1.3 use the default level, as a current client would. A
/// version the local OpenSSL cannot offer at all is reported as not tested, with the reason.
/// `base` supplies the trust settings; its version limits are replaced. Stops early, marking
/// the rest as not tested, when interrupted or when the run's deadline has passed.
std::vector<TlsVersionResult> enumerate_tls_versions(HandshakeTarget const& target,
                                                     net::TlsClientOptions const& base);

/// One handshake with `context` sending `sni` (empty: no SNI); the name checked is
/// target.setup.tls.verify_name.
SniCheck check_sni(HandshakeTarget const& target, net::TlsClientContext const& context,
                   std::string const& sni);

} // namespace smtpprobe::probes
