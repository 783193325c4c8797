#include "sasl/bearer_token.hpp"
#include "sasl/sasl.hpp"
#include "sasl/scram.hpp"
#include "sasl/server_steps.hpp"
#include "smtp/ascii.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace smtpprobe::sasl {

namespace detail {

std::string random_or_throw(std::size_t count) {
    std::optional<std::string> bytes = detail::random_bytes(count);
    if (!bytes) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return std::move(*bytes);
}

Credentials const* find_password_account(std::vector<Credentials> const& accounts,
                                         std::string_view user) {
    for (Credentials const& account : accounts) {
        if (account.user == user && !account.password.empty()) {
            return &account;
        }
    }
    return nullptr;
}

} // namespace detail

namespace {

using detail::challenge;
using detail::failure;
using detail::find_password_account;
using detail::malformed;
using detail::random_or_throw;
using detail::success;

constexpr int finished = -1;

// Google's XOAUTH2 error challenge (developers.google.com/gmail/imap/xoauth2-protocol).
constexpr std::string_view xoauth2_error =
    R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})";
// Gmail's (smtp-facts-additions §3.3): 400 for a token that is not Google's, 401 for a Google
// access token it does not accept (expired or revoked).
constexpr std::string_view google_error_400 =
    R"({"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"})";
constexpr std::string_view google_error_401 =
    R"({"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"})";
// RFC 7628 §3.2.2: the status is the only required member of the error JSON.
constexpr std::string_view oauthbearer_error = R"({"status":"invalid_token"})";

std::uint64_t random_number(std::size_t bytes) {
    std::uint64_t value = 0;
    for (char c : random_or_throw(bytes)) {
        value = value << 8 | static_cast<unsigned char>(c);
    }
    return value;
}

/// The index of the entry of `user` whose password is `password`, or -1. A user may have
/// several entries (an app password and the normal one, each with its own outcome).
int password_account(std::vector<Credentials> const& accounts, std::string_view user,
                     std::string_view password) {
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        if (accounts[i].user == user && !accounts[i].password.empty() &&
            detail::constant_time_equal(accounts[i].password, password)) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

/// The index of the entry holding a bearer token, or -1; with an empty user, any entry
/// holding the token (RFC 7628 §3.1 makes the authzid optional: the token identifies the
/// user).
int token_account(std::vector<Credentials> const& accounts, std::string_view user,
                  std::string_view token) {
    if (token.empty()) {
        return -1;
    }
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        if ((user.empty() || accounts[i].user == user) &&
            detail::constant_time_equal(accounts[i].token, token)) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

/// The first entry of `user` (ASCII case-insensitive, as Exchange compares addresses), or -1.
int user_account(std::vector<Credentials> const& accounts, std::string_view user) {
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        if (smtp::iequals(accounts[i].user, user)) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

/// Exchange Online's rules for a token that is not one of the accounts' (TokenRules).
std::optional<ServerStep> exchange_online_token(ServerOptions const& options, std::string_view user,
                                                std::string_view token) {
    BearerToken const read = read_bearer_token(token);
    if (read.kind != TokenKind::jwt || !read.claims) {
        return std::nullopt;
    }
    TokenClaims const& claims = *read.claims;
    bool const for_exchange =
        std::any_of(claims.aud.begin(), claims.aud.end(),
                    [](std::string const& aud) { return exchange_online_audience(aud); });
    if (!for_exchange || claims.expired(options.now) || claims.not_yet_valid(options.now)) {
        return std::nullopt;
    }
    if (claims.app_only()) {
        // The mailbox must be granted to the application: here, one of the accounts.
        int const account = user_account(options.accounts, user);
        if (!claims.has_role(smtp_send_as_app_role) || account < 0) {
            return std::nullopt;
        }
        return success(std::string(user), account);
    }
    std::string const* token_user = claims.user();
    if (!claims.has_scope(smtp_send_scope) || token_user == nullptr ||
        (!user.empty() && !smtp::iequals(*token_user, user))) {
        return std::nullopt;
    }
    return success(*token_user, user_account(options.accounts, *token_user));
}

/// The outcome of a bearer token for `user` (empty: the token names it): success, or the
/// error challenge (or the failure at once) the token rules prescribe.
ServerStep judge_token(ServerOptions const& options, std::string_view user, std::string_view token,
                       bool xoauth2) {
    std::string_view const error = xoauth2 ? xoauth2_error : oauthbearer_error;
    if (int const account = token_account(options.accounts, user, token); account >= 0) {
        return success(options.accounts[static_cast<std::size_t>(account)].user, account);
    }
    switch (options.token_rules) {
    case TokenRules::accounts:
        break;
    case TokenRules::exchange_online:
        if (std::optional<ServerStep> accepted = exchange_online_token(options, user, token)) {
            return std::move(*accepted);
        }
        // Exchange Online answers a refused XOAUTH2 token with 535 5.7.3 at once.
        return xoauth2 ? failure() : challenge(std::string(error));
    case TokenRules::google:
        return challenge(std::string(
            token.starts_with(google_access_token_prefix) ? google_error_401 : google_error_400));
    }
    return challenge(std::string(error));
}

using KvPairs = std::vector<std::pair<std::string_view, std::string_view>>;

/// RFC 7628 §3.1: *kvpair kvsep, with kvpair = key "=" value kvsep and kvsep = %x01; Google's
/// XOAUTH2 uses the same framing without the gs2-header.
std::optional<KvPairs> parse_kvpairs(std::string_view text) {
    KvPairs pairs;
    while (text != "\x01") {
        std::size_t const end = text.find('\x01');
        if (end == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view const pair = text.substr(0, end);
        std::size_t const equals = pair.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            return std::nullopt;
        }
        pairs.emplace_back(pair.substr(0, equals), pair.substr(equals + 1));
        text.remove_prefix(end + 1);
    }
    return pairs;
}

std::optional<std::string_view> find_value(KvPairs const& pairs, std::string_view key) {
    for (auto const& [name, value] : pairs) {
        if (name == key) {
            return value;
        }
    }
    return std::nullopt;
}

/// The token of an "auth" value: RFC 6750 §2.1 credentials, "Bearer" 1*SP b64token, with
/// the scheme name case-insensitive (RFC 7235 §2.1).
std::optional<std::string_view> bearer_token(std::string_view auth) {
    std::string_view const scheme = "Bearer ";
    if (auth.size() <= scheme.size() || !smtp::iequals(auth.substr(0, scheme.size()), scheme)) {
        return std::nullopt;
    }
    auth.remove_prefix(scheme.size());
    while (!auth.empty() && auth.front() == ' ') {
        auth.remove_prefix(1);
    }
    if (auth.empty()) {
        return std::nullopt;
    }
    return auth;
}

ServerStep plain_respond(ServerOptions const& options, std::string_view response) {
    // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd, authcid and passwd
    // non-empty.
    std::size_t const first = response.find('\0');
    std::size_t const second =
        first == std::string_view::npos ? first : response.find('\0', first + 1);
    if (second == std::string_view::npos || response.find('\0', second + 1) != std::string::npos) {
        return malformed();
    }
    std::string_view const authzid = response.substr(0, first);
    std::string_view const authcid = response.substr(first + 1, second - first - 1);
    std::string_view const password = response.substr(second + 1);
    if (authcid.empty() || password.empty()) {
        return malformed();
    }
    // The emulator grants no proxy rights: an authzid other than the user is refused.
    if (!authzid.empty() && authzid != authcid) {
        return failure();
    }
    int const account = password_account(options.accounts, authcid, password);
    if (account < 0) {
        return failure();
    }
    return success(std::string(authcid), account);
}

bool is_lower_hex(std::string_view text) noexcept {
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

ServerStep cram_md5_respond(ServerOptions const& options, std::string_view challenge_sent,
                            std::string_view response) {
    // RFC 2195 §2: the user name, a space, and the digest as 32 lowercase hex digits. The user
    // name may itself contain spaces, so the digest is what follows the last one.
    std::size_t const space = response.rfind(' ');
    if (space == std::string_view::npos || space == 0) {
        return malformed();
    }
    std::string_view const user = response.substr(0, space);
    std::string_view const digest = response.substr(space + 1);
    if (digest.size() != 32 || !is_lower_hex(digest)) {
        return malformed();
    }
    Credentials const* account = find_password_account(options.accounts, user);
    if (account == nullptr ||
        !detail::constant_time_equal(detail::cram_md5_digest(account->password, challenge_sent),
                                     digest)) {
        return failure();
    }
    return success(std::string(user));
}

ServerStep xoauth2_respond(ServerOptions const& options, int step, std::string_view response) {
    if (step > 1) {
        // After the error challenge the client must send an empty response; 535 follows.
        return response.empty() ? failure() : malformed();
    }
    std::optional<KvPairs> const pairs = parse_kvpairs(response);
    if (!pairs) {
        return malformed();
    }
    std::optional<std::string_view> const user = find_value(*pairs, "user");
    std::optional<std::string_view> const auth = find_value(*pairs, "auth");
    std::optional<std::string_view> const token = auth ? bearer_token(*auth) : std::nullopt;
    if (!user || user->empty() || !token) {
        return malformed();
    }
    return judge_token(options, *user, *token, true);
}

ServerStep oauthbearer_respond(ServerOptions const& options, int step, std::string_view response) {
    if (step > 1) {
        // RFC 7628 §3.2.3: the client acknowledges the error with a single %x01.
        return response == "\x01" ? failure() : malformed();
    }
    // RFC 7628 §3.1: client-resp = gs2-header kvsep *kvpair kvsep; no channel binding.
    std::optional<detail::Gs2Header> const header = detail::parse_gs2_header(response);
    if (!header || header->flag == 'p') {
        return malformed();
    }
    std::string_view const rest = response.substr(header->size);
    if (rest.empty() || rest.front() != '\x01') {
        return malformed();
    }
    std::optional<KvPairs> const pairs = parse_kvpairs(rest.substr(1));
    if (!pairs) {
        return malformed();
    }
    std::optional<std::string_view> const auth = find_value(*pairs, "auth");
    std::optional<std::string_view> const token = auth ? bearer_token(*auth) : std::nullopt;
    if (!token) {
        return malformed();
    }
    return judge_token(options, header->authzid, *token, false);
}

} // namespace

bool server_implements(std::string_view mechanism) noexcept {
    // GSSAPI's server side is a Kerberos acceptor (a keytab, a KDC): not the emulator's.
    return client_implements(mechanism) && !uses_ticket(mechanism);
}

std::optional<Server> Server::create(std::string_view mechanism, ServerOptions options) {
    if (!server_implements(mechanism)) {
        return std::nullopt;
    }
    Server server;
    server.mechanism_ = smtp::to_upper(mechanism);
    server.options_ = std::move(options);
    return server;
}

ServerStep Server::start() {
    step_ = 1;
    login_user_.clear();
    cram_challenge_.clear();
    scram_client_first_.clear();
    scram_server_first_.clear();
    scram_nonce_.clear();
    if (mechanism_ == "LOGIN") {
        return challenge(options_.login_user_prompt);
    }
    if (mechanism_ == "CRAM-MD5") {
        // RFC 2195 §2 suggests "<random.timestamp@hostname>"; with no clock here the second
        // part is random too, which serves the same purpose (a challenge never repeats).
        std::string const local = options_.nonce ? *options_.nonce
                                                 : std::to_string(random_number(8)) + "." +
                                                       std::to_string(random_number(4));
        cram_challenge_ = "<" + local + "@" + options_.hostname + ">";
        return challenge(cram_challenge_);
    }
    if (mechanism_ == "DIGEST-MD5") {
        return detail::digest_md5_start(options_, digest_nonce_);
    }
    return challenge({});
}

ServerStep Server::respond(std::string_view response) {
    if (step_ <= 0) {
        return failure();
    }
    int const step = step_++;
    ServerStep result = malformed();
    if (mechanism_ == "PLAIN") {
        result = step == 1 ? plain_respond(options_, response) : failure();
    } else if (mechanism_ == "LOGIN") {
        if (step == 1) {
            login_user_ = std::string(response);
            result = challenge(options_.login_password_prompt);
        } else {
            int const account = password_account(options_.accounts, login_user_, response);
            result = account >= 0 ? success(login_user_, account) : failure();
        }
    } else if (mechanism_ == "CRAM-MD5") {
        result = step == 1 ? cram_md5_respond(options_, cram_challenge_, response) : failure();
    } else if (mechanism_ == "XOAUTH2") {
        result = xoauth2_respond(options_, step, response);
    } else if (mechanism_ == "OAUTHBEARER") {
        result = oauthbearer_respond(options_, step, response);
    } else if (std::optional<detail::ScramHash> const hash = detail::scram_hash_for(mechanism_)) {
        detail::ScramServerState state{scram_client_first_, scram_server_first_, scram_nonce_};
        result = detail::scram_respond(*hash, binds_channel(mechanism_), options_, step, response,
                                       state);
    } else if (mechanism_ == "DIGEST-MD5") {
        detail::DigestServerState state{digest_nonce_, digest_user_};
        result = detail::digest_md5_respond(options_, step, response, state);
    } else if (mechanism_ == "NTLM") {
        result = detail::ntlm_respond(options_, step, response, ntlm_challenge_);
    } else if (mechanism_ == "ANONYMOUS") {
        result = detail::anonymous_respond(step, response);
    } else if (mechanism_ == "EXTERNAL") {
        result = detail::external_respond(options_, step, response);
    }
    if (result.kind != ServerStep::Kind::challenge) {
        step_ = finished;
    }
    return result;
}

} // namespace smtpprobe::sasl
