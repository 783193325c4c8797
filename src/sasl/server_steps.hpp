#pragma once
// Private to sasl/server.cpp and sasl/scram_server.cpp: ServerStep builders, accounts, SCRAM.

#include "sasl/sasl.hpp"
#include "sasl/scram.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::sasl::detail {

inline ServerStep challenge(std::string data) {
    return {ServerStep::Kind::challenge, std::move(data), {}};
}
inline ServerStep success(std::string user) {
    return {ServerStep::Kind::success, {}, std::move(user)};
}
inline ServerStep failure() {
    return {ServerStep::Kind::failure, {}, {}};
}
inline ServerStep malformed() {
    return {ServerStep::Kind::malformed, {}, {}};
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

/// The SCRAM server (RFC 5802) at `step`: 1 answers the client-first message, 2 the
/// client-final one, and then the empty response after the server-final data.
ServerStep scram_respond(ScramHash hash, ServerOptions const& options, int step,
                         std::string_view response, ScramServerState& state);

} // namespace smtpprobe::sasl::detail
