// The DIGEST-MD5 server side (RFC 2831, qop "auth"), for the emulator.

#include "sasl/digest_md5.hpp"
#include "sasl/server_steps.hpp"
#include "smtp/ascii.hpp"
#include "smtp/base64.hpp"

namespace smtpprobe::sasl::detail {
namespace {

constexpr std::size_t nonce_bytes = 16;

/// The single value of `name`, or null when it is absent or repeated.
std::string const* single(digest::Directives const& d, std::string_view name) {
    std::vector<std::string const*> const values = d.all(name);
    return values.size() == 1 ? values.front() : nullptr;
}

bool is_lower_hex32(std::string_view text) noexcept {
    if (text.size() != 32)
        return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

} // namespace

ServerStep digest_md5_start(ServerOptions const& options, std::string& nonce) {
    nonce = options.nonce ? *options.nonce : smtp::base64_encode(random_or_throw(nonce_bytes));
    // Dovecot's form (auth-in-2026.md §3), with the host name as the realm.
    return challenge("realm=" + digest::quote(options.hostname) + ",nonce=" + digest::quote(nonce) +
                     ",qop=\"auth\",charset=utf-8,algorithm=md5-sess");
}

ServerStep digest_md5_respond(ServerOptions const& options, int step, std::string_view response,
                              DigestServerState& state) {
    if (step > 1) // RFC 2831 §2.1.3 in SMTP: the client answers rspauth with an empty line
        return response.empty() ? success(state.user) : malformed();
    digest::Directives const d = digest::parse_directives(response, digest::max_response);
    if (!d.error.empty())
        return malformed();
    // RFC 2831 §2.1.2: these appear exactly once; realm, qop, charset, authzid at most once.
    std::string const* user = single(d, "username");
    std::string const* nonce = single(d, "nonce");
    std::string const* cnonce = single(d, "cnonce");
    std::string const* nc = single(d, "nc");
    std::string const* uri = single(d, "digest-uri");
    std::string const* value = single(d, "response");
    if (user == nullptr || nonce == nullptr || cnonce == nullptr || nc == nullptr ||
        uri == nullptr || value == nullptr || cnonce->empty() || !is_lower_hex32(*value))
        return malformed();
    for (std::string_view at_most_once : {"realm", "qop", "charset", "authzid"})
        if (d.all(at_most_once).size() > 1)
            return malformed();
    std::string const* qop = single(d, "qop");
    std::string const* charset = single(d, "charset");
    std::string const* realm = single(d, "realm");
    std::string const* authzid = single(d, "authzid");
    if ((qop != nullptr && *qop != "auth") || (charset != nullptr && *charset != "utf-8") ||
        *nonce != state.nonce || *nc != "00000001" || !uri->starts_with("smtp/"))
        return malformed();
    // The emulator grants no proxy rights: an authzid other than the user is refused.
    if (authzid != nullptr && *authzid != *user)
        return failure();
    Credentials const* account = find_password_account(options.accounts, *user);
    if (account == nullptr)
        return failure();
    bool const utf8 = charset != nullptr;
    digest::Input in;
    // RFC 2831 §2.1.2.1: with charset=utf-8, what fits in ISO 8859-1 is hashed in it.
    in.user = utf8 ? digest::to_latin1(*user).value_or(*user) : *user;
    std::string const realm_text = realm != nullptr ? *realm : std::string();
    in.realm = utf8 ? digest::to_latin1(realm_text).value_or(realm_text) : realm_text;
    std::optional<std::string> const password = digest::to_latin1(account->password);
    if (!password && !utf8)
        return failure();
    in.password = password.value_or(account->password);
    in.nonce = *nonce;
    in.cnonce = *cnonce;
    in.nc = *nc;
    in.digest_uri = *uri;
    in.authzid = authzid != nullptr ? *authzid : std::string();
    if (!constant_time_equal(digest::response_value(in), *value))
        return failure();
    state.user = *user;
    return challenge("rspauth=" + digest::rspauth_value(in));
}

} // namespace smtpprobe::sasl::detail
