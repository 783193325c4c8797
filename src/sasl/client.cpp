#include "sasl/client_steps.hpp"
#include "sasl/sasl.hpp"
#include "sasl/scram.hpp"
#include "smtp/ascii.hpp"
#include "smtp/base64.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace smtpprobe::sasl {

using smtp::base64_decode;
using smtp::base64_encode;

namespace detail {
namespace {

constexpr std::size_t max_server_text = 120;

bool contains_secret(std::string_view text, Credentials const& credentials) {
    return (!credentials.password.empty() &&
            text.find(credentials.password) != std::string_view::npos) ||
           (!credentials.token.empty() && text.find(credentials.token) != std::string_view::npos);
}

} // namespace

bool has_control(std::string_view text) noexcept {
    for (char c : text) {
        unsigned char const byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            return true;
        }
    }
    return false;
}

std::string server_text(std::string_view text, Credentials const& credentials) {
    std::string out;
    for (char c : text.substr(0, max_server_text)) {
        out += c >= 0x20 && c <= 0x7e ? c : '?';
    }
    if (text.size() > max_server_text) {
        out += "...";
    }
    out = "\"" + out + "\"";
    // Checked on what would be shown, not on what arrived: the rewriting above can turn a
    // server's near-copy of the password (a control byte where the password has '?') into
    // the password itself (found by tests/fuzz/sasl_fuzz.cpp).
    if (contains_secret(text, credentials) || contains_secret(out, credentials)) {
        return "(text withheld: it contains a credential)";
    }
    return out;
}

} // namespace detail

namespace {

using detail::cancel_with;
using detail::has_control;
using detail::respond_public;
using detail::respond_with;
using detail::server_text;

constexpr int max_steps = 8;
// RFC 5802 §5.1 sets no upper bound; a hostile server could otherwise make the client spin
// for minutes in PBKDF2 on a count it chose.
constexpr unsigned long long max_scram_iterations = 1'000'000;
// 18 random bytes give a 24-character base64 nonce without padding, as in RFC 5802 §5.
constexpr std::size_t scram_nonce_bytes = 18;

ClientStep plain_step(Credentials const& credentials, ClientOptions const& options, int step) {
    if (step > 1) {
        return cancel_with("server sent another challenge after the PLAIN response");
    }
    // RFC 4616 §2: NUL separates the fields, so none of them may contain one.
    std::string_view const nul("\0", 1);
    if (options.authzid.find(nul) != std::string::npos ||
        credentials.user.find(nul) != std::string::npos ||
        credentials.password.find(nul) != std::string::npos) {
        return cancel_with("PLAIN cannot carry a NUL byte in the user name, password or "
                           "authorisation identity");
    }
    std::string data = options.authzid;
    data += '\0';
    data += credentials.user;
    data += '\0';
    data += credentials.password;
    return respond_with(std::move(data));
}

ClientStep login_step(Credentials const& credentials, int step) {
    // draft-murchison-sasl-login: the prompt texts are informational only; the first
    // challenge is answered with the user name, the second with the password.
    if (step == 1) {
        return respond_with(credentials.user);
    }
    if (step == 2) {
        return respond_with(credentials.password);
    }
    return cancel_with("server sent more than two LOGIN prompts");
}

ClientStep cram_md5_step(Credentials const& credentials, int step, std::string_view challenge) {
    if (step > 1) {
        return cancel_with("server sent another challenge after the CRAM-MD5 response");
    }
    // RFC 2195 §2 asks for a "<...>" msg-id, but the digest is defined over whatever the server
    // sent, so only an empty challenge (nothing to bind the response to) is refused.
    if (challenge.empty()) {
        return cancel_with("CRAM-MD5 challenge is empty");
    }
    return respond_with(credentials.user + " " +
                        detail::cram_md5_digest(credentials.password, challenge));
}

ClientStep xoauth2_step(Credentials const& credentials, int step) {
    // Google's XOAUTH2: after a failure the server sends a JSON error as a challenge and
    // expects an empty response before it answers 535.
    if (step > 1) {
        return respond_with({});
    }
    if (has_control(credentials.user) || has_control(credentials.token)) {
        return cancel_with("XOAUTH2 cannot carry a control character in the user name or token");
    }
    return respond_with("user=" + credentials.user + "\x01" + "auth=Bearer " + credentials.token +
                        "\x01\x01");
}

ClientStep oauthbearer_step(Credentials const& credentials, ClientOptions const& options,
                            int step) {
    // RFC 7628 §3.2.3: the error challenge is acknowledged with a single %x01. It carries
    // nothing secret: the transcript shows it as "AQ==", and it is not registered with the
    // redactor (which would otherwise hide every "AQ==" in every output).
    if (step > 1) {
        return respond_public("\x01");
    }
    if (has_control(credentials.user) || has_control(credentials.token) ||
        has_control(options.host)) {
        return cancel_with(
            "OAUTHBEARER cannot carry a control character in the user name, host or token");
    }
    // RFC 7628 §3.1: gs2-header, then kvpairs each closed by %x01, then a final %x01.
    std::string data = credentials.user.empty()
                           ? std::string("n,,")
                           : "n,a=" + detail::scram_escape(credentials.user) + ",";
    data += '\x01';
    if (!options.host.empty()) {
        data += "host=" + options.host + "\x01";
    }
    if (options.port != 0) {
        data += "port=" + std::to_string(options.port) + "\x01";
    }
    data += "auth=Bearer " + credentials.token + "\x01\x01";
    return respond_with(std::move(data));
}

struct ScramState {
    std::string& client_first_bare;
    std::string& client_nonce;
    std::string& server_signature;
    bool& server_verified;
};

/// RFC 5802 §7 gs2-header: "n,," or "n,a=saslname," without channel binding;
/// "p=cb-name,," or "p=cb-name,a=saslname," with it (SCRAM-*-PLUS).
std::optional<std::string> scram_gs2_header(std::string_view authzid,
                                            ChannelBinding const* binding) {
    std::string const flag =
        binding != nullptr ? "p=" + std::string(channel_binding_name(binding->type)) : "n";
    if (authzid.empty()) {
        return flag + ",,";
    }
    std::optional<std::string> prepared = detail::saslprep(authzid);
    if (!prepared || prepared->empty()) {
        return std::nullopt;
    }
    return flag + ",a=" + detail::scram_escape(*prepared) + ",";
}

/// The binding a SCRAM exchange uses: the connection's for -PLUS, none otherwise.
ChannelBinding const* scram_binding(bool plus, ClientOptions const& options) {
    return plus ? &options.channel_binding : nullptr;
}

ClientStep scram_client_first(bool plus, Credentials const& credentials,
                              ClientOptions const& options, ScramState& state) {
    if (plus && (options.channel_binding.type == ChannelBinding::Type::none ||
                 options.channel_binding.data.empty())) {
        return cancel_with("no TLS channel to bind: SCRAM-*-PLUS runs only over TLS");
    }
    std::optional<std::string> const gs2_header =
        scram_gs2_header(options.authzid, scram_binding(plus, options));
    if (!gs2_header) {
        return cancel_with("the authorisation identity contains a character SASLprep prohibits");
    }
    // RFC 5802 §5.1: the user name is SASLprep'ed and the client aborts if that fails or
    // leaves nothing.
    std::optional<std::string> const user = detail::saslprep(credentials.user);
    if (!user) {
        return cancel_with("the user name contains a character SASLprep prohibits");
    }
    if (user->empty()) {
        return cancel_with("SCRAM needs a user name");
    }
    std::string nonce;
    if (!options.nonce.empty()) {
        nonce = options.nonce;
    } else {
        std::optional<std::string> const random = detail::random_bytes(scram_nonce_bytes);
        if (!random) {
            return cancel_with("the random number generator failed");
        }
        nonce = base64_encode(*random);
    }
    if (!detail::is_scram_nonce(nonce)) {
        return cancel_with("the SCRAM client nonce must be printable ASCII without ','");
    }
    state.client_nonce = nonce;
    state.client_first_bare = "n=" + detail::scram_escape(*user) + ",r=" + nonce;
    return respond_with(*gs2_header + state.client_first_bare);
}

ClientStep scram_server_error(std::string_view value, Credentials const& credentials) {
    return cancel_with("server reported SCRAM error " + server_text(value, credentials));
}

ClientStep scram_client_final(detail::ScramHash hash, bool plus, Credentials const& credentials,
                              ClientOptions const& options, std::string_view server_first,
                              ScramState& state) {
    std::optional<std::vector<std::pair<char, std::string_view>>> const attributes =
        detail::scram_attributes(server_first);
    if (attributes && !attributes->empty() && attributes->front().first == 'e') {
        return scram_server_error(attributes->front().second, credentials);
    }
    // RFC 5802 §7: server-first-message = [reserved-mext ","] nonce "," salt ","
    // iteration-count ["," extensions]
    if (attributes && !attributes->empty() && attributes->front().first == 'm') {
        return cancel_with("server requires a SCRAM extension (m=) this client does not know");
    }
    if (!attributes || attributes->size() < 3 || (*attributes)[0].first != 'r' ||
        (*attributes)[1].first != 's' || (*attributes)[2].first != 'i') {
        return cancel_with("malformed SCRAM server-first message");
    }
    std::string_view const nonce = (*attributes)[0].second;
    std::string_view const salt_text = (*attributes)[1].second;
    std::string_view const count_text = (*attributes)[2].second;
    // RFC 5802 §5.1: the server appends its own part to the client's nonce; anything else
    // means a replayed or forged exchange.
    if (state.client_nonce.empty() || nonce.size() <= state.client_nonce.size() ||
        nonce.substr(0, state.client_nonce.size()) != state.client_nonce ||
        !detail::is_scram_nonce(nonce)) {
        return cancel_with("server nonce does not extend the client nonce");
    }
    std::optional<std::string> const salt = base64_decode(salt_text);
    if (!salt) {
        return cancel_with("SCRAM salt is not valid base64");
    }
    unsigned long long iterations = 0;
    auto const [end, ec] =
        std::from_chars(count_text.data(), count_text.data() + count_text.size(), iterations);
    if (count_text.empty() || end != count_text.data() + count_text.size() ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        return cancel_with("SCRAM iteration count is not a number");
    }
    if (ec == std::errc::result_out_of_range || iterations < 1 ||
        iterations > max_scram_iterations) {
        return cancel_with("server asked for " + server_text(count_text, credentials) +
                           " SCRAM iterations; accepted are 1 to " +
                           std::to_string(max_scram_iterations));
    }
    ChannelBinding const* binding = scram_binding(plus, options);
    std::optional<std::string> const gs2_header = scram_gs2_header(options.authzid, binding);
    std::optional<std::string> const password = detail::saslprep(credentials.password);
    if (!gs2_header || !password) {
        return cancel_with("the password contains a character SASLprep prohibits");
    }
    std::optional<detail::ScramKeys> const keys =
        detail::scram_keys(hash, *password, *salt, iterations);
    if (!keys) {
        return cancel_with("libcrypto failed to derive the SCRAM keys");
    }
    // RFC 5802 §3: AuthMessage = client-first-message-bare "," server-first-message ","
    // client-final-message-without-proof; the proof is ClientKey XOR HMAC(StoredKey, it).
    // §7: c= carries the gs2-header followed, with channel binding, by the binding data.
    std::string const cbind_input = *gs2_header + (binding != nullptr ? binding->data : "");
    std::string const without_proof =
        "c=" + base64_encode(cbind_input) + ",r=" + std::string(nonce);
    std::string const auth_message =
        state.client_first_bare + "," + std::string(server_first) + "," + without_proof;
    std::string const client_signature = detail::scram_hmac(hash, keys->stored_key, auth_message);
    std::string const proof = detail::xor_bytes(keys->client_key, client_signature);
    state.server_signature = detail::scram_hmac(hash, keys->server_key, auth_message);
    return respond_with(without_proof + ",p=" + base64_encode(proof));
}

ClientStep scram_final(Credentials const& credentials, std::string_view server_final,
                       ScramState& state) {
    // RFC 5802 §7: server-final-message = (server-error / verifier) ["," extensions]
    std::optional<std::vector<std::pair<char, std::string_view>>> const attributes =
        detail::scram_attributes(server_final);
    if (!attributes || attributes->empty() ||
        (attributes->front().first != 'v' && attributes->front().first != 'e')) {
        return cancel_with("malformed SCRAM server-final message");
    }
    if (attributes->front().first == 'e') {
        return scram_server_error(attributes->front().second, credentials);
    }
    std::optional<std::string> const signature = base64_decode(attributes->front().second);
    if (!signature) {
        return cancel_with("SCRAM server signature is not valid base64");
    }
    // RFC 5802 §9: this check is what authenticates the server to the client.
    if (state.server_signature.empty() ||
        !detail::constant_time_equal(*signature, state.server_signature)) {
        return cancel_with("SCRAM server signature does not match: the server does not know "
                           "the password, or the exchange was altered",
                           ClientStep::Problem::server_proof_mismatch);
    }
    state.server_verified = true;
    // RFC 4954 §4: additional data with success comes as a 334 answered by an empty line.
    return respond_with({});
}

ClientStep scram_step(detail::ScramHash hash, bool plus, Credentials const& credentials,
                      ClientOptions const& options, int step, std::string_view challenge,
                      ScramState& state) {
    switch (step) {
    case 1:
        return scram_client_first(plus, credentials, options, state);
    case 2:
        return scram_client_final(hash, plus, credentials, options, challenge, state);
    case 3:
        return scram_final(credentials, challenge, state);
    default:
        return cancel_with("server sent another challenge after the SCRAM exchange completed");
    }
}

} // namespace

std::optional<Client> Client::create(std::string_view mechanism, Credentials credentials,
                                     ClientOptions options) {
    if (!client_implements(mechanism)) {
        return std::nullopt;
    }
    Client client;
    client.mechanism_ = smtp::to_upper(mechanism);
    client.credentials_ = std::move(credentials);
    client.options_ = std::move(options);
    return client;
}

ClientStep Client::respond(std::string_view challenge) {
    ++step_;
    ClientStep step;
    if (step_ > max_steps) {
        step = cancel_with("server sent more than " + std::to_string(max_steps) + " challenges");
    } else if (responses_.size() != static_cast<std::size_t>(step_ - 1)) {
        // Every step before this one that did not respond was a cancel: the exchange is over.
        step = cancel_with("the exchange was already cancelled");
    } else if (mechanism_ == "PLAIN") {
        step = plain_step(credentials_, options_, step_);
    } else if (mechanism_ == "LOGIN") {
        step = login_step(credentials_, step_);
    } else if (mechanism_ == "CRAM-MD5") {
        step = cram_md5_step(credentials_, step_, challenge);
    } else if (mechanism_ == "XOAUTH2") {
        step = xoauth2_step(credentials_, step_);
    } else if (mechanism_ == "OAUTHBEARER") {
        step = oauthbearer_step(credentials_, options_, step_);
    } else if (std::optional<detail::ScramHash> const hash = detail::scram_hash_for(mechanism_)) {
        ScramState state{scram_client_first_bare_, scram_nonce_, scram_server_signature_,
                         server_verified_};
        step = scram_step(*hash, binds_channel(mechanism_), credentials_, options_, step_,
                          challenge, state);
    } else if (mechanism_ == "DIGEST-MD5") {
        detail::DigestClientState state{digest_rspauth_, server_verified_, derived_secrets_};
        step = detail::digest_md5_step(credentials_, options_, step_, challenge, state);
    } else if (mechanism_ == "NTLM") {
        step = detail::ntlm_step(credentials_, options_, step_, challenge, derived_secrets_);
    } else if (mechanism_ == "GSSAPI") {
        detail::GssClientState state{gss_context_, gss_established_, gss_layer_answered_,
                                     server_verified_};
        step = detail::gssapi_step(credentials_, options_, challenge, state);
    } else if (mechanism_ == "ANONYMOUS") {
        step = detail::anonymous_step(options_, step_);
    } else if (mechanism_ == "EXTERNAL") {
        step = detail::external_step(options_, step_);
    } else {
        step = cancel_with("mechanism not implemented");
    }
    if (step.kind == ClientStep::Kind::respond) {
        responses_.push_back(step.data);
    } else if (step.problem != ClientStep::Problem::none) {
        problem_ = step.problem;
    }
    return step;
}

} // namespace smtpprobe::sasl
