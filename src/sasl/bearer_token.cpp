#include "sasl/bearer_token.hpp"

#include "smtp/ascii.hpp"
#include "smtp/base64.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace smtpprobe::sasl {
namespace {

using nlohmann::json;

bool base64url_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

std::vector<std::string_view> split_dots(std::string_view text) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t const dot = text.find('.', start);
        if (dot == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, dot - start));
        start = dot + 1;
    }
}

/// The deepest nesting of objects and arrays in `text`, outside strings; stops counting past
/// `limit` (the parser never sees a deeper document).
int json_depth(std::string_view text, int limit) noexcept {
    int depth = 0;
    int deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (char const c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit)
                return deepest;
        } else if (c == '}' || c == ']')
            --depth;
    }
    return deepest;
}

/// A JSON object from a base64url part; `error` says why not.
std::optional<json> decode_object(std::string_view part, char const* what, std::string& error) {
    std::optional<std::string> const bytes = base64url_decode(part);
    if (!bytes) {
        error = std::string("the ") + what + " is not base64url";
        return std::nullopt;
    }
    if (json_depth(*bytes, max_json_depth) > max_json_depth) {
        error = std::string("the ") + what + " nests deeper than " +
                std::to_string(max_json_depth) + " levels";
        return std::nullopt;
    }
    json value = json::parse(*bytes, nullptr, false);
    if (value.is_discarded()) {
        error = std::string("the ") + what + " is not JSON";
        return std::nullopt;
    }
    if (!value.is_object()) {
        error = std::string("the ") + what + " is not a JSON object";
        return std::nullopt;
    }
    return value;
}

std::string bounded(std::string text) {
    if (text.size() > max_value)
        text.resize(max_value);
    return text;
}

/// A string claim; a claim of another type is a problem, an absent one is "".
std::string text_claim(json const& object, char const* name, std::vector<std::string>& problems) {
    auto const it = object.find(name);
    if (it == object.end())
        return {};
    if (!it->is_string()) {
        problems.push_back(std::string(name) + " is not a string");
        return {};
    }
    return bounded(it->get<std::string>());
}

void add_bounded(std::vector<std::string>& list, std::string value) {
    if (list.size() < max_list && !value.empty())
        list.push_back(bounded(std::move(value)));
}

/// "a b  c" -> {"a", "b", "c"}.
std::vector<std::string> split_spaces(std::string_view text) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find(' ', start);
        if (end == std::string_view::npos)
            end = text.size();
        add_bounded(words, std::string(text.substr(start, end - start)));
        start = end + 1;
    }
    return words;
}

/// A claim that is a string or a list of strings (aud, roles).
std::vector<std::string> list_claim(json const& object, char const* name,
                                    std::vector<std::string>& problems) {
    std::vector<std::string> list;
    auto const it = object.find(name);
    if (it == object.end())
        return list;
    if (it->is_string()) {
        add_bounded(list, it->get<std::string>());
        return list;
    }
    if (!it->is_array()) {
        problems.push_back(std::string(name) + " is neither a string nor a list");
        return list;
    }
    for (json const& item : *it) {
        if (item.is_string())
            add_bounded(list, item.get<std::string>());
        else {
            problems.push_back(std::string(name) + " holds something other than a string");
            break;
        }
    }
    return list;
}

/// A space-separated claim (scp, scope); a list is taken too (some issuers send one).
std::vector<std::string> scope_claim(json const& object, char const* name,
                                     std::vector<std::string>& problems) {
    auto const it = object.find(name);
    if (it != object.end() && it->is_string())
        return split_spaces(it->get<std::string>());
    return list_claim(object, name, problems);
}

/// A NumericDate (RFC 7519 §2): a number of seconds, possibly with a fraction.
std::optional<std::int64_t> date_claim(json const& object, char const* name,
                                       std::vector<std::string>& problems) {
    auto const it = object.find(name);
    if (it == object.end())
        return std::nullopt;
    if (it->is_number_integer() && !it->is_number_unsigned())
        return it->get<std::int64_t>();
    if (it->is_number_unsigned()) {
        std::uint64_t const value = it->get<std::uint64_t>();
        if (value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return static_cast<std::int64_t>(value);
    } else if (it->is_number_float()) {
        double const value = it->get<double>();
        if (std::isfinite(value) && std::fabs(value) < 9.0e15)
            return static_cast<std::int64_t>(std::floor(value));
    }
    problems.push_back(std::string(name) + " is not a date (a number of seconds)");
    return std::nullopt;
}

TokenClaims read_claims(json const& c) {
    TokenClaims claims;
    std::vector<std::string>& p = claims.problems;
    claims.aud = list_claim(c, "aud", p);
    claims.iss = text_claim(c, "iss", p);
    claims.tid = text_claim(c, "tid", p);
    claims.scp = scope_claim(c, "scp", p);
    claims.roles = list_claim(c, "roles", p);
    claims.scope = scope_claim(c, "scope", p);
    claims.exp = date_claim(c, "exp", p);
    claims.nbf = date_claim(c, "nbf", p);
    claims.iat = date_claim(c, "iat", p);
    claims.appid = text_claim(c, "appid", p);
    claims.azp = text_claim(c, "azp", p);
    claims.idtyp = text_claim(c, "idtyp", p);
    claims.upn = text_claim(c, "upn", p);
    claims.unique_name = text_claim(c, "unique_name", p);
    claims.preferred_username = text_claim(c, "preferred_username", p);
    claims.email = text_claim(c, "email", p);
    claims.sub = text_claim(c, "sub", p);
    claims.oid = text_claim(c, "oid", p);
    claims.ver = text_claim(c, "ver", p);
    return claims;
}

void read_header(json const& header, BearerToken& token) {
    std::vector<std::string> ignored;
    token.alg = text_claim(header, "alg", ignored);
    token.typ = text_claim(header, "typ", ignored);
    token.kid = text_claim(header, "kid", ignored);
    token.enc = text_claim(header, "enc", ignored);
}

bool in_list(std::vector<std::string> const& list, std::string_view name) noexcept {
    return std::any_of(list.begin(), list.end(),
                       [&](std::string const& item) { return smtp::iequals(item, name); });
}

/// `text` without one trailing "/".
std::string_view without_slash(std::string_view text) noexcept {
    if (!text.empty() && text.back() == '/')
        text.remove_suffix(1);
    return text;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() && smtp::iequals(text.substr(0, prefix.size()), prefix);
}

BearerToken read(std::string_view text) {
    BearerToken token;
    token.length = text.size();
    if (text.size() > max_token_bytes) {
        token.error = "longer than " + std::to_string(max_token_bytes) + " bytes: not read";
        return token;
    }
    if (text.substr(0, google_access_token_prefix.size()) == google_access_token_prefix) {
        token.kind = TokenKind::google_opaque;
        return token;
    }
    std::vector<std::string_view> const parts = split_dots(text);
    bool const shaped = std::all_of(parts.begin(), parts.end(), [](std::string_view part) {
        return std::all_of(part.begin(), part.end(), base64url_char);
    });
    if (!shaped || (parts.size() != 3 && parts.size() != 5) || parts[0].empty())
        return token;
    std::string error;
    std::optional<json> const header = decode_object(parts[0], "header", error);
    if (!header) {
        // Three base64url words that are not a JOSE header: some other dotted token.
        token.error = error;
        return token;
    }
    read_header(*header, token);
    if (parts.size() == 5) {
        token.kind = TokenKind::jwe;
        return token;
    }
    token.kind = TokenKind::jwt;
    std::optional<json> const claims = decode_object(parts[1], "claims part", error);
    if (!claims) {
        token.error = error;
        return token;
    }
    token.claims = read_claims(*claims);
    return token;
}

} // namespace

std::string_view to_string(TokenKind kind) noexcept {
    switch (kind) {
    case TokenKind::jwt:
        return "jwt";
    case TokenKind::jwe:
        return "jwe";
    case TokenKind::google_opaque:
        return "google_opaque";
    case TokenKind::not_jwt:
        break;
    }
    return "not_jwt";
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1)
        return std::nullopt;
    std::string standard;
    standard.reserve(text.size() + 3);
    for (char const c : text) {
        if (!base64url_char(c))
            return std::nullopt;
        standard.push_back(c == '-' ? '+' : c == '_' ? '/' : c);
    }
    while (standard.size() % 4 != 0)
        standard.push_back('=');
    return smtp::base64_decode(standard);
}

std::string base64url_encode(std::string_view bytes) {
    std::string text = smtp::base64_encode(bytes);
    while (!text.empty() && text.back() == '=')
        text.pop_back();
    for (char& c : text)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    return text;
}

BearerToken read_bearer_token(std::string_view token) noexcept {
    try {
        return read(token);
    } catch (...) {
        // Only an allocation can fail here; the token is then simply not read.
        BearerToken unread;
        unread.length = token.size();
        unread.error = "not read (out of memory)";
        return unread;
    }
}

bool TokenClaims::app_only() const noexcept {
    if (smtp::iequals(idtyp, "app"))
        return true;
    if (smtp::iequals(idtyp, "user"))
        return false;
    return scp.empty() && !roles.empty();
}

std::string const* TokenClaims::user() const noexcept {
    for (std::string const* name : {&upn, &unique_name, &preferred_username, &email})
        if (!name->empty())
            return name;
    return nullptr;
}

std::string const* TokenClaims::application() const noexcept {
    if (!appid.empty())
        return &appid;
    return azp.empty() ? nullptr : &azp;
}

bool TokenClaims::expired(std::int64_t now) const noexcept {
    return exp && *exp <= now;
}

bool TokenClaims::not_yet_valid(std::int64_t now) const noexcept {
    return nbf && *nbf > now;
}

bool TokenClaims::has_scope(std::string_view name) const noexcept {
    return in_list(scp, name) || in_list(scope, name);
}

bool TokenClaims::has_role(std::string_view name) const noexcept {
    return in_list(roles, name);
}

bool exchange_online_audience(std::string_view aud) noexcept {
    std::string_view const a = without_slash(aud);
    return smtp::iequals(a, "https://outlook.office.com") ||
           smtp::iequals(a, "https://outlook.office365.com") ||
           smtp::iequals(a, "00000002-0000-0ff1-ce00-000000000000");
}

bool graph_audience(std::string_view aud) noexcept {
    std::string_view const a = without_slash(aud);
    return smtp::iequals(a, "https://graph.microsoft.com") ||
           smtp::iequals(a, "00000003-0000-0000-c000-000000000000");
}

bool microsoft_issuer(std::string_view iss) noexcept {
    return starts_with_nocase(iss, "https://sts.windows.net/") ||
           starts_with_nocase(iss, "https://login.microsoftonline.com/");
}

bool microsoft_token(TokenClaims const& claims) noexcept {
    if (microsoft_issuer(claims.iss))
        return true;
    return std::any_of(claims.aud.begin(), claims.aud.end(), [](std::string const& aud) {
        return exchange_online_audience(aud) || graph_audience(aud);
    });
}

} // namespace smtpprobe::sasl
