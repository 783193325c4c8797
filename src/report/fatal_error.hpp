#pragma once
// Why a probe never reached the AUTH matrix, as data (issue 10 part 4): the phase it stopped
// in, the kind of failure, what arrived and how long it took, and one sentence that names
// them ("No banner within 10 s: the TCP connection was accepted and 0 bytes arrived ...").

#include "smtp/greeter.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe {

/// Where on the way to AUTH a connection stopped.
enum class Phase {
    resolve,
    connect,
    banner,          ///< waiting for the 220 greeting
    ehlo,            ///< EHLO (or the HELO fallback)
    auth_before_tls, ///< the one AUTH tried before STARTTLS (the run's first connection)
    starttls,        ///< the reply to STARTTLS
    tls_handshake,   ///< after STARTTLS's 220, or at once for implicit TLS
    ehlo_after_tls,  ///< EHLO again, under TLS
    /// The one MAIL FROM:<> (and RSET) of the run's first connection: before STARTTLS, or
    /// (mail_before_auth) under TLS before AUTH; "is TLS mandatory?" (issue 20).
    mail_before_tls,
    mail_before_auth,
};
std::string_view to_string(Phase phase) noexcept;
/// "waiting for the banner", "the TLS handshake", ...: the phase in a sentence.
std::string_view phase_words(Phase phase) noexcept;

enum class FailureKind {
    timeout,        ///< nothing arrived within the time limit
    stalled,        ///< bytes arrived, but the reply (or handshake) never completed in time
    closed,         ///< the server closed the connection (or reset it)
    unreachable,    ///< no address answered (refused, unreachable, DNS failure)
    malformed,      ///< bytes that are not an SMTP reply
    other_protocol, ///< another protocol's greeting: `protocol` says which
    tls_failed,     ///< the handshake failed (an alert, no common version, ...)
    refused,        ///< the server refused the step (554 greeting, EHLO and HELO refused, ...)
    interrupted,    ///< Ctrl-C
    error,          ///< anything else
};
std::string_view to_string(FailureKind kind) noexcept;

/// The facts of the failure, as the probe observed them; detail() words them.
struct FatalError {
    /// Empty: the probe stopped before it began (an exporter request refused before probing).
    std::optional<Phase> phase = Phase::connect;
    FailureKind kind = FailureKind::error;
    std::size_t bytes_received = 0;        ///< in the phase that failed
    double elapsed_ms = 0;                 ///< from the start of that phase to the failure
    std::optional<smtp::Greeter> protocol; ///< what the port speaks, when kind is other_protocol

    /// What the layer below said (an exception's message: the TLS alert, the parser's error,
    /// the resolver's words); for resolve, connect and no phase, and for refused (the
    /// refusal, probes/baseline.hpp), the whole of the detail. Empty: nothing to add.
    std::string error;
    /// timeout and stalled: the time limit that ran out.
    std::chrono::milliseconds limit{0};
    /// The connection did TLS on connecting (implicit TLS), not after STARTTLS.
    bool implicit_tls = false;
    /// other_protocol: what the port sent (its first line is quoted, escaped).
    std::string arrived;
    /// other_protocol: the port sent nothing on connecting; `arrived` answered an EHLO.
    bool silent_until_ehlo = false;
    /// timeout (--tls auto): a TLS handshake on a second connection, tried after waiting
    /// tls_attempt_after for the banner, failed with this error. Empty: none failed.
    std::string tls_attempt_error;
    std::chrono::milliseconds tls_attempt_after{0};

    /// The sentence, for people: "No banner within 10 s: ...", "The TLS handshake failed
    /// after the server's 220 to STARTTLS: ... (0 bytes came back).", "This port speaks SSH,
    /// not SMTP: it greeted with \"SSH-2.0-OpenSSH_9.2\"."
    std::string detail() const;
};

/// "ehlo: <detail>", for a line that names the phase; the detail alone without a phase.
std::string phase_and_detail(FatalError const& f);

/// What the wait that ran out saw.
struct Wait {
    Phase phase = Phase::banner;
    std::size_t bytes = 0;              ///< received during the wait
    std::chrono::milliseconds limit{0}; ///< the time limit that ran out
    bool implicit_tls = false;          ///< tls_handshake: on connect, not after STARTTLS
};

/// The sentence for a wait that ran out, e.g. "No banner within 10 s: the TCP connection was
/// accepted and 0 bytes arrived (a tarpit, a firewall that accepts and drops, or an
/// implicit-TLS port: see above).", "The banner was still arriving after 10 s: 10 bytes at
/// about 1 byte/s.", "The TLS handshake did not complete within 5 s after the server's 220 to
/// STARTTLS: the ClientHello was sent and nothing came back."
std::string timeout_detail(Wait const& wait);

/// "10 s", "2.5 s", "300 ms".
std::string duration_words(std::chrono::milliseconds duration);

} // namespace smtpprobe
