#pragma once
// The only place where bytes meet the reply parser: send a command, read exactly one reply,
// under a deadline set when the command is sent (STYLE rule 8). Throws std::system_error:
// smtp::errc for protocol violations, net::errc for transport failures.

#include "net/transport.hpp"
#include "session/transcript.hpp"
#include "smtp/command.hpp"
#include "smtp/reply.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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
    /// Waits for the banner at most `limit` (and the command timeout); a later call goes on
    /// with what has arrived so far (the wait counts as one in wait_bytes()).
    smtp::Reply greeting(std::chrono::milliseconds limit);
    /// Sends the command, then reads exactly one reply.
    smtp::Reply exchange(smtp::Command const& command);
    /// The same, waiting at most `limit` (and the command timeout) for the reply.
    smtp::Reply exchange(smtp::Command const& command, std::chrono::milliseconds limit);
    /// RFC 2920 command pipelining: sends the commands in one write, then reads one reply per
    /// command, in order (one round trip). Only for a server that advertised PIPELINING, and
    /// only MAIL, RCPT and RSET before the last command (EHLO, AUTH, STARTTLS, DATA, NOOP and
    /// QUIT end a group: their outcome changes what may follow). Nothing is ever sent behind an
    /// AUTH: a mechanism would take the next line as its response.
    std::vector<smtp::Reply> exchange_group(std::vector<smtp::Command> const& commands);
    /// After the STARTTLS 220: refuses (smtp::errc::data_after_starttls) if any byte is
    /// buffered (CVE-2011-0411 class; RFC 3207 §4.2), otherwise runs the handshake. Plaintext
    /// that arrives later, before the server's first TLS record, is refused the same way once
    /// the handshake is done (the transport keeps it out of TLS). With discard_injected(true)
    /// the bytes are kept in injected() and dropped unread, and TLS goes on: what most client
    /// libraries do (tests/clients/FINDINGS.md).
    net::TlsInfo upgrade_to_tls(net::TlsConnectOptions const& options);
    void discard_injected(bool discard) noexcept { discard_injected_ = discard; }
    /// The injected bytes came in a read of their own, after the 220: the transport found
    /// them ahead of the server's first TLS record (net::TlsInfo::plaintext_before_tls).
    bool injected_late() const noexcept { return injected_late_; }
    /// Sends QUIT (best effort: short deadline, errors ignored) and closes without waiting
    /// for the 221, as Postfix's own client does by default (smtp_skip_quit_response = yes).
    /// RFC 5321 §4.1.1.10 says a client SHOULD wait for it; nothing in the report depends on
    /// it, and on the run's last connection the wait would be one more round trip on the
    /// critical path (issue 21). Exchanges that end a conversation the user asked to see
    /// (the envelope) send their own QUIT and read its reply.
    void quit() noexcept;

    bool tls() const noexcept { return transport_.tls_active(); }
    /// What SCRAM-*-PLUS binds to on this connection (empty without TLS).
    net::TlsChannelBindings channel_bindings() const { return transport_.channel_bindings(); }
    int session() const noexcept { return session_; }
    Timeouts const& timeouts() const noexcept { return timeouts_; }
    /// The bytes that were buffered when data_after_starttls was raised (evidence).
    std::string const& injected() const noexcept { return injected_; }
    smtp::ReplyParser const& parser() const noexcept { return parser_; }
    /// Bytes received during the current (or last) wait: since the banner wait began, the
    /// last command was sent, or the TLS handshake began (raw TLS bytes, then).
    std::uint64_t wait_bytes() const noexcept;
    /// When that wait began.
    net::Clock::time_point wait_started() const noexcept { return wait_started_; }
    /// The last few KiB received, raw (what a port that does not speak SMTP sent).
    std::string const& recent() const noexcept { return recent_; }
    void note(std::string_view text) { log(TranscriptEvent::Kind::info, text); }

private:
    smtp::Reply read_reply(net::Deadline deadline);
    /// Throws when a reply arrived before the next command was sent (see exchange()).
    void refuse_unsolicited();
    void log(TranscriptEvent::Kind kind, std::string_view text);
    net::Deadline deadline() const;

    net::Transport& transport_;
    Transcript* transcript_;
    Timeouts timeouts_;
    int session_;
    smtp::ReplyParser parser_;
    std::string injected_;
    bool discard_injected_ = false;
    bool injected_late_ = false;
    std::string recent_; ///< the last few KiB received, raw, for evidence
    void begin_wait(bool handshake);
    std::uint64_t received_ = 0;     ///< bytes read above TLS (or without it)
    std::uint64_t wait_start_ = 0;   ///< received_ (or the transport's count) then
    bool wait_is_handshake_ = false; ///< the wait counts raw transport bytes
    bool banner_wait_begun_ = false;
    net::Clock::time_point wait_started_ = net::Clock::now();
};

} // namespace smtpprobe
