#pragma once
// The only place where bytes meet the reply parser: send a command, read exactly one reply,
// under a deadline set when the command is sent (STYLE rule 8). Throws std::system_error:
// smtp::errc for protocol violations, net::errc for transport failures.

#include "net/transport.hpp"
#include "session/transcript.hpp"
#include "smtp/command.hpp"
#include "smtp/reply.hpp"

#include <chrono>

namespace smtpprobe {

struct Timeouts {
    std::chrono::milliseconds command{10'000}; ///< per reply and per TLS handshake
    net::Deadline run_deadline = net::Deadline::max();
};

class Conversation {
public:
    Conversation(net::Transport& transport, Transcript* transcript, Timeouts timeouts, int session);

    /// Waits for the banner.
    smtp::Reply greeting();
    /// Sends the command, then reads exactly one reply.
    smtp::Reply exchange(smtp::Command const& command);
    /// After the STARTTLS 220: refuses (smtp::errc::data_after_starttls) if any byte is
    /// buffered (CVE-2011-0411 class; RFC 3207 §4.2), otherwise runs the handshake. With
    /// discard_injected(true) the buffered bytes are kept in injected() and dropped unread, and
    /// the handshake runs: what most client libraries do (tests/clients/FINDINGS.md).
    net::TlsInfo upgrade_to_tls(net::TlsConnectOptions const& options);
    void discard_injected(bool discard) noexcept { discard_injected_ = discard; }
    /// Best effort QUIT (short deadline, errors ignored), then close.
    void quit() noexcept;

    bool tls() const noexcept { return transport_.tls_active(); }
    int session() const noexcept { return session_; }
    /// The bytes that were buffered when data_after_starttls was raised (evidence).
    std::string const& injected() const noexcept { return injected_; }
    smtp::ReplyParser const& parser() const noexcept { return parser_; }
    void note(std::string_view text) { log(TranscriptEvent::Kind::info, text); }

private:
    smtp::Reply read_reply(net::Deadline deadline);
    void log(TranscriptEvent::Kind kind, std::string_view text);
    net::Deadline deadline() const;

    net::Transport& transport_;
    Transcript* transcript_;
    Timeouts timeouts_;
    int session_;
    smtp::ReplyParser parser_;
    std::string injected_;
    bool discard_injected_ = false;
    std::string recent_; ///< the last few KiB received, raw, for evidence
};

} // namespace smtpprobe
