#pragma once
// SASL mechanisms as SMTP uses them (RFC 4954), client and server side, sans-I/O.
//
// Everything here works on *decoded* bytes: the caller base64-decodes the text of a 334 reply
// before handing it in, and base64-encodes what comes out before sending it. Nothing here
// touches a socket or a clock; randomness (nonces) comes from libcrypto's RAND_bytes unless a
// test fixes it through the options.

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
/// implemented (sasl/mechanisms.hpp): PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256,
/// XOAUTH2, OAUTHBEARER.
bool client_implements(std::string_view mechanism) noexcept;
/// True for XOAUTH2 and OAUTHBEARER (they need Credentials::token, not a password).
bool uses_token(std::string_view mechanism) noexcept;

struct ClientOptions {
    std::string host;                 ///< OAUTHBEARER "host=" and nothing else
    unsigned port = 0;                ///< OAUTHBEARER "port="
    std::string authzid;              ///< PLAIN / SCRAM authorisation identity; usually empty
    std::optional<std::string> nonce; ///< SCRAM client nonce; tests fix it, otherwise random
};

/// One step of a client exchange.
struct ClientStep {
    enum class Kind {
        respond, ///< send base64(data) as the next line (data may be empty: send an empty line)
        cancel,  ///< send "*": the challenge made no sense (error says why)
    };
    Kind kind = Kind::respond;
    std::string data;  ///< the raw (decoded) response; a secret, never to be shown
    std::string error; ///< for cancel: why, in words safe to show (no secret)
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

    /// SCRAM: true once the server's signature (v=) has been checked and matched.
    bool server_verified() const noexcept { return server_verified_; }
    std::string const& mechanism() const noexcept { return mechanism_; }
    /// Every raw response produced so far (for redaction of their base64 forms).
    std::vector<std::string> const& responses() const noexcept { return responses_; }

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
    std::vector<std::string> responses_;
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
};

/// Mechanisms the server side implements: the client list above.
bool server_implements(std::string_view mechanism) noexcept;

struct ServerOptions {
    std::string hostname = "emulator.invalid"; ///< used in the CRAM-MD5 challenge
    std::vector<Credentials> accounts;         ///< user+password pairs, or user+token
    std::string login_user_prompt = "Username:";
    std::string login_password_prompt = "Password:";
    std::optional<std::string> nonce; ///< CRAM-MD5 / SCRAM server nonce (tests)
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
};

} // namespace smtpprobe::sasl
