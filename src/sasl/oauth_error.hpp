#pragma once
// The error challenge of a refused bearer token: the 334 a server sends after the XOAUTH2 or
// OAUTHBEARER initial response when it does not accept the token, before the client's
// acknowledgement (an empty line for XOAUTH2, 0x01 for OAUTHBEARER) and the final 535.
//
// Two forms of one JSON object (smtp-facts.md §2.7, §2.8):
//   RFC 7628 §3.2.2:   {"status":"invalid_token","scope":"...","openid-configuration":"..."}
//   Google/Microsoft:  {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}
// Servers also send text that is not JSON, or not base64. The decoder is sans-I/O, bounded
// (however long the challenge and however deep its nesting) and never throws. Every value is
// kept as the bytes the server sent, cut to a bound: the renderers escape them for their format.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe::sasl {

struct OAuthError {
    enum class Form {
        json,       ///< a JSON object: the members below that it holds are set
        not_json,   ///< base64, but the bytes are not a JSON object (`text` holds them)
        not_base64, ///< the challenge text is not base64 (`text` holds it as sent)
        empty,      ///< a bare "334": no error detail at all
    };
    Form form = Form::empty;
    std::optional<std::string> status;               ///< "400", "401", "invalid_token", ...
    std::optional<std::string> schemes;              ///< Google/Microsoft: "Bearer"
    std::optional<std::string> scope;                ///< the scope the token should have
    std::optional<std::string> openid_configuration; ///< RFC 7628: the discovery document URL
    std::string text;       ///< the decoded challenge (at most max_error_text bytes)
    bool truncated = false; ///< `text` or a value was cut to its bound
};

/// At most this many bytes of the decoded challenge are kept in OAuthError::text, and at
/// most max_error_value bytes of each member.
inline constexpr std::size_t max_error_text = 512;
inline constexpr std::size_t max_error_value = 256;
/// Challenges longer than this (base64 text) are not decoded at all, only kept (cut).
inline constexpr std::size_t max_error_challenge = 16384;

/// Decodes the text of a 334 reply (base64, possibly empty). Never throws.
OAuthError decode_oauth_error(std::string_view challenge);

/// What a status of the error challenge means, in a few words ("the token is invalid,
/// expired or revoked"); empty for a status it does not know. RFC 6750 §3.1 error codes and
/// the HTTP status codes Google's XOAUTH2 uses.
std::string_view oauth_status_meaning(std::string_view status) noexcept;

} // namespace smtpprobe::sasl
