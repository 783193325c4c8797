#pragma once
// The facts of one probe: what was sent, what came back, timings. probe() (engine/probe.hpp)
// returns it and nothing writes it afterwards; evaluate() (diagnose/evaluate.hpp) judges it
// into a Verdict; renderers print both. Nothing here knows about JSON or terminals.

#include "net/tls.hpp"
#include "report/fatal_error.hpp"
#include "sasl/bearer_token.hpp"
#include "sasl/ntlm.hpp"
#include "sasl/oauth_error.hpp"
#include "sasl/sasl.hpp"
#include "session/terminal_text.hpp" // escape_bytes(), escape_controls()
#include "smtp/capabilities.hpp"
#include "smtp/command.hpp"
#include "smtp/greeter.hpp"
#include "smtp/reply.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe {

enum class TlsMode { auto_, starttls, implicit, none };
std::string_view to_string(TlsMode mode) noexcept;
/// The inverse of to_string(TlsMode): "auto", "starttls", "implicit", "none".
std::optional<TlsMode> parse_tls_mode(std::string_view text) noexcept;

/// Outcome of one matrix cell.
enum class Status {
    pending,           ///< not probed yet (only while running)
    recognised,        ///< 334: the server knows the mechanism
    not_supported,     ///< 504, or 535/501/500/502 before any credential was sent
    refused,           ///< 530/534/538/503 or another 5xx policy refusal
    temporary_failure, ///< 4xx
    accepted,          ///< 235
    rejected,          ///< 535 or another 5xx after credentials were sent
    error,             ///< the connection broke or the server broke the protocol
    skipped,           ///< not attempted; `reason` says why
};
std::string_view to_string(Status status) noexcept;

/// What the NTLM information probe learnt (probes/auth.cpp, nmap's smtp-ntlm-info): the
/// server's CHALLENGE to a NEGOTIATE message sent after "334" to "AUTH NTLM". No credential
/// is sent; the exchange is cancelled with "*".
struct NtlmInfo {
    enum class Outcome {
        decoded,   ///< the reply was a CHALLENGE_MESSAGE: `challenge` holds it
        malformed, ///< a 334 whose text is not base64 or not a valid CHALLENGE_MESSAGE
        refused,   ///< the server answered the NEGOTIATE message with something other than 334
    };
    Outcome outcome = Outcome::refused;
    std::optional<smtp::Reply> reply; ///< the reply to the NEGOTIATE message
    std::optional<sasl::ntlm::Challenge> challenge;
    std::string error; ///< for malformed: the decoder's words (offset included)
};
std::string_view to_string(NtlmInfo::Outcome outcome) noexcept;

struct Recognition {
    Status status = Status::pending;
    std::optional<smtp::Reply> reply;        ///< first reply to "AUTH <MECH>"
    std::optional<smtp::Reply> cancel_reply; ///< reply to "*" after a 334
    std::optional<std::string> challenge;    ///< decoded first challenge, when printable
    std::optional<NtlmInfo> ntlm;            ///< NTLM only: what the NEGOTIATE message got
    std::string note;
};

/// Why credentials were not sent on a connection (the connector's credential policy).
enum class Withheld {
    no,               ///< verified TLS: credentials may be sent
    plaintext,        ///< no TLS
    unverified_chain, ///< the certificate chain did not verify
    wrong_host,       ///< the certificate is not valid for the name checked
};

struct Authentication {
    Status status = Status::skipped;
    Withheld withheld = Withheld::no; ///< set when the exchange was skipped for this reason
    /// The exchange needs what was not given (EXTERNAL without --cert); `reason` says what.
    bool cannot_try = false;
    std::string reason;
    std::optional<smtp::Reply> reply; ///< the final reply of the exchange
    bool server_verified = false; ///< SCRAM, DIGEST-MD5: the server proved it knows the password
    /// Set when the exchange was cancelled because of the server (a wrong rspauth or v=).
    sasl::ClientStep::Problem problem = sasl::ClientStep::Problem::none;
    /// SCRAM-*-PLUS: the channel binding the exchange used (none for every other mechanism).
    sasl::ChannelBinding::Type channel_binding = sasl::ChannelBinding::Type::none;
    /// LOGIN: the decoded second challenge (the password prompt, "Password:" or "Password\0"),
    /// shown like recognition.challenge, when the exchange reached it. A client that answers
    /// by the prompt text needs both (diagnose/clients.hpp).
    std::optional<std::string> password_prompt;
    /// XOAUTH2, OAUTHBEARER: the error challenge the server sent after the token (the 334
    /// before the final 535), decoded (sasl/oauth_error.hpp); none when it sent none.
    std::optional<sasl::OAuthError> oauth_error;
};

struct MechanismRow {
    std::string name; ///< upper case
    bool catalogue = false;
    bool advertised_before_tls = false;
    bool advertised_after_tls = false;
    bool implemented = false; ///< smtpprobe can authenticate with it
    Recognition recognition;
    Authentication authentication;
    int connection = 0; ///< the connection that probed it (1, 2, ...)
};

/// The row of `name` (upper case) in `rows`, or null.
MechanismRow const* find_row(std::vector<MechanismRow> const& rows, std::string_view name) noexcept;
/// The reply's code ("504"), or the status ("error", "skipped") when no reply came.
std::string code_or_status(std::optional<smtp::Reply> const& reply, Status status);

enum class Severity { info, warning, error };
/// "info", "warning", "error" (the JSON form).
std::string_view to_string(Severity severity) noexcept;

struct Finding {
    std::string id; ///< stable key, e.g. "auth.only_after_starttls"
    Severity severity = Severity::info;
    std::string title;
    std::string detail;
    std::vector<std::string> evidence;
};

/// Something that happened on the way, beside the matrix (the report's "events").
enum class EventKind {
    reconnect,           ///< the server dropped a connection during AUTH; reconnected, retried
    connect_failed,      ///< one address did not accept the connection
    proxy_failed,        ///< the proxy refused or broke the tunnel
    capabilities_differ, ///< a connection's AUTH list differs from the first one's
    too_many_mechanisms, ///< the server advertises more mechanisms than are probed
};
/// "reconnect", "connect_failed", ... (the JSON form).
std::string_view to_string(EventKind kind) noexcept;

struct Event {
    EventKind kind = EventKind::reconnect;
    std::string detail;
    int connection = 0; ///< the connection it happened on; 0: none in particular
};

struct Explanation {
    std::string subject; ///< "504", "5.7.4"
    std::string text;
    std::string source;
    std::string advice;
};

/// Whether a client library would authenticate against the server (diagnose/clients.hpp).
enum class ClientOutcome { works, fails, depends };
/// "works", "fails", "depends".
std::string_view to_string(ClientOutcome outcome) noexcept;

/// What a client library does with bytes injected behind the STARTTLS 220.
enum class ClientInjection {
    none,     ///< no bytes were injected: not applicable
    discards, ///< it drops them and goes on over TLS
    refuses,  ///< it stops before the handshake
    exposed,  ///< it reads them as the post-TLS EHLO reply (CVE-2011-0411 class)
    /// it has read the 220 alone and meets them in its TLS handshake, which fails: not
    /// exposed, but it sends no mail
    handshake_fails,
    unchecked, ///< not checked by running the library
};
/// "discards", "refuses", "exposed", "handshake fails", "not checked"; "" for none.
std::string_view to_string(ClientInjection injection) noexcept;

struct ClientRow {
    std::string client;
    ClientOutcome outcome = ClientOutcome::depends;
    std::string mechanism;
    std::string how;
    std::string source;
    std::string error; ///< the library's own error; empty: it works or reports none
    ClientInjection injection = ClientInjection::none;
    std::string checked_against; ///< library version run against (tests/clients); "": docs only
};

/// A monitoring state (Monitoring Plugins guidelines), in the order of the plugin return codes.
enum class CheckState { ok = 0, warning = 1, critical = 2, unknown = 3 };
/// "OK", "WARNING", "CRITICAL", "UNKNOWN".
std::string_view to_string(CheckState state) noexcept;

/// One monitoring check.
struct Check {
    std::string id; ///< "session", "auth.PLAIN", "starttls", "tls_min", "time", "certificate"
    CheckState status = CheckState::unknown;
    std::string message;
    bool expected = false; ///< from an expectation the user gave (--expect-*, --warning, ...)
};

struct Timings {
    std::optional<double> resolve, connect, banner, ehlo, starttls, tls_handshake, ehlo_after_tls;
    std::optional<double> proxy; ///< the proxy handshake (SOCKS5 / HTTP CONNECT)
    /// The first connection's one-off probes: AUTH and MAIL FROM:<> before STARTTLS (one
    /// round trip with PIPELINING), and MAIL FROM:<> under TLS before AUTH.
    std::optional<double> probes_before_tls, mail_before_auth;
};

/// A step of one connection on the timeline (issue 22): what the time went to.
enum class TimedStep {
    connect,
    proxy,
    banner,
    ehlo,
    starttls,
    tls_handshake,
    ehlo_after_tls,
    auth,
    probes_before_tls, ///< the first connection's AUTH and MAIL FROM:<> before STARTTLS
    mail_before_auth   ///< the first connection's MAIL FROM:<> under TLS, before AUTH
};
/// "connect", "proxy", "banner", "ehlo", "starttls", "tls_handshake", "ehlo_after_tls", "auth",
/// "probes_before_tls", "mail_before_auth" (the JSON form).
std::string_view to_string(TimedStep step) noexcept;

/// One step of a connection on the run's clock.
struct StepTiming {
    TimedStep step = TimedStep::connect;
    std::string mechanism; ///< auth: the row's mechanism
    double start_ms = 0;   ///< since the run started
    double ms = 0;         ///< how long it took
};

/// The timeline of one connection (JSON `timings_ms`): its steps in the order they ran.
struct ConnectionTimings {
    int connection = 0; ///< 1, 2, ...
    std::vector<StepTiming> steps;
};

/// How the connections were made: directly or through a proxy, from which local address.
struct ConnectionPath {
    std::string proxy;        ///< "socks5://host:port" (never a password); empty: direct
    std::string proxy_scheme; ///< "socks5", "socks5h", "http"
    std::string proxy_host;
    unsigned short proxy_port = 0;
    std::string proxy_variable;  ///< "ALL_PROXY" when the proxy came from the environment
    std::string proxy_bypass;    ///< why a configured proxy was not used (NO_PROXY)
    std::string proxy_address;   ///< the proxy's address reached
    std::string proxy_bound;     ///< the proxy's outbound address, when it said
    bool proxy_resolved = false; ///< the proxy resolved the server's name
    std::string source;          ///< --source as given
    std::string local_address;   ///< our end of the first connection
};

/// One TLS version offered alone on its own connection (--tls-versions).
struct TlsVersionResult {
    std::string version; ///< "1.0", "1.1", "1.2", "1.3"
    bool tested = false; ///< false: the local OpenSSL cannot offer it, or no handshake was tried
    bool accepted = false;
    std::string cipher; ///< the cipher negotiated, when accepted
    std::string detail; ///< the handshake error, or why it was not tested
};

/// A handshake that differs from the main session's only in the SNI sent. It runs with
/// --tls-versions (without SNI, when the main session sent one) and after a failed --no-sni
/// session (with the host name), so that "the server needs SNI" is observed, not guessed.
struct SniCheck {
    std::string sni; ///< what this handshake sent; empty: no SNI
    bool handshake_ok = false;
    bool handshake_failed = false; ///< the handshake itself failed (not what came before it)
    std::string error;             ///< why no TLS session came up, when !handshake_ok
    std::optional<net::TlsInfo> tls;
};

/// --line-endings (issue 20 item 5): how the server takes one command (NOOP) ended by a bare LF
/// or a bare CR instead of CRLF (RFC 5321 §2.3.8). The safe part of an SMTP smuggling check
/// (CVE-2023-51764 class): no DATA, no mail.
enum class LineEnding { lf, cr };
enum class LineEndingBehaviour {
    rejects,  ///< an error reply to the bare ending (Postfix smtpd_forbid_bare_newline: 521 5.5.2)
    line_end, ///< a 2xx to the NOOP: the bare ending ended the command line
    waits,    ///< no reply within the wait: the bare ending did not end the line
    unknown,  ///< the test could not be run or its outcome read (see error)
};
/// "LF", "CR".
std::string_view to_string(LineEnding ending) noexcept;
/// "rejects", "line_end", "waits", "unknown" (the JSON values).
std::string_view to_string(LineEndingBehaviour behaviour) noexcept;
struct LineEndingTest {
    LineEnding ending = LineEnding::lf;
    LineEndingBehaviour behaviour = LineEndingBehaviour::unknown;
    int connection = 0; ///< the connection it ran on
    bool tls = false;   ///< it ran over TLS (after STARTTLS, when offered)
    /// The reply to the command with the bare ending; after a wait, the reply to the CRLF sent
    /// then (reply_after_crlf).
    std::optional<smtp::Reply> reply;
    bool reply_after_crlf = false;
    bool closed = false; ///< the server closed the connection after it
    std::string error;   ///< why unknown, or what broke
};
struct LineEndingCheck {
    std::vector<LineEndingTest> tests; ///< LF first, then CR
    std::chrono::milliseconds wait{0}; ///< how long a reply was awaited before "waits"
};

/// What one connection learnt on its way to the state where AUTH is probed.
struct ServerFacts {
    std::optional<smtp::Reply> banner;
    smtp::HelloVerb hello_verb = smtp::HelloVerb::ehlo; ///< helo after a fallback
    std::optional<smtp::Reply> ehlo_reply;
    std::optional<smtp::Reply> ehlo_refusal; ///< the EHLO reply that caused the HELO fallback
    std::optional<smtp::Capabilities> before_tls;
    bool starttls_offered = false;
    bool starttls_attempted = false;
    std::optional<smtp::Reply> starttls_reply;
    std::string starttls_injected; ///< bytes after the STARTTLS 220 (evidence)
    /// They came in a read of their own, after the 220 (not behind it in the same read).
    bool starttls_injected_late = false;
    std::optional<net::TlsInfo> tls;
    std::string tls_error; ///< handshake failure text
    std::optional<smtp::Reply> ehlo_after_tls_reply;
    std::optional<smtp::Capabilities> after_tls;
    std::optional<std::string> auth_before_tls_mechanism;
    std::optional<smtp::Reply> auth_before_tls_reply;
    /// "Is TLS mandatory?" (issue 20): MAIL FROM:<> sent once on the run's first connection
    /// (then RSET when it was accepted). Before STARTTLS, or on a plaintext session: does the
    /// port take mail without TLS?
    std::optional<smtp::Reply> mail_before_tls_reply;
    /// Under TLS (STARTTLS or implicit), before AUTH: does mail need AUTH?
    std::optional<smtp::Reply> mail_before_auth_reply;
    std::size_t bare_lf_lines = 0;
    std::size_t long_lines = 0;

    Timings timings;
    bool ready = false;                ///< AUTH can be probed on this connection
    std::string stop_reason;           ///< why not, when the server refused a step
    Phase phase = Phase::connect;      ///< the step the connection got to (or stopped in)
    std::optional<FatalError> failure; ///< why it stopped there, when it did

    // What the port speaks, when it is not what was asked for (probes/contact.hpp).
    /// --tls auto: no banner within --banner-wait, and a TLS handshake on a fresh connection
    /// worked: the port speaks implicit TLS.
    bool implicit_tls_detected = false;
    /// Implicit TLS asked for (port 465 or --tls implicit), the handshake failed, and a
    /// plaintext connection got a 220: the port speaks plaintext SMTP.
    bool plaintext_on_implicit_port = false;
    std::string implicit_handshake_error; ///< that handshake's error
    /// --tls auto: the TLS handshake tried after the banner wait failed (why).
    std::string tls_probe_error;
    /// The port greeted (or answered EHLO) in another protocol.
    std::optional<smtp::Greeter> other_protocol;

    /// Why the connection stopped short of AUTH, in a sentence: the failure's, else
    /// stop_reason.
    std::string why_stopped() const { return failure ? failure->detail() : stop_reason; }

    /// The capabilities that AUTH is probed under: after TLS when TLS was used.
    smtp::Capabilities const* final_capabilities() const noexcept {
        if (after_tls)
            return &*after_tls;
        return before_tls ? &*before_tls : nullptr;
    }
};

/// One address of the name, probed on its own (--all-addresses): what a client that lands on
/// this node of a pool sees. A projection of that address's own Report.
struct AddressProbe {
    std::string address;
    bool session_established = false;
    std::optional<FatalError> fatal; ///< why no session, when there is none
    std::optional<smtp::Reply> banner;
    std::optional<smtp::Capabilities> before_tls, after_tls;
    TlsMode tls_used = TlsMode::none;
    std::optional<net::TlsInfo> tls;
    std::string tls_error;
    std::vector<MechanismRow> rows; ///< the AUTH verdict per mechanism
    int connections = 0;
    double total_ms = 0;

    /// The first word of the banner's text ("mx1.example.com"); empty without a banner.
    std::string banner_host() const;
};

/// The offline token preflight (issue 19): what the OAuth token given says about itself, read
/// before the first connection (engine/report_setup.cpp) against the local clock. The token
/// itself is not kept; the claims are (they are not secrets), except that the user principal is
/// shown only as `user_shown`.
struct TokenPreflight {
    sasl::BearerToken token;     ///< the decoded header and claims (never the token)
    std::int64_t checked_at = 0; ///< the local clock, seconds since the epoch
    /// The token's user (TokenClaims::user()) as the report may show it: itself with
    /// --show-username, else a length marker; empty when the token names no user.
    std::string user_shown;
    std::string user_claim; ///< which claim holds it: "upn", "unique_name", ...
    /// The token's user is --user (ASCII case-insensitive); nullopt when either is missing.
    std::optional<bool> user_matches;
};

/// "Is TLS mandatory?" (issue 20): what one MAIL FROM:<> of the first connection got.
enum class MailGate {
    not_tested,     ///< the probe did not run (not the first connection, or switched off)
    not_applicable, ///< no such moment: implicit TLS has no plaintext, a plaintext run no TLS
    refused,        ///< any reply but 2xx (530 5.7.0: TLS first; 530 5.7.57: AUTH first)
    accepted,       ///< 250: a transaction was open (smtpprobe sent RSET)
};
/// "not_tested", "not_applicable", "refused", "accepted" (the JSON form).
std::string_view to_string(MailGate gate) noexcept;
/// One command of the envelope probe (probes/envelope.hpp) and what came back.
struct EnvelopeStep {
    enum class Kind { mail, rcpt, rset, data, message, quit };
    Kind kind = Kind::mail;
    /// What followed the verb, as sent: "<addr> SIZE=123" for MAIL, "<addr>" for RCPT,
    /// "<N bytes, M lines>" for the message, empty for RSET, DATA and QUIT.
    std::string argument;
    std::optional<smtp::Reply> reply; ///< none: the connection broke before a reply came
    /// What the reply means, and the fix when it is a refusal: filled by evaluate() in
    /// Verdict::envelope (diagnose/envelope_rules.hpp), empty in the Report.
    std::string meaning;
    std::string fix;
    std::string finding_id; ///< the finding this refusal became ("envelope.sender_not_owned")
};
/// "mail", "rcpt", "rset", "data", "message", "quit" (the JSON form).
std::string_view to_string(EnvelopeStep::Kind kind) noexcept;
/// "MAIL FROM", "RCPT TO", "RSET", "DATA", "message", "QUIT" (the text form).
std::string_view verb(EnvelopeStep::Kind kind) noexcept;

/// The envelope probe (--mail-from, --rcpt): after the matrix, on a fresh connection that
/// authenticated with the first mechanism that got 235 (when credentials were given and one
/// did), MAIL FROM, one RCPT TO per recipient, RSET, QUIT. No DATA without --send.
struct Envelope {
    bool authenticated = false; ///< the connection authenticated first
    std::string mechanism;      ///< the mechanism it authenticated with
    int connection = 0;         ///< the connection it ran on (0: none was opened)
    std::string mail_from;      ///< as given ("<>" is the null sender)
    std::vector<std::string> rcpt;
    std::vector<EnvelopeStep> steps;
    /// Why the envelope probe did not run, or stopped short (no connection, the connection
    /// broke, the authentication failed this time); empty when it ran to QUIT.
    std::string stopped;
    bool send_requested = false; ///< --send was given
    bool message_sent = false;   ///< --send: the message was accepted after DATA
    std::string queue_id;        ///< --send: the queue id in the final reply, when it had one
    /// --send: the recipients the message went to (those whose RCPT TO got 2xx), as given.
    std::vector<std::string> recipients;
    std::uint64_t message_bytes = 0; ///< --send: the message's size (RFC 1870's count)
    std::size_t message_lines = 0;   ///< --send: its lines
    bool message_built = false;      ///< --send without --data-file: smtpprobe built it
    /// --send: why no DATA was sent although MAIL and a RCPT got 2xx (8-bit data and no
    /// 8BITMIME); empty otherwise.
    std::string not_sent;

    /// The first step of `kind`, or null.
    EnvelopeStep const* first(EnvelopeStep::Kind kind) const noexcept;
};

struct Report {
    // Target
    std::string host;
    std::string server_name; ///< the name a client is configured with: --sni, else host
    unsigned short port = 0;
    TlsMode tls_mode = TlsMode::auto_;  ///< as requested
    TlsMode tls_used = TlsMode::none;   ///< what the run ended up using
    std::vector<std::string> addresses; ///< every address the name resolved to
    std::string connected_address;
    /// --all-addresses: each address probed on its own, in resolution order (at most
    /// ProbeOptions::max_addresses); the rest of the report is then the first of them that
    /// reached AUTH (else the first). Empty without the flag or with only one address.
    std::vector<AddressProbe> address_probes;
    std::size_t addresses_not_probed = 0; ///< --all-addresses: beyond the limit
    std::string ehlo_name;
    ConnectionPath path;

    ServerFacts server; ///< from the first session that got as far as AUTH

    // Credentials (never the secret itself)
    bool credentials_given = false;
    bool token_given = false;
    std::optional<TokenPreflight> token;   ///< set whenever a token was given
    bool client_certificate_given = false; ///< --cert (offered when a server asks)
    std::string user_shown;                ///< the user, or a length marker without --show-username
    /// The user names a domain (DOMAIN\user, DOMAIN/user or user@domain, a separator neither
    /// first nor last): libcurl offers GSSAPI only then. Not rendered.
    bool user_has_domain = false;
    bool insecure_auth_allowed = false;
    bool credentials_sent_insecurely = false;

    // The message to be sent, as far as the extensions care (issue 20 item 3)
    std::optional<std::uint64_t> message_size; ///< --size
    bool requiretls = false;                   ///< --requiretls

    // TLS checks beyond the sessions
    std::optional<std::vector<TlsVersionResult>> tls_versions; ///< with --tls-versions
    std::optional<SniCheck> sni_check;
    std::optional<LineEndingCheck> line_endings; ///< with --line-endings

    std::vector<MechanismRow> rows;
    /// --mail-from / --rcpt: the envelope probe after the matrix; none without them.
    std::optional<Envelope> envelope;
    std::vector<Event> events;
    std::optional<double> auth_ms; ///< from the first AUTH probe sent to the last reply
    double total_ms = 0;
    /// Each connection's steps on the run's clock, in connection order; empty when the probe
    /// recorded none (a report read back, a probe that never started).
    std::vector<ConnectionTimings> connection_timings;
    std::int64_t started_at = 0; ///< when the run started, seconds since 1970 (0: unknown)
    int connections = 0;         ///< opened in the run
    unsigned parallel = 0;

    bool session_established = false; ///< reached the state where AUTH can be probed
    std::optional<FatalError> fatal;  ///< why not: phase, kind, what arrived, the sentence
    bool interrupted = false;

    /// Why no session was established, in a sentence (fatal's); empty with a session.
    std::string fatal_error() const { return fatal ? fatal->detail() : std::string(); }

    /// MAIL FROM:<> before STARTTLS (or on the plaintext session): does the port take mail
    /// without TLS? not_applicable with implicit TLS.
    MailGate mail_without_tls() const noexcept;
    /// MAIL FROM:<> under TLS before AUTH: does mail need AUTH? not_applicable when the
    /// session never got TLS (the plaintext reply then answers both questions).
    MailGate mail_without_auth() const noexcept;
    /// The port is an MX-style relay port (25), where mail without TLS or AUTH is normal;
    /// anything else is treated as submission (587, 465, 2525, ...).
    bool relay_port() const noexcept { return port == 25; }
};

} // namespace smtpprobe
