#pragma once
// The straight-line session every probe connection starts with (swaks' sendmail(), msmtp's
// serverinfo): banner, EHLO (HELO on 500/502), STARTTLS, handshake, EHLO again.

#include "report/report.hpp"
#include "session/conversation.hpp"

#include <optional>
#include <string>

namespace smtpprobe::probes {

struct SetupOptions {
    std::string ehlo_name;
    TlsMode mode = TlsMode::auto_; ///< implicit: the handshake already happened or happens first
    net::TlsConnectOptions tls;
    /// Before STARTTLS, try "AUTH <mech>" once and record the reply (what a client that skips
    /// STARTTLS gets). Only the first connection of a run does this.
    bool probe_auth_before_tls = false;
    /// Send "MAIL FROM:<>" once before STARTTLS (or on a plaintext session) and once under
    /// TLS before AUTH, each followed by RSET: is TLS (and AUTH) needed for mail?
    /// (ServerFacts::mail_before_tls_reply, mail_before_auth_reply). Only the first connection
    /// of a run does this. With PIPELINING, MAIL and RSET are one group (before STARTTLS the
    /// AUTH probe ends it): no round trip of its own before TLS, one under TLS; without it
    /// RSET only after a 2xx, 2 to 4 round trips.
    bool probe_mail_before_auth = false;
    /// The banner, when the caller already read it (probes/contact.cpp waits for it itself).
    std::optional<smtp::Reply> banner;
};

/// Drives a freshly connected conversation to the state where AUTH is probed. facts.phase
/// follows the steps, so that a caller that catches a failure knows where it happened.
///
/// A refusal the server is entitled to (EHLO and HELO refused, STARTTLS not offered or 454
/// when the mode requires TLS) returns facts with ready == false and stop_reason set.
/// Transport and protocol failures throw std::system_error (net::errc, smtp::errc); a failed
/// handshake is net::errc::tls_handshake_failed.
ServerFacts open_session(Conversation& conversation, SetupOptions const& options);
/// The same, writing into `facts` as it goes, so that a caller that catches the exception
/// still has what the session learnt before it (banner, EHLO, the STARTTLS reply).
ServerFacts open_session(Conversation& conversation, SetupOptions const& options,
                         ServerFacts& facts);

} // namespace smtpprobe::probes
