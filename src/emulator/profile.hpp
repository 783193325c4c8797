#pragma once
// Server profiles: what the emulator says, and when. One JSON file per provider or scenario,
// in samples/servers/.
//
// Format. Every field except "name" is optional; the defaults below describe a plain
// STARTTLS submission server that knows no AUTH mechanism. Objects reject unknown keys (a typo
// is an error, not a silent default) except keys starting with "_", which are free-form
// comments. load_profile() also accepts // and /* */ comments.
//
// A *reply* is one string or an array of strings. A string may hold several lines separated
// by "\n". If every line starts with a three-digit code the lines are sent exactly as written
// (so a profile can send a deliberately malformed reply, e.g. "250-a" then "251 b"); otherwise
// the first line must start with "NNN " and the continuation lines are plain text that gets
// "NNN-" / "NNN " prefixes. In every reply, greeting and banner, "{hostname}" becomes the
// profile's hostname and "{client_ip}" the client's address.
//
//   name                  string, required. Identifies the profile in logs and reports.
//   description           string. What the profile reproduces, in one sentence.
//   hostname              string, default "localhost". Used for {hostname}, the generated
//                         certificate's CN and SAN, and the CRAM-MD5 challenge.
//   tls                   "starttls" (default) | "implicit" (TLS from the first byte, RFC 8314)
//                         | "none" (no TLS at all).
//   tls_min, tls_max      "1.0" | "1.1" | "1.2" | "1.3": the TLS versions the server accepts,
//                         default "1.2" to "1.3". Below 1.2 the server runs at OpenSSL security
//                         level 0, without which OpenSSL 3 refuses TLS 1.0 and 1.1.
//   require_sni           bool, default false. true: a ClientHello without SNI gets the fatal
//                         unrecognized_name alert (RFC 6066 §3) and the handshake fails. (A
//                         server that answers with another certificate instead: see
//                         ServerOptions::no_sni_pki.)
//   request_client_certificate  bool, default false. true: the TLS handshake asks for a client
//                         certificate (CertificateRequest naming the client CA) and lets the
//                         handshake go on without one or with one that does not verify;
//                         AUTH EXTERNAL then succeeds only on a connection whose certificate
//                         verified against the client CA (as its subject; an authzid other
//                         than that subject fails). The client CA: ServerOptions::client_ca_pem,
//                         or one generated at start with one client certificate
//                         (Server::client_pki(), `emulate --client-cert-out`).
//   banner                reply (full wire lines), default "220 {hostname} ESMTP".
//   ehlo.supported        bool, default true. false: EHLO gets replies.EHLO, else
//                         replies.unknown (RFC 5321 §3.2: the client falls back to HELO).
//   ehlo.greeting         string, default "{hostname}": the text of the first EHLO line.
//   ehlo.before_tls       [string]: capability lines before TLS (and always, tls "none").
//   ehlo.after_tls        [string]: capability lines once TLS is up (and always, "implicit").
//                         Lines are sent as written, so legacy forms ("AUTH=LOGIN") and
//                         lies (advertising what is refused) are possible.
//   helo                  reply, default "250 {hostname}".
//   hello_first_reply     reply for AUTH, MAIL, RCPT and DATA before EHLO/HELO (also after
//                         STARTTLS, which forgets the EHLO, RFC 3207 §4.2). "" (default):
//                         not enforced.
//   syntax_reply          reply for EHLO/HELO without a domain and STARTTLS with an argument,
//                         default "501 5.5.4 Syntax error in parameters or arguments".
//   auth.mechanisms       [string]: recognised once TLS is up (always, tls "none"/"implicit").
//                         Names are upper-cased. Both lists empty: AUTH is an unknown command
//                         (replies.AUTH or replies.unknown).
//   auth.mechanisms_before_tls  [string]: recognised before STARTTLS. Before TLS, any other
//                         mechanism gets before_tls_reply if this list is empty or the
//                         mechanism is in auth.mechanisms, and unknown_mechanism_reply if not.
//   auth.before_tls_reply            default "530 5.7.0 Must issue a STARTTLS command first".
//   auth.unknown_mechanism_reply     default "504 5.5.4 Unrecognized authentication type"
//                                    (RFC 4954 §4).
//   auth.success_reply               default "235 2.7.0 Authentication successful".
//   auth.failure_reply               default "535 5.7.8 Authentication credentials invalid".
//   auth.failure_replies  {MECH: reply}: failure_reply for one mechanism (Postfix with Dovecot
//                         answers a failed LOGIN with its last prompt as the reason).
//   auth.cancel_reply                default "501 5.7.0 Authentication cancelled" (after "*").
//   auth.already_authenticated_reply default "503 5.5.1 Already authenticated".
//   auth.malformed_reply             default "501 5.5.2 Cannot decode response" (bad base64).
//   auth.syntax_reply                default "501 5.5.4 Syntax: AUTH mechanism".
//   auth.line_too_long_reply         default "500 5.5.6 Authentication Exchange line is too
//                                    long" (a line over 12288 octets, RFC 4954 §4).
//   auth.login_prompts    [user prompt, password prompt], default ["Username:", "Password:"].
//   auth.first_replies    {MECH: reply}: the reply to "AUTH MECH" without an initial
//                         response, instead of the first challenge; the exchange then goes on
//                         as usual. A listed mechanism the SASL server does not implement
//                         (NTLM, GSSAPI, DIGEST-MD5, ...) is scripted: this reply (default
//                         "334 "), then auth.challenges[MECH] if any, then "*" cancels and
//                         any other response fails (or gets auth.final_replies[MECH]).
//   auth.challenges       {MECH: [reply, ...]}: a scripted multi-step exchange, for NTLM's
//                         type-2 CHALLENGE and the like (for an NTLM that checks the
//                         AUTHENTICATE, see auth.ntlm_challenge). Each client line (the initial
//                         response on the AUTH line counts as the first) gets the next reply
//                         of the list; once the list is used up, the next line gets
//                         final_replies[MECH] (default: the failure reply). "*" still
//                         cancels and a line that is not base64 is malformed. A mechanism
//                         listed here is scripted even if the SASL server implements it.
//   auth.final_replies    {MECH: reply}: the last reply of a scripted exchange; a 235 counts
//                         as a successful AUTH, anything else as a failed one.
//   auth.accounts         [{"user", "password"} or {"user", "token"}]: accepted credentials
//                         (a client can succeed with each; a user may have several entries).
//   auth.refusals         [{"user", "password" or "token", "reply"}]: credentials the service
//                         refuses with a reply of its own once they are right: "535 5.7.139
//                         ... disabled for the Mailbox" for a mailbox without SMTP AUTH,
//                         "534-5.7.9 ..." for the normal password of an account with 2-step
//                         verification. A reply starting with 235 accepts. Checked after the
//                         accounts; with token_rules "exchange_online", an accepted token whose
//                         user is a refusal's gets that refusal's reply.
//   auth.basic_auth_reply reply: every password mechanism (LOGIN, PLAIN, CRAM-MD5, ...) gets it
//                         once the password was sent, right or wrong: a service past its
//                         Basic-auth cut-off ("550 5.7.30 Basic authentication is not supported
//                         for Client Submission."). refusals still apply first. Default: none.
//   auth.token_rules      how XOAUTH2 and OAUTHBEARER tokens are judged:
//                         "accounts" (default): only the accounts' tokens; a refused one gets an
//                         error challenge (RFC 7628 §3.2.2 JSON; for XOAUTH2 Google's, status
//                         401), then the failure reply after the client's acknowledgement.
//                         "exchange_online": every token by its claims, as Exchange Online does
//                         (sasl/bearer_token.hpp reads it, the signature unchecked): audience
//                         Exchange Online; a delegated token with SMTP.Send whose user is the
//                         XOAUTH2 user, or an app-only one with the SMTP.SendAsApp role for a
//                         user that is an entry of accounts or refusals; not expired nor not yet
//                         valid at the emulator's clock (ServerOptions::clock). A refused XOAUTH2
//                         token gets the failure reply at once, without an error challenge.
//                         "google": only the accounts' tokens; a refused one gets Google's
//                         challenge {"status":"400","schemes":"Bearer","scope":
//                         "https://mail.google.com/"}, with status 401 for a "ya29." token (a
//                         Google token that is expired or revoked), then the failure reply.
//   auth.challenge_nonce  string: fixes the CRAM-MD5 / SCRAM / DIGEST-MD5 server nonce
//                         (reproducible runs).
//   auth.ntlm_challenge   string: the base64 of the NTLM CHALLENGE_MESSAGE the SASL server
//                         sends (a recorded one, names, clock and all); it then checks the
//                         NTLMv2 AUTHENTICATE against the accounts ("DOMAIN\\user" or a
//                         UPN). Default: one built from the host name, random challenge.
//   auth.drop_after_failures  int 0..1000, default 0 (never). After this many failed, cancelled or
//                         undecodable AUTH attempts on one connection, the last attempt's reply
//                         is followed at once by drop_reply and the connection is closed
//                         (RFC 4954 §9 suggests at least 3).
//   auth.drop_reply       default "421 4.7.0 Too many authentication failures".
//   auth.failure_delay_ms int 0..600000, default 0: wait before sending a failure reply.
//   replies               {VERB: reply}: replies to commands by verb (upper case), plus
//                         "unknown" for verbs without an entry. Defaults: STARTTLS "220 2.0.0
//                         Ready to start TLS", NOOP "250 2.0.0 OK", RSET "250 2.0.0 OK", QUIT
//                         "221 2.0.0 Bye", MAIL "250 2.1.0 OK", RCPT "250 2.1.5 OK", DATA
//                         "354 End data with <CR><LF>.<CR><LF>", VRFY "252 2.0.0 Cannot VRFY
//                         user", unknown "500 5.5.2 Error: command not recognized".
//                         A STARTTLS reply other than 220 refuses TLS (e.g. 454). A DATA reply
//                         of 354 reads the message up to "." and answers data_end_reply; the
//                         message is discarded, never relayed.
//   authenticated_replies {VERB: reply}: like replies, used after a successful AUTH.
//   plaintext_replies     {VERB: reply}: like replies, used before STARTTLS (tls "starttls"
//                         only), e.g. MAIL "530 5.7.0 Must issue a STARTTLS command first"
//                         (Postfix with smtpd_tls_security_level = encrypt, RFC 3207 §4).
//   envelope              the envelope's rules (issue 20), applied to MAIL and RCPT after the
//                         hello check; without it MAIL and RCPT get replies /
//                         authenticated_replies:
//     senders             {user or "*": [address or "@domain"]}: once authenticated, the
//                         MAIL FROM addresses each account may use ("*": every account;
//                         "@example.org": any address of the domain; without case). Absent or
//                         empty: any sender. An unauthenticated MAIL gets replies.MAIL.
//     sender_refused_reply  reply to an authenticated MAIL FROM that senders does not allow;
//                         "{sender}" becomes the address, "{user}" the account. Default
//                         Postfix's "553 5.7.1 <{sender}>: Sender address rejected: not owned
//                         by user {user}".
//     local_domains       [string]: the recipient domains the server delivers to. Not empty:
//                         an unauthenticated RCPT TO another domain gets relay_denied_reply.
//     relay_denied_reply  default Postfix's "554 5.7.1 <{rcpt}>: Relay access denied"
//                         ("{rcpt}" becomes the address).
//   data_end_reply        default "250 2.0.0 OK: message discarded (the emulator never
//                         delivers mail)".
//   bare_lf               "line_end" (default: a LF without CR ends a line, as most servers
//                         and Postfix < 3.9 by default), "reject" (a line ended by a bare LF
//                         gets bare_lf_reply, as Postfix with smtpd_forbid_bare_newline =
//                         reject; a 521 or 421 reply also closes) or "wait" (only CRLF ends a
//                         line; the LF is part of it). A bare CR never ends a line.
//   bare_lf_reply         default "550 5.5.2 Error: bare <LF> received" (Postfix's code 550 is
//                         smtpd_forbid_bare_newline_reject_code's default; 521 disconnects).
//   starttls_inject       string: bytes sent behind the STARTTLS 220, before the handshake
//                         (CVE-2011-0411 class test for clients).
//   starttls_inject_delay_ms  int 0..600000, default 0: 0 appends the bytes to the 220 in the
//                         same write (a client reads both at once); more sends them in a write
//                         of their own this long after the 220 (a client that has read the
//                         220 meets them in its TLS handshake).
//   starttls_active_reply default "503 5.5.1 TLS already active" (RFC 3207 §4).
//   starttls_unavailable_reply  STARTTLS with tls "none", default "454 4.7.0 TLS not
//                         available due to temporary reason" (RFC 3207 §4).
//   line_too_long_reply   default "500 5.5.2 Line too long": a command line over 1000 octets
//                         including CRLF (RFC 5321 §4.5.3.1.4 allows 512; 1000 is lenient).
//   too_many_connections_reply  default "421 4.3.2 Too many connections".
//   timeout_reply         sent when the idle timeout expires, default "421 4.4.2 {hostname}
//                         Error: timeout exceeded".
//   delays_ms             {"banner" or VERB: int 0..600000}: wait this long before the reply
//                         (for AUTH: before the first reply to the AUTH command).
//   close_after           ["banner" or VERB]: close the connection right after that reply.
//
// Hostile and non-SMTP servers (see behaviour.hpp). Holding a connection ends when the client
// leaves, at the given time, or at ServerOptions::max_session, whichever comes first.
//   tarpit_ms             int 0..3600000: accept, send nothing, hold the connection this long
//                         (what the client sends is read and dropped), then close.
//   tls_stall_ms          int 0..3600000: never answer the ClientHello. With "starttls":
//                         STARTTLS gets its 220, then the connection is held; with
//                         "implicit": held from the accept on. Not with tls "none".
//   banner_drip           {"bytes": int 1..65536 (default 1), "interval_ms": int 0..600000
//                         (default 1000), "every_reply": bool (default false)}: the banner
//                         goes out that many bytes at a time, that far apart (every reply
//                         with every_reply).
//   greeting_raw          string: not an SMTP server. Sent verbatim on connect ("" sends
//                         nothing; {hostname} and {client_ip} are substituted), after the
//                         handshake with tls "implicit". No command is answered; excludes
//                         banner and tarpit_ms. E.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".
//   after_first_line      string, with greeting_raw: sent verbatim once the client's first
//                         line has arrived, then the connection is closed (an HTTP server's
//                         "HTTP/1.1 400 Bad Request" reply). Absent: lines are ignored.
//   certificate           "valid" (default) | "expired" (12 days ago) | "self-signed" |
//                         "wrong-host" (only for wrong-host.invalid, no IP names): what the
//                         generated certificate is like. ServerOptions::certificate and
//                         `emulate --certificate` override it.

#include "emulator/auth_profile.hpp"
#include "emulator/behaviour.hpp"
#include "emulator/reply_text.hpp"
#include "sasl/sasl.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::emulator {

enum class TlsMode { none, starttls, implicit };

struct EhloProfile {
    bool supported = true;
    std::string greeting = "{hostname}";
    std::vector<std::string> before_tls;
    std::vector<std::string> after_tls;
};

/// The "envelope" key: who may send as whom, and where to (see the format above).
struct EnvelopeRules {
    std::map<std::string, std::vector<std::string>> senders; ///< user or "*" -> addresses
    std::string sender_refused_reply =
        "553 5.7.1 <{sender}>: Sender address rejected: not owned by user {user}";
    std::vector<std::string> local_domains;
    std::string relay_denied_reply = "554 5.7.1 <{rcpt}>: Relay access denied";

    /// Whether `user` (authenticated) may use `sender` in MAIL FROM.
    bool sender_allowed(std::string const& user, std::string_view sender) const;
    /// Whether a recipient needs relaying (local_domains given and its domain not in them).
    bool needs_relay(std::string_view recipient) const;
};

/// A parsed, validated profile. Replies are stored as written in the file (multi-line replies
/// joined with "\n"); the server formats and substitutes them when it sends them.
struct Profile {
    std::string name;
    std::string description;
    std::string hostname = "localhost";
    TlsMode tls = TlsMode::starttls;
    std::string tls_min = "1.2"; ///< "1.0" .. "1.3"
    std::string tls_max = "1.3";
    bool require_sni = false;
    /// Ask every client for a certificate (CertificateRequest), checked against the client CA
    /// (ServerOptions::client_ca_pem, or one the server generates); EXTERNAL then accepts a
    /// connection whose certificate verified, as that certificate's subject.
    bool request_client_certificate = false;
    std::string banner = "220 {hostname} ESMTP";
    EhloProfile ehlo;
    std::string helo = "250 {hostname}";
    std::string hello_first_reply;
    std::string syntax_reply = "501 5.5.4 Syntax error in parameters or arguments";
    AuthProfile auth;
    std::map<std::string, std::string> replies; ///< upper-case verb or "UNKNOWN"; defaults filled
    std::map<std::string, std::string> authenticated_replies;
    std::map<std::string, std::string> plaintext_replies; ///< before STARTTLS
    EnvelopeRules envelope;
    std::string data_end_reply =
        "250 2.0.0 OK: message discarded (the emulator never delivers mail)";
    enum class BareLf { line_end, reject, wait };
    BareLf bare_lf = BareLf::line_end;
    std::string bare_lf_reply = "550 5.5.2 Error: bare <LF> received";
    std::string starttls_inject;
    std::chrono::milliseconds starttls_inject_delay{0};
    std::string starttls_active_reply = "503 5.5.1 TLS already active";
    std::string starttls_unavailable_reply = "454 4.7.0 TLS not available due to temporary reason";
    std::string line_too_long_reply = "500 5.5.2 Line too long";
    std::string too_many_connections_reply = "421 4.3.2 Too many connections";
    std::string timeout_reply = "421 4.4.2 {hostname} Error: timeout exceeded";
    std::map<std::string, std::chrono::milliseconds> delays; ///< "banner" or upper-case verb
    std::set<std::string> close_after;                       ///< "banner" or upper-case verb
    Behaviour behaviour;

    /// The reply for a verb: plaintext_replies (before STARTTLS), authenticated_replies (when
    /// authenticated), then replies, then replies["UNKNOWN"].
    std::string const& reply_for(std::string const& verb, bool authenticated,
                                 bool plaintext = false) const;
    /// The delay before the reply to a verb (or "banner"); zero when none is set.
    std::chrono::milliseconds delay_for(std::string const& verb) const;
};

/// Validates and converts a profile. Errors are std::runtime_error naming the source and the
/// field: "<source>: auth.accounts[0]: missing \"user\"".
Profile parse_profile(nlohmann::json const& document, std::string_view source = "profile");

/// Reads a profile file (JSON, comments allowed). Errors name the file, as above; a missing or
/// unreadable file and a JSON syntax error are std::runtime_error too.
Profile load_profile(std::filesystem::path const& path);

/// The text of a profile file (JSON, comments allowed, at most 1 MiB), as load_profile() reads
/// it; errors are std::runtime_error naming `source`.
Profile parse_profile_text(std::string_view content, std::string_view source);

/// The TLS mode's profile spelling ("none", "starttls", "implicit").
std::string_view to_string(TlsMode mode) noexcept;

} // namespace smtpprobe::emulator
