// The SCRAM-SHA-1 and SCRAM-SHA-256 server side (RFC 5802, RFC 7677), for the emulator.

#include "sasl/server_steps.hpp"
#include "smtp/base64.hpp"

#include <optional>

namespace smtpprobe::sasl::detail {

using smtp::base64_decode;
using smtp::base64_encode;

namespace {

constexpr std::size_t scram_nonce_bytes = 18;

struct ClientFirst {
    detail::Gs2Header header;
    std::string_view bare;
    std::string user;
    std::string_view nonce;
};

/// RFC 5802 §7: client-first-message = gs2-header client-first-message-bare, and
/// client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions].
/// A reserved-mext is reported as a missing username (the caller refuses it).
std::optional<ClientFirst> parse_client_first(std::string_view message) {
    std::optional<detail::Gs2Header> header = detail::parse_gs2_header(message);
    if (!header) {
        return std::nullopt;
    }
    ClientFirst parsed;
    parsed.header = std::move(*header);
    parsed.bare = message.substr(parsed.header.size);
    std::optional<std::vector<std::pair<char, std::string_view>>> const attributes =
        detail::scram_attributes(parsed.bare);
    if (!attributes || attributes->size() < 2 || (*attributes)[0].first != 'n' ||
        (*attributes)[1].first != 'r') {
        return std::nullopt;
    }
    std::optional<std::string> user = detail::scram_unescape((*attributes)[0].second);
    if (!user || user->empty() || !detail::is_scram_nonce((*attributes)[1].second)) {
        return std::nullopt;
    }
    parsed.user = std::move(*user);
    parsed.nonce = (*attributes)[1].second;
    return parsed;
}

bool starts_with_mext(std::string_view message) {
    std::optional<detail::Gs2Header> const header = detail::parse_gs2_header(message);
    return header && message.substr(header->size, 2) == "m=";
}

ServerStep scram_server_first(bool plus, ServerOptions const& options,
                              std::string_view client_first, ScramServerState& state) {
    // RFC 5802 §5.1: an unknown mandatory extension must make authentication fail.
    if (starts_with_mext(client_first)) {
        return failure();
    }
    std::optional<ClientFirst> const parsed = parse_client_first(client_first);
    if (!parsed) {
        return malformed();
    }
    // RFC 5802 §6: -PLUS needs "p=" naming the binding this connection has; without -PLUS a
    // client claiming channel binding is in use made a mistake ("y", it could and thinks the
    // server cannot, is correct there).
    if (plus) {
        ChannelBinding::Type const type = options.channel_binding.type;
        if (parsed->header.flag != 'p' || type == ChannelBinding::Type::none ||
            parsed->header.cb_name != channel_binding_name(type)) {
            return failure();
        }
    } else if (parsed->header.flag == 'p') {
        return failure();
    }
    std::string const server_nonce =
        options.nonce ? *options.nonce : base64_encode(random_or_throw(scram_nonce_bytes));
    if (!detail::is_scram_nonce(server_nonce)) {
        return failure();
    }
    state.client_first = std::string(client_first);
    state.nonce = std::string(parsed->nonce) + server_nonce;
    state.server_first = "r=" + state.nonce + ",s=" + base64_encode(options.scram_salt) +
                         ",i=" + std::to_string(options.scram_iterations);
    return challenge(state.server_first);
}

ServerStep scram_server_final(detail::ScramHash hash, bool plus, ServerOptions const& options,
                              std::string_view client_final, ScramServerState& state) {
    // RFC 5802 §7: client-final-message = channel-binding "," nonce ["," extensions] ","
    // proof, and the signature covers everything before ",p=".
    std::optional<std::vector<std::pair<char, std::string_view>>> const attributes =
        detail::scram_attributes(client_final);
    std::optional<ClientFirst> const first = parse_client_first(state.client_first);
    if (!attributes || attributes->size() < 3 || (*attributes)[0].first != 'c' ||
        (*attributes)[1].first != 'r' || attributes->back().first != 'p' || !first) {
        return malformed();
    }
    std::optional<std::string> const binding = base64_decode((*attributes)[0].second);
    std::optional<std::string> const proof = base64_decode(attributes->back().second);
    if (!binding || !proof) {
        return malformed();
    }
    // cbind-input is the gs2-header, followed by the binding data with channel binding.
    std::string const expected = state.client_first.substr(0, first->header.size) +
                                 (plus ? options.channel_binding.data : std::string());
    if (*binding != expected || (*attributes)[1].second != state.nonce) {
        return failure();
    }
    if (!first->header.authzid.empty() && first->header.authzid != first->user) {
        return failure();
    }
    Credentials const* account = find_password_account(options.accounts, first->user);
    std::optional<std::string> const password =
        account == nullptr ? std::nullopt : detail::saslprep(account->password);
    std::optional<detail::ScramKeys> const keys =
        password ? detail::scram_keys(hash, *password, options.scram_salt, options.scram_iterations)
                 : std::nullopt;
    if (!keys || proof->size() != keys->client_key.size()) {
        return failure();
    }
    std::string_view const without_proof = client_final.substr(0, client_final.rfind(",p="));
    std::string const auth_message =
        std::string(first->bare) + "," + state.server_first + "," + std::string(without_proof);
    // RFC 5802 §3: ClientKey = ClientProof XOR ClientSignature, and H(ClientKey) must be the
    // StoredKey.
    std::string const client_key =
        detail::xor_bytes(*proof, detail::scram_hmac(hash, keys->stored_key, auth_message));
    if (!detail::constant_time_equal(detail::scram_digest(hash, client_key), keys->stored_key)) {
        return failure();
    }
    state.nonce = first->user;
    return challenge("v=" +
                     base64_encode(detail::scram_hmac(hash, keys->server_key, auth_message)));
}

} // namespace

ServerStep scram_respond(detail::ScramHash hash, bool plus, ServerOptions const& options, int step,
                         std::string_view response, ScramServerState& state) {
    switch (step) {
    case 1:
        return scram_server_first(plus, options, response, state);
    case 2:
        return scram_server_final(hash, plus, options, response, state);
    default:
        // RFC 4954 §4: the server-final data went out as a challenge; the client answers with
        // an empty response.
        return response.empty() ? success(state.nonce) : malformed();
    }
}

} // namespace smtpprobe::sasl::detail
