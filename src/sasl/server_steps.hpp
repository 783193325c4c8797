#pragma once
// Private to the server side of src/sasl: ServerStep builders, accounts, and the mechanisms
// that live outside server.cpp (SCRAM, DIGEST-MD5, NTLM, ANONYMOUS).

#include "sasl/sasl.hpp"
#include "sasl/scram.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::sasl::detail {

inline ServerStep challenge(std::string data) {
    return {ServerStep::Kind::challenge, std::move(data), {}, -1};
}
inline ServerStep success(std::string user, int account = -1) {
    return {ServerStep::Kind::success, {}, std::move(user), account};
}
inline ServerStep failure() {
    return {ServerStep::Kind::failure, {}, {}, -1};
}
inline ServerStep malformed() {
    return {ServerStep::Kind::malformed, {}, {}, -1};
}

/// `count` bytes from RAND_bytes; throws std::runtime_error when the generator fails.
std::string random_or_throw(std::size_t count);

/// The account `user` logs in to with a password, or null.
Credentials const* find_password_account(std::vector<Credentials> const& accounts,
                                         std::string_view user);

struct ScramServerState {
    std::string& client_first; ///< the whole client-first-message
    std::string& server_first;
    std::string& nonce; ///< client nonce + server nonce; then the authenticated user
};

/// DIGEST-MD5 (RFC 2831, digest_md5_server.cpp): the digest-challenge, with the nonce sent
/// kept in `nonce`.
ServerStep digest_md5_start(ServerOptions const& options, std::string& nonce);
struct DigestServerState {
    std::string& nonce; ///< as sent by digest_md5_start()
    std::string& user;  ///< the user whose response matched
};
/// 1 checks the digest-response and sends rspauth, 2 takes the client's empty answer.
ServerStep digest_md5_respond(ServerOptions const& options, int step, std::string_view response,
                              DigestServerState& state);

/// NTLM (ntlm_server.cpp, NTLMv2 only): 1 answers the NEGOTIATE with a CHALLENGE (kept in
/// `challenge_sent`), 2 checks the AUTHENTICATE; an NTLMv1 response fails.
ServerStep ntlm_respond(ServerOptions const& options, int step, std::string_view response,
                        std::string& challenge_sent);

/// ANONYMOUS (anonymous.cpp): any well-formed trace logs in as "anonymous".
ServerStep anonymous_respond(int step, std::string_view response);

/// EXTERNAL (external.cpp): succeeds as ServerOptions::external_identity (a verified client
/// certificate's subject) when there is one and the authzid is empty or that identity.
ServerStep external_respond(ServerOptions const& options, int step, std::string_view response);

/// The SCRAM server (RFC 5802) at `step`: 1 answers the client-first message, 2 the
/// client-final one, and then the empty response after the server-final data. `plus`:
/// SCRAM-*-PLUS, bound to options.channel_binding.
ServerStep scram_respond(ScramHash hash, bool plus, ServerOptions const& options, int step,
                         std::string_view response, ScramServerState& state);

} // namespace smtpprobe::sasl::detail
