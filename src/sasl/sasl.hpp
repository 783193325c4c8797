#pragma once
// SASL mechanisms as SMTP uses them (RFC 4954), client and server side, sans-I/O.
//
// Everything here works on *decoded* bytes: the caller base64-decodes the text of a 334 reply
// before handing it in, and base64-encodes what comes out before sending it. Nothing here
// touches a socket or a clock; randomness (nonces) comes from libcrypto's RAND_bytes unless a
// test fixes it through the options.

#include "sasl/gssapi.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::sasl {

/// What the user gave us. Any field may be empty.
struct Credentials {
    std::string user;
    std::string password;
    std::string token; ///< OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER)
};

/// Mechanisms the client side implements (any case): the catalogue entries marked
/// implemented (sasl/mechanisms.hpp): PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1,
/// SCRAM-SHA-256 and their -PLUS variants, XOAUTH2, OAUTHBEARER, NTLM, GSSAPI, ANONYMOUS, EXTERNAL.
bool client_implements(std::string_view mechanism) noexcept;
/// True for XOAUTH2 and OAUTHBEARER (they need Credentials::token, not a password).
bool uses_token(std::string_view mechanism) noexcept;
/// True for GSSAPI: the caller's ticket cache serves when no password is given.
bool uses_ticket(std::string_view mechanism) noexcept;
/// True for ANONYMOUS: it needs neither a password nor a token.
bool needs_no_secret(std::string_view mechanism) noexcept;
/// True for EXTERNAL: the credential is the TLS client certificate (--cert/--key).
bool uses_certificate(std::string_view mechanism) noexcept;

/// What binds a SCRAM-*-PLUS exchange to its TLS channel (RFC 5056, RFC 5802 §6): the
/// channel-binding type and its input, taken from the TLS connection by the caller.
struct ChannelBinding {
    enum class Type {
        none,         ///< no TLS channel: SCRAM-*-PLUS cannot run
        tls_unique,   ///< RFC 5929: the first Finished message of the handshake (TLS 1.2)
        tls_exporter, ///< RFC 9266: 32 bytes of the "EXPORTER-Channel-Binding" exporter (TLS 1.3)
    };
    Type type = Type::none;
    std::string data; ///< raw; not secret, but bound to this one connection
};
/// The registered name (RFC 5929, RFC 9266) as it appears in the gs2-header: "tls-unique",
/// "tls-exporter"; empty for none.
std::string_view channel_binding_name(ChannelBinding::Type type) noexcept;
/// The binding RFC 9266 prescribes for what the connection offers: tls-unique while the
/// handshake has one (TLS 1.2 and below), tls-exporter otherwise (TLS 1.3, where tls-unique is
/// undefined); none when neither is available. Client and server use the same rule.
ChannelBinding choose_channel_binding(std::string tls_unique, std::string tls_exporter);
/// True for SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS.
bool binds_channel(std::string_view mechanism) noexcept;

struct ClientOptions {
    std::string host;  ///< OAUTHBEARER "host=", DIGEST-MD5 digest-uri "smtp/HOST"
    unsigned port = 0; ///< OAUTHBEARER "port="
    std::string
        authzid; ///< PLAIN / SCRAM / DIGEST-MD5 / EXTERNAL authorisation identity; usually empty
    std::string service = "smtp"; ///< the SASL service name (RFC 4954 §4): DIGEST-MD5 digest-uri
    /// NTLM: the client's clock as a FILETIME (100 ns since 1601), used in the NTLMv2 response
    /// when the server's CHALLENGE carries no MsvAvTimestamp. The caller reads the clock (this
    /// layer never does); 0 when not given.
    std::uint64_t filetime = 0;
    /// ANONYMOUS trace (RFC 4505 §2): an email address or 1 to 255 characters without '@'.
    std::string trace = "smtpprobe";
    /// SCRAM-*-PLUS: the connection's channel binding (the exchange cancels without one).
    ChannelBinding channel_binding;
    /// SCRAM client nonce, DIGEST-MD5 cnonce, NTLM ClientChallenge (8 bytes); tests fix it.
    /// Empty: random.
    std::string nonce;
    /// GSSAPI: the service principal as --gssapi-service gives it ("SERVICE" or
    /// "SERVICE@HOST"); empty: `service`@`host`.
    std::string gssapi_service;
    /// GSSAPI: makes the security context (src/gss over MIT GSS-API; a fake in tests). Unset:
    /// GSSAPI cancels with "cannot try".
    std::function<std::unique_ptr<SecurityContext>(GssRequest const&)> gss_context;
};

/// One step of a client exchange.
struct ClientStep {
    enum class Kind {
        respond, ///< send base64(data) as the next line (data may be empty: send an empty line)
        cancel,  ///< send "*": the challenge made no sense (error says why)
    };
    /// What a cancel says about the server (a finding), beyond "this exchange failed".
    enum class Problem {
        none,
        server_proof_mismatch, ///< DIGEST-MD5 rspauth or SCRAM v= is not the one the password gives
    };
    Kind kind = Kind::respond;
    std::string data;  ///< the raw (decoded) response; a secret unless `secret` is false
    std::string error; ///< for cancel: why, in words safe to show (no secret)
    Problem problem = Problem::none;
    /// GSSAPI: a cancel because a GSS-API call failed, and what that means for the row.
    GssFailure gss_failure = GssFailure::none;
    bool secret = true; ///< false: data carries nothing secret (ANONYMOUS trace, NTLM NEGOTIATE)
};

/// The client side of one exchange, started by "AUTH <MECH>" *without* an initial response:
/// every response, the first included, is an answer to a 334 challenge.
class Client {
public:
    /// nullopt when the mechanism is not one client_implements() lists.
    static std::optional<Client> create(std::string_view mechanism, Credentials credentials,
                                        ClientOptions options = {});

    /// Answers a decoded 334 challenge. Bounded: after 8 steps it cancels.
    ClientStep respond(std::string_view challenge);

    /// SCRAM, DIGEST-MD5: true once the server's proof (v=, rspauth) has been checked and
    /// matched; GSSAPI: once mutual authentication completed (the server's AP-REP).
    bool server_verified() const noexcept { return server_verified_; }
    /// The problem of the last cancel, if it was one the server caused (a finding).
    ClientStep::Problem problem() const noexcept { return problem_; }
    std::string const& mechanism() const noexcept { return mechanism_; }
    /// Every raw response produced so far (for redaction of their base64 forms).
    std::vector<std::string> const& responses() const noexcept { return responses_; }
    /// Password equivalents derived during the exchange, raw (NTLM's NT hash and NTOWFv2,
    /// DIGEST-MD5's H(user:realm:password)): secrets too, for the redactor in every form.
    std::vector<std::string> const& derived_secrets() const noexcept { return derived_secrets_; }

private:
    Client() = default;
    std::string mechanism_;
    Credentials credentials_;
    ClientOptions options_;
    int step_ = 0;
    bool server_verified_ = false;
    std::string scram_client_first_bare_;
    std::string scram_nonce_;
    std::string scram_server_signature_;
    std::string digest_rspauth_;
    ClientStep::Problem problem_ = ClientStep::Problem::none;
    std::vector<std::string> responses_;
    std::vector<std::string> derived_secrets_;
    std::shared_ptr<SecurityContext> gss_context_; ///< GSSAPI, made at the first step
    bool gss_established_ = false;                 ///< GSSAPI: the context is complete
    bool gss_layer_answered_ = false;              ///< GSSAPI: the security layer is chosen
    friend struct ClientAccess;
};

/// The server side, for the emulator.
struct ServerStep {
    enum class Kind {
        challenge, ///< send "334 " + base64(data)
        success,   ///< credentials accepted (235)
        failure,   ///< credentials rejected (535)
        malformed, ///< the client's response could not be parsed (501)
    };
    Kind kind = Kind::challenge;
    std::string data;
    std::string user; ///< on success: the authenticated identity
    /// On success: the index in ServerOptions::accounts of the entry whose credentials
    /// matched (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER), or whose user a token accepted by the
    /// provider's rules names; -1 for none (and for the other mechanisms).
    int account = -1;
};

/// Mechanisms the server side implements: the client list above but GSSAPI.
bool server_implements(std::string_view mechanism) noexcept;

/// How the server judges a bearer token (XOAUTH2, OAUTHBEARER).
enum class TokenRules {
    accounts, ///< only a token of the accounts; a refused one gets the RFC 7628 / Google error
    /// Exchange Online (smtp-facts-additions §3.2): a token of the accounts, or any JWT (the
    /// signature unchecked) for Exchange Online (audience), with SMTP.Send and the XOAUTH2 user
    /// as its user (delegated) or the SMTP.SendAsApp role and a user that is one of the
    /// accounts (app-only), valid at ServerOptions::now. A refused XOAUTH2 token gets the
    /// failure at once, without an error challenge.
    exchange_online,
    /// Gmail (smtp-facts-additions §3.3): a token of the accounts; a refused one gets
    /// Google's error challenge with status 401 for a Google access token ("ya29.": expired
    /// or revoked) and 400 for anything else (not a Google token).
    google,
};

struct ServerOptions {
    std::string hostname = "emulator.invalid"; ///< used in the CRAM-MD5 challenge
    std::vector<Credentials> accounts;         ///< user+password pairs, or user+token
    TokenRules token_rules = TokenRules::accounts;
    std::int64_t now = 0; ///< seconds since the epoch: the clock exchange_online checks with
    std::string login_user_prompt = "Username:";
    std::string login_password_prompt = "Password:";
    std::optional<std::string> nonce; ///< CRAM-MD5 / SCRAM / DIGEST-MD5 server nonce (tests)
    /// NTLM: the CHALLENGE_MESSAGE to send (raw bytes, e.g. a recorded one); none: one built
    /// from `hostname` with a random ServerChallenge.
    std::optional<std::string> ntlm_challenge;
    /// SCRAM-*-PLUS: the binding of the connection the exchange runs on (none: -PLUS fails).
    ChannelBinding channel_binding;
    /// EXTERNAL: the identity established outside SASL (the emulator sets the subject of a
    /// verified client certificate); none: EXTERNAL fails.
    std::optional<std::string> external_identity;
    unsigned scram_iterations = 4096;
    std::string scram_salt = "smtpprobe-salt";
};

class Server {
public:
    static std::optional<Server> create(std::string_view mechanism, ServerOptions options);
    /// The first challenge after "AUTH <MECH>" (empty data for client-first mechanisms).
    ServerStep start();
    /// Handles one decoded client response.
    ServerStep respond(std::string_view response);

private:
    Server() = default;
    std::string mechanism_;
    ServerOptions options_;
    int step_ = 0;
    std::string login_user_;         ///< LOGIN: the user name of the first response
    std::string cram_challenge_;     ///< CRAM-MD5: the challenge sent
    std::string scram_client_first_; ///< SCRAM: the client-first message
    std::string scram_server_first_; ///< SCRAM: the server-first message
    std::string scram_nonce_;        ///< SCRAM: client + server nonce; then the user
    std::string digest_nonce_;       ///< DIGEST-MD5: the nonce sent
    std::string digest_user_;        ///< DIGEST-MD5: the user whose response matched
    std::string ntlm_challenge_;     ///< NTLM: the CHALLENGE message sent
};

} // namespace smtpprobe::sasl
