#pragma once
// Reading an OAuth 2.0 access token offline (issue 19, the token preflight): a JWT's header
// and claims, decoded without checking the signature; Google's opaque "ya29." tokens
// recognised; anything else "not a JWT". Sans-I/O and without a clock: the caller compares
// the dates with its own clock. Never throws; bounded (max_token_bytes, max_json_depth).
//
// Claim values are the token's bytes: renderers escape them. The token itself is a secret and
// is never kept here, only what was decoded from it.
//
// The provider facts (which audience is Exchange Online, which is Microsoft Graph, what a
// Microsoft identity-platform issuer looks like, SMTP.Send / SMTP.SendAsApp) are shared by the
// preflight rules (diagnose/token_rules) and the emulator's token checks; their sources are in
// data/smtp-facts-additions.md §7.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::sasl {

enum class TokenKind {
    jwt,           ///< JWS compact serialisation: header.claims.signature (RFC 7515 §7.1)
    jwe,           ///< five parts (RFC 7516 §7.1): encrypted, cannot be read
    google_opaque, ///< "ya29." (a Google OAuth 2.0 access token): only Google can read it
    not_jwt,       ///< anything else
};
/// "jwt", "jwe", "google_opaque", "not_jwt" (the JSON form).
std::string_view to_string(TokenKind kind) noexcept;

inline constexpr std::size_t max_token_bytes = 16 * 1024;
inline constexpr int max_json_depth = 8;      ///< nesting of the header or the claims
inline constexpr std::size_t max_list = 64;   ///< entries kept of aud, scp, roles, scope
inline constexpr std::size_t max_value = 512; ///< bytes kept of one claim value

struct TokenClaims {
    std::vector<std::string> aud; ///< a string or a list in the token
    std::string iss;
    std::string tid;                           ///< Microsoft: the tenant
    std::vector<std::string> scp;              ///< Microsoft: space-separated delegated scopes
    std::vector<std::string> roles;            ///< Microsoft: application roles (app-only)
    std::vector<std::string> scope;            ///< RFC 8693 / RFC 9068 "scope" (space-separated)
    std::optional<std::int64_t> exp, nbf, iat; ///< NumericDate, seconds since the epoch
    std::string appid;                         ///< Microsoft v1: the client application
    std::string azp;                           ///< v2 / OpenID: the authorised party
    std::string idtyp;                         ///< Microsoft optional claim: "app" or "user"
    std::string upn, unique_name, preferred_username, email;
    std::string sub, oid;
    std::string ver; ///< Microsoft: "1.0" or "2.0"
    /// Claims of an unexpected type ("exp is not a number"), in the order met.
    std::vector<std::string> problems;

    /// An application token, without a user: idtyp "app", or (without idtyp) no scp and a
    /// roles claim (Microsoft identity platform access tokens).
    bool app_only() const noexcept;
    /// The user principal: the first of upn, unique_name, preferred_username, email; null
    /// when there is none.
    std::string const* user() const noexcept;
    /// The client application: appid, else azp; null when there is none.
    std::string const* application() const noexcept;
    /// exp is at or before `now`.
    bool expired(std::int64_t now) const noexcept;
    /// nbf is after `now`.
    bool not_yet_valid(std::int64_t now) const noexcept;
    /// True when `name` is in scp or scope (ASCII case-insensitive).
    bool has_scope(std::string_view name) const noexcept;
    /// True when `name` is in roles (ASCII case-insensitive).
    bool has_role(std::string_view name) const noexcept;
};

struct BearerToken {
    TokenKind kind = TokenKind::not_jwt;
    std::size_t length = 0; ///< of the token, in bytes
    /// Decoded for a jwt whose header and claims are JSON objects.
    std::optional<TokenClaims> claims;
    std::string alg, typ, kid; ///< the JOSE header (jwt, jwe)
    std::string enc;           ///< jwe: the content encryption
    /// Why a token of JWT shape did not decode, or why it was not read at all (too long).
    std::string error;
};

/// Reads a bearer token. Never throws.
BearerToken read_bearer_token(std::string_view token) noexcept;

/// The base64url alphabet (RFC 4648 §5), without padding, as JWS uses it. nullopt when the
/// text is not base64url.
std::optional<std::string> base64url_decode(std::string_view text);
/// The base64url form of `bytes`, without padding (how a JWS part is written): the inverse of
/// base64url_decode(), for the tests and the fuzz target that build tokens.
std::string base64url_encode(std::string_view bytes);

// Provider facts (data/smtp-facts-additions.md §7).

/// The Exchange Online resource an SMTP AUTH token must be issued for:
/// https://outlook.office.com, https://outlook.office365.com (with or without a trailing "/")
/// or its application id 00000002-0000-0ff1-ce00-000000000000.
bool exchange_online_audience(std::string_view aud) noexcept;
/// Microsoft Graph (https://graph.microsoft.com, 00000003-0000-0000-c000-000000000000): the
/// most common wrong audience for SMTP.
bool graph_audience(std::string_view aud) noexcept;
/// A Microsoft identity-platform issuer: https://sts.windows.net/{tid}/ (v1.0 tokens) or
/// https://login.microsoftonline.com/{tid}/v2.0 (v2.0 tokens).
bool microsoft_issuer(std::string_view iss) noexcept;
/// A Microsoft token in any way: the issuer, or an Exchange Online or Graph audience.
bool microsoft_token(TokenClaims const& claims) noexcept;
/// The delegated permission SMTP AUTH needs.
inline constexpr std::string_view smtp_send_scope = "SMTP.Send";
/// The application permission (role) SMTP AUTH needs for an app-only token.
inline constexpr std::string_view smtp_send_as_app_role = "SMTP.SendAsApp";
/// The Google prefix of its opaque access tokens.
inline constexpr std::string_view google_access_token_prefix = "ya29.";

} // namespace smtpprobe::sasl
