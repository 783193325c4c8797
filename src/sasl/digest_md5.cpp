// DIGEST-MD5 (RFC 2831): the directive parser, the digests, and the client's two steps.

#include "sasl/digest_md5.hpp"

#include "sasl/client_steps.hpp"
#include "sasl/scram.hpp"
#include "smtp/ascii.hpp"
#include "smtp/base64.hpp"

namespace smtpprobe::sasl {
namespace digest {
namespace {

/// RFC 2616 §2.2 token characters.
bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_control(char c) noexcept {
    unsigned char const byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t';
}

std::string hex_md5(std::string_view data) {
    return detail::to_hex(detail::md5(data));
}

/// A1 per RFC 2831 §2.1.2.1 (md5-sess).
std::string a1(Input const& in) {
    std::string out = secret_hash(in) + ":" + in.nonce + ":" + in.cnonce;
    if (!in.authzid.empty())
        out += ":" + in.authzid;
    return out;
}

/// HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))) with KD(k, s) = H(k:s).
std::string digest_with(Input const& in, std::string_view a2) {
    return hex_md5(hex_md5(a1(in)) + ":" + in.nonce + ":" + in.nc + ":" + in.cnonce + ":" + in.qop +
                   ":" + hex_md5(a2));
}

Directives malformed(std::string error) {
    Directives d;
    d.error = std::move(error);
    return d;
}

} // namespace

std::vector<std::string const*> Directives::all(std::string_view name) const {
    std::vector<std::string const*> out;
    for (Directive const& d : list)
        if (d.name == name)
            out.push_back(&d.value);
    return out;
}

Directives parse_directives(std::string_view text, std::size_t limit) {
    if (text.size() > limit)
        return malformed(std::to_string(text.size()) + " bytes, more than the " +
                         std::to_string(limit) + " RFC 2831 allows");
    Directives out;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < text.size() && is_space(text[i]))
            ++i;
    };
    while (i < text.size()) {
        skip_space();
        if (i < text.size() && text[i] == ',') { // an empty list element (#rule)
            ++i;
            continue;
        }
        if (i == text.size())
            break;
        std::size_t const name_start = i;
        while (i < text.size() && is_token_char(text[i]))
            ++i;
        if (i == name_start)
            return malformed("a directive name was expected at byte " + std::to_string(i));
        Directive d;
        d.name = smtp::to_lower(text.substr(name_start, i - name_start));
        skip_space();
        if (i == text.size() || text[i] != '=')
            return malformed("the directive at byte " + std::to_string(name_start) + " has no '='");
        ++i;
        skip_space();
        if (i < text.size() && text[i] == '"') {
            d.quoted = true;
            ++i;
            bool closed = false;
            while (i < text.size()) {
                char c = text[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') { // quoted-pair
                    if (i == text.size())
                        break;
                    c = text[i++];
                }
                if (is_control(c) && c != '\t')
                    return malformed("the directive at byte " + std::to_string(name_start) +
                                     " holds a control character");
                d.value += c;
            }
            if (!closed)
                return malformed("the quoted value of the directive at byte " +
                                 std::to_string(name_start) + " does not end");
        } else {
            std::size_t const value_start = i;
            while (i < text.size() && is_token_char(text[i]))
                ++i;
            d.value = std::string(text.substr(value_start, i - value_start));
        }
        skip_space();
        if (i < text.size() && text[i] != ',')
            return malformed("unexpected character after the directive at byte " +
                             std::to_string(name_start));
        if (out.list.size() == max_directives)
            return malformed("more than " + std::to_string(max_directives) + " directives");
        out.list.push_back(std::move(d));
    }
    return out;
}

ChallengeResult parse_challenge(std::string_view text) {
    ChallengeResult result;
    Directives const d = parse_directives(text, max_challenge);
    if (!d.error.empty()) {
        result.error = d.error;
        return result;
    }
    // RFC 2831 §2.1.1: nonce and algorithm are "required and MUST appear exactly once";
    // qop, maxbuf, charset and stale "at most once"; realm may repeat.
    for (std::string_view once : {"nonce", "algorithm"}) {
        std::size_t const n = d.all(once).size();
        if (n != 1) {
            result.error = std::string(once) + (n == 0 ? " is missing" : " appears more than once");
            return result;
        }
    }
    for (std::string_view at_most_once : {"qop", "maxbuf", "charset", "stale", "cipher"}) {
        if (d.all(at_most_once).size() > 1) {
            result.error = std::string(at_most_once) + " appears more than once";
            return result;
        }
    }
    Challenge c;
    c.nonce = *d.all("nonce").front();
    if (c.nonce.empty()) {
        result.error = "the nonce is empty";
        return result;
    }
    if (!smtp::iequals(*d.all("algorithm").front(), "md5-sess")) {
        result.error = "algorithm is not md5-sess";
        return result;
    }
    for (std::string const* realm : d.all("realm"))
        c.realms.push_back(*realm);
    if (std::vector<std::string const*> const charset = d.all("charset"); !charset.empty()) {
        if (!smtp::iequals(*charset.front(), "utf-8")) {
            result.error = "charset is not utf-8 (the only value RFC 2831 defines)";
            return result;
        }
        c.utf8 = true;
    }
    if (std::vector<std::string const*> const stale = d.all("stale"); !stale.empty())
        c.stale = smtp::iequals(*stale.front(), "true");
    if (std::vector<std::string const*> const qop = d.all("qop"); !qop.empty()) {
        // qop-list = 1#qop-value: commas inside the quoted string.
        std::string_view list = *qop.front();
        while (!list.empty()) {
            std::size_t const comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            while (!item.empty() && is_space(item.front()))
                item.remove_prefix(1);
            while (!item.empty() && is_space(item.back()))
                item.remove_suffix(1);
            if (!item.empty())
                c.qops.push_back(smtp::to_lower(item));
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
        if (c.qops.empty()) {
            result.error = "qop is empty";
            return result;
        }
    } else {
        c.qops.push_back("auth"); // RFC 2831 §2.1.1: the default
    }
    result.challenge = std::move(c);
    return result;
}

std::string secret_hash(Input const& in) {
    return detail::md5(in.user + ":" + in.realm + ":" + in.password);
}

std::string response_value(Input const& in) {
    return digest_with(in, "AUTHENTICATE:" + in.digest_uri);
}

std::string rspauth_value(Input const& in) {
    return digest_with(in, ":" + in.digest_uri);
}

std::optional<std::string> to_latin1(std::string_view utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        unsigned char const lead = static_cast<unsigned char>(utf8[i]);
        if (lead < 0x80) {
            out += static_cast<char>(lead);
            continue;
        }
        // Two-byte sequences from C2 80 (U+0080) to C3 BF (U+00FF) are the rest of Latin-1.
        if ((lead == 0xc2 || lead == 0xc3) && i + 1 < utf8.size() &&
            (static_cast<unsigned char>(utf8[i + 1]) & 0xc0) == 0x80) {
            out += static_cast<char>((lead & 0x03) << 6 |
                                     (static_cast<unsigned char>(utf8[i + 1]) & 0x3f));
            ++i;
            continue;
        }
        return std::nullopt;
    }
    return out;
}

std::string quote(std::string_view value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

} // namespace digest

namespace detail {
namespace {

constexpr std::size_t cnonce_bytes = 16;

/// A string as it is hashed: ISO 8859-1 whenever it fits (RFC 2831 §2.1.2.1), UTF-8 only
/// when the server offered charset=utf-8.
std::optional<std::string> hashed_form(std::string_view text, bool utf8) {
    std::optional<std::string> latin1 = digest::to_latin1(text);
    if (latin1)
        return latin1;
    if (utf8)
        return std::string(text);
    return std::nullopt;
}

ClientStep digest_response(Credentials const& credentials, ClientOptions const& options,
                           std::string_view text, DigestClientState& state) {
    digest::ChallengeResult parsed = digest::parse_challenge(text);
    if (!parsed.challenge)
        return cancel_with("malformed DIGEST-MD5 challenge: " + parsed.error);
    digest::Challenge const& c = *parsed.challenge;
    bool offers_auth = false;
    for (std::string const& qop : c.qops)
        offers_auth = offers_auth || qop == "auth";
    if (!offers_auth)
        return cancel_with("the DIGEST-MD5 challenge does not offer qop \"auth\" (smtpprobe "
                           "negotiates no security layer)");
    if (credentials.user.empty())
        return cancel_with("DIGEST-MD5 needs a user name");
    if (options.host.empty())
        return cancel_with("DIGEST-MD5 needs the server's host name for digest-uri");
    std::string const realm = c.realms.empty() ? std::string() : c.realms.front();
    if (has_control(credentials.user) || has_control(options.authzid) || has_control(realm) ||
        has_control(options.host) || has_control(options.service))
        return cancel_with("DIGEST-MD5 cannot carry a control character in the user name, "
                           "realm, host or authorisation identity");
    // Without charset=utf-8 everything is ISO 8859-1: what does not fit cannot be sent.
    std::optional<std::string> const user = hashed_form(credentials.user, c.utf8);
    std::optional<std::string> const password = hashed_form(credentials.password, c.utf8);
    if (!user || !password)
        return cancel_with("the user name or password has characters beyond ISO 8859-1 and "
                           "the server did not offer charset=utf-8");
    digest::Input in;
    in.user = *user;
    // The realm arrived in the exchange's charset: ISO 8859-1 bytes as they are, or UTF-8.
    in.realm = c.utf8 ? hashed_form(realm, true).value_or(realm) : realm;
    in.password = *password;
    in.nonce = c.nonce;
    if (!options.nonce.empty()) {
        in.cnonce = options.nonce;
    } else {
        std::optional<std::string> const random = random_bytes(cnonce_bytes);
        if (!random)
            return cancel_with("the random number generator failed");
        in.cnonce = smtp::base64_encode(*random);
    }
    in.digest_uri = options.service + "/" + options.host;
    in.authzid = options.authzid;
    std::string const response = digest::response_value(in);
    // The username is sent in the exchange's charset: UTF-8 with charset=utf-8.
    std::string data;
    if (c.utf8)
        data += "charset=utf-8,";
    data += "username=" + digest::quote(c.utf8 ? credentials.user : *user);
    if (!c.realms.empty())
        data += ",realm=" + digest::quote(realm);
    data += ",nonce=" + digest::quote(in.nonce) + ",cnonce=" + digest::quote(in.cnonce) +
            ",nc=" + in.nc + ",qop=auth,digest-uri=" + digest::quote(in.digest_uri) +
            ",response=" + response;
    if (!in.authzid.empty())
        data += ",authzid=" + digest::quote(in.authzid);
    if (data.size() > digest::max_response)
        return cancel_with("the DIGEST-MD5 response would exceed RFC 2831's 4095 bytes");
    state.expected_rspauth = digest::rspauth_value(in);
    std::string const secret = digest::secret_hash(in);
    state.derived_secrets.push_back(secret);
    state.derived_secrets.push_back(to_hex(secret));
    state.derived_secrets.push_back(response);
    return respond_with(std::move(data));
}

ClientStep digest_rspauth(Credentials const& credentials, std::string_view text,
                          DigestClientState& state) {
    digest::Directives const d = digest::parse_directives(text, digest::max_challenge);
    std::vector<std::string const*> const rspauth =
        d.error.empty() ? d.all("rspauth") : std::vector<std::string const*>{};
    if (rspauth.size() != 1)
        return cancel_with("the server answered the DIGEST-MD5 response with " +
                           server_text(text, credentials) + ", not one rspauth");
    // RFC 2831 §2.1.3: the server proves that it knows the password too.
    if (state.expected_rspauth.empty() ||
        !constant_time_equal(smtp::to_lower(*rspauth.front()), state.expected_rspauth))
        return cancel_with("DIGEST-MD5 rspauth does not match: the server does not know the "
                           "password, or the exchange was altered",
                           ClientStep::Problem::server_proof_mismatch);
    state.server_verified = true;
    return respond_with({});
}

} // namespace

ClientStep digest_md5_step(Credentials const& credentials, ClientOptions const& options, int step,
                           std::string_view challenge, DigestClientState& state) {
    switch (step) {
    case 1:
        return digest_response(credentials, options, challenge, state);
    case 2:
        return digest_rspauth(credentials, challenge, state);
    default:
        return cancel_with("server sent another challenge after the DIGEST-MD5 rspauth");
    }
}

} // namespace detail
} // namespace smtpprobe::sasl
