#pragma once
// One SMTP conversation of the emulator as a state machine without I/O: the bytes a client
// sent go in, the steps the connection must take (send, wait, start TLS, close) come out.
// Connection runs those steps on a socket; the tests can run them on strings.

#include "emulator/auth_exchange.hpp"
#include "emulator/line_reader.hpp"
#include "emulator/profile.hpp"
#include "emulator/recorder.hpp"

#include "sasl/sasl.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::emulator {

/// One thing the connection does for the session. Steps run in order; when one fails (the
/// client left, the server is stopping) the rest are dropped and the connection ends.
struct Step {
    enum class Kind {
        send,      ///< write `bytes`
        pause,     ///< wait `duration` (a profile delay)
        start_tls, ///< run the server side of the TLS handshake, then call tls_started()
        hold,      ///< read and drop what the client sends for `duration` (or until it
                   ///< leaves), then end the connection: a tarpit, a stalled handshake
        close,     ///< end the connection (politely: close_notify, FIN)
    };
    Kind kind = Kind::send;
    std::string bytes;
    std::chrono::milliseconds duration{0};
};

/// What every session of one server shares: read-only, apart from the thread-safe recorder.
struct SessionContext {
    Profile const& profile;
    sasl::ServerOptions const& sasl_options;
    Recorder& recorder;
    /// ServerOptions::clock (none: the system clock).
    std::function<std::int64_t()> const& clock;
};

/// What a TLS handshake established that the session's AUTH needs.
struct TlsSessionFacts {
    sasl::ChannelBinding channel_binding; ///< what SCRAM-*-PLUS binds to
    /// The subject of the client certificate, when one was sent and verified (EXTERNAL
    /// authenticates as it).
    std::optional<std::string> client_identity;
};

class SmtpSession {
public:
    /// `id` numbers the connection in the recorder ("cN: ..."); `client_ip` fills
    /// {client_ip} in replies.
    SmtpSession(SessionContext const& context, std::size_t id, std::string client_ip);

    /// The steps on connect: the handshake first with implicit TLS, else the banner.
    std::vector<Step> start();
    /// Bytes from the client: every complete line is answered in order. After a step that
    /// starts TLS or closes, the bytes still buffered are discarded (plaintext pipelined
    /// behind STARTTLS is never executed, CVE-2011-0411).
    std::vector<Step> receive(std::string_view bytes);
    /// The handshake of a start_tls step completed, with what it established.
    std::vector<Step> tls_started(TlsSessionFacts facts = {});
    /// The handshake failed: recorded; the session is over.
    void tls_failed(std::string_view reason);
    /// The client stayed silent for the idle timeout: the profile's timeout_reply, then close.
    std::vector<Step> timed_out();

    /// True after a close step, or a failed handshake.
    bool finished() const noexcept { return phase_ == Phase::finished; }
    bool tls_active() const noexcept { return tls_active_; }
    /// Complete lines consumed so far (the connection restarts its idle timer on each).
    std::size_t lines_consumed() const noexcept { return lines_; }

private:
    enum class Phase { command, auth, data, raw, tls_pending, finished };

    void greet();
    void on_line(LineReader::Line const& line);
    void on_command(std::string const& line);
    void on_too_long(std::string const& head);
    void dispatch(std::string const& verb, std::string const& args);
    void on_ehlo(std::string const& args);
    void on_starttls(std::string const& args);
    void on_auth(std::string const& args);
    void on_data_line(LineReader::Line const& line);
    void on_auth_line(LineReader::Line const& line);
    void start_exchange(std::string const& mechanism, std::optional<std::string> const& initial);
    void on_result(AuthExchange::Result const& result);
    void auth_failed(std::string const& reply, bool delayed);
    /// The command (or its exchange) is over: close_after applies.
    void command_done();

    void record(std::string_view line);
    void send(std::string_view reply);
    /// Queues wire bytes; drip: in banner_drip pieces.
    void send_wire(std::string wire, bool drip = false);
    void hold(std::chrono::milliseconds duration);
    void pause(std::chrono::milliseconds duration);
    void reply_to(std::string const& verb, std::string_view reply);
    /// The profile's envelope rules for MAIL and RCPT: the refusal to send, or null.
    std::optional<std::string> envelope_refusal(std::string const& verb,
                                                std::string const& args) const;
    void close();

    SessionContext const& context_;
    Profile const& profile_;
    std::size_t id_;
    std::string client_ip_;
    LineReader reader_;
    std::vector<Step> steps_;
    Phase phase_ = Phase::command;
    bool tls_active_ = false;
    sasl::ChannelBinding channel_binding_; ///< of the TLS session; none before it
    bool banner_sent_ = false;
    bool greeted_ = false;
    bool authenticated_ = false;
    std::string user_; ///< the authenticated identity, once authenticated_
    unsigned failures_ = 0;
    std::size_t lines_ = 0;
    std::size_t data_lines_ = 0;
    std::string verb_;                           ///< the command being answered
    std::optional<AuthExchange> exchange_;       ///< the last AUTH exchange
    std::optional<std::string> client_identity_; ///< a verified client certificate's subject
};

} // namespace smtpprobe::emulator
