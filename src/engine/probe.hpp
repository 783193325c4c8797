#pragma once
// The one entry point of a probe (ARCHITECTURE §11): Target + ProbeOptions -> Report. Every
// front end (the CLI, batch runs, the exporter, tests) calls probe() and then evaluate()
// (diagnose/evaluate.hpp); nothing writes the Report after probe() returns.

#include "net/opener.hpp"
#include "net/resolve.hpp"
#include "net/tls.hpp"
#include "probes/envelope.hpp"
#include "report/report.hpp"
#include "sasl/sasl.hpp"
#include "session/redactor.hpp"
#include "session/transcript.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe {

/// What is probed.
struct Target {
    std::string host;
    unsigned short port = 587;
    TlsMode tls_mode = TlsMode::auto_;
    std::optional<std::string> sni; ///< overrides the host name as SNI and as the name checked
};

/// How it is probed.
struct ProbeOptions {
    /// -4/-6, --source, --proxy: how every connection of the probe is made.
    net::ConnectOptions connection;
    std::string ehlo_name = "smtpprobe.invalid";
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds command_timeout{10'000};
    std::chrono::milliseconds total_timeout{60'000};
    /// --tls auto: how long to wait for a banner before trying a TLS handshake on a fresh
    /// connection (the port may speak implicit TLS); also how long a plaintext connection to
    /// an implicit-TLS port whose handshake failed may take to greet (probes/contact.hpp).
    std::chrono::milliseconds banner_wait{3'000};
    unsigned parallel = 4; ///< connections at once; 1 = strictly sequential
    std::optional<sasl::Credentials> credentials;
    /// --gssapi-service: the GSSAPI service principal, "SERVICE" or "SERVICE@HOST" (a GSS
    /// host-based service name); empty: smtp@ the target's host.
    std::string gssapi_service;
    /// --authzid: the authorisation identity EXTERNAL sends, and PLAIN, SCRAM and DIGEST-MD5
    /// with it (RFC 4422 §3.4.1); empty: none (the server derives it from the credentials).
    std::string authzid;
    /// The local clock the token preflight compares exp/nbf with, in seconds since the epoch;
    /// empty: the system clock (tests fix it).
    std::function<std::int64_t()> clock;
    bool allow_insecure_auth = false;
    bool show_username = false;
    net::TlsClientOptions tls;
    bool no_sni = false;
    /// Also try TLS 1.0, 1.1, 1.2 and 1.3 one by one, each on its own connection, plus one
    /// handshake without SNI (probes/tls_versions.hpp).
    bool tls_versions = false;
    /// --line-endings: after the matrix, on a fresh connection (after STARTTLS when offered),
    /// send NOOP ended by a bare LF and by a bare CR and classify the server
    /// (probes/line_endings.hpp). Never by default: some servers penalise the client for it.
    bool line_endings = false;
    /// How long --line-endings waits for a reply before it calls the server "waits".
    std::chrono::milliseconds line_ending_wait{2'000};
    /// The first connection also tries one AUTH before STARTTLS (what a client that skips
    /// STARTTLS gets: ServerFacts::auth_before_tls_reply).
    bool auth_before_tls = true;
    /// The first connection also sends MAIL FROM:<> once before STARTTLS and once under TLS
    /// before AUTH (each with RSET when accepted): is TLS, is AUTH needed for mail?
    /// (ServerFacts::mail_before_tls_reply, mail_before_auth_reply; issue 20).
    bool mail_before_auth = true;
    /// --size BYTES: the size of the message the user means to send, checked against the
    /// advertised SIZE before anything is sent (issue 20 item 3); nullopt: not given.
    std::optional<std::uint64_t> message_size;
    /// --requiretls: the message is to be sent with REQUIRETLS (RFC 8689); checked against
    /// the advertised REQUIRETLS.
    bool requiretls = false;
    /// --all-addresses: probe every address of the name on its own (at most max_addresses,
    /// up to 4 at once) and report each of them (Report::address_probes). Without it, every
    /// connection goes to the first address that accepts.
    bool all_addresses = false;
    std::size_t max_addresses = 16;
    /// Probe only these mechanisms (upper case); empty = the catalogue plus all advertised.
    std::vector<std::string> mechanisms;
    /// --mail-from / --rcpt: after the matrix, the envelope probe (probes/envelope.hpp) on a
    /// fresh connection, authenticated with the first mechanism that got 235 when credentials
    /// were given (Report::envelope). None: no envelope probe.
    std::optional<probes::EnvelopeRequest> envelope;
    /// The seams (net/opener.hpp); empty = the real ones (getaddrinfo, TCP). Tests give a fake
    /// resolver or a replay transport here. Without an opener, connections go through
    /// net::open_connection with `connection` (proxy, source address).
    net::Resolver resolve;
    net::Opener open;
};

/// How far a probe has got: sent after each matrix cell.
struct Progress {
    std::size_t rows_done = 0;
    std::size_t rows_total = 0;
    int connections = 0;
};

/// What a front end learns while a probe runs. The callbacks may come from any of the probe's
/// worker threads, one at a time (the probe serialises them); they must not block for long.
class Observer {
public:
    Observer() = default;
    Observer(Observer const&) = delete;
    Observer& operator=(Observer const&) = delete;
    virtual ~Observer() = default;

    /// True: probe() records what is said on every connection and passes each line to
    /// transcript_line(). Lines carry no secret (Command::shown), but pass them through
    /// redactor() before showing them anyway.
    virtual bool wants_transcript() const { return false; }
    virtual void transcript_line(TranscriptEvent const& line) { (void)line; }
    virtual void progress(Progress const& progress) { (void)progress; }
    /// Polled between steps; true stops the probe, which then returns what it has with
    /// Report::interrupted set. The default is SIGINT/SIGTERM (net/interrupt.hpp).
    virtual bool interrupted() const;

    /// Every secret of the probe is registered here: the password, the token and the user name
    /// (unless ProbeOptions::show_username) before any I/O, the base64 of each SASL response
    /// as it is sent. Front ends pass every output of this probe through redactor().redact().
    /// An observer that forwards to another (one address of --all-addresses) returns that
    /// one's, so that the front end's redactor learns every response.
    virtual Redactor& redactor() noexcept { return redactor_; }
    virtual Redactor const& redactor() const noexcept { return redactor_; }

private:
    Redactor redactor_;
};

/// An observer that keeps the transcript (when `record`), for front ends that print it
/// afterwards.
class TranscriptObserver : public Observer {
public:
    explicit TranscriptObserver(bool record = true) : record_(record) {}
    bool wants_transcript() const override { return record_; }
    void transcript_line(TranscriptEvent const& line) override { transcript_.append(line); }
    Transcript const& transcript() const noexcept { return transcript_; }

private:
    bool record_;
    Transcript transcript_;
};

/// Runs the whole probe. Never throws for anything the server or network does; a
/// std::runtime_error escapes only for local problems (e.g. an unreadable CA file).
Report probe(Target const& target, ProbeOptions const& options, Observer& observer);

/// Registers the secrets of `credentials` (and the user unless `show_username`) in `redactor`
/// and returns the user as the report may show it.
std::string register_secrets(sasl::Credentials const& credentials, bool show_username,
                             Redactor& redactor);

} // namespace smtpprobe
