#pragma once
// DIGEST-MD5 (RFC 2831, historic since RFC 6331) as far as SMTP AUTH uses it: qop "auth"
// only (no integrity or confidentiality layer), algorithm md5-sess. The parser is bounded:
// RFC 2831's own size limits, a cap on directives, every quoted string checked for its end.
// sasl::Client and sasl::Server run the exchange; this header is what they share and what the
// unit tests check against the RFC 2831 §4 example.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::sasl::digest {

/// RFC 2831 §2.1.1: "The size of a digest-challenge MUST be less than 2048 bytes."
inline constexpr std::size_t max_challenge = 2047;
/// RFC 2831 §2.1.2: "The size of a digest-response MUST be less than 4096 bytes."
inline constexpr std::size_t max_response = 4095;
/// More directives than any real challenge or response has (they have 5 to 11).
inline constexpr std::size_t max_directives = 32;

/// One name=value element of a digest-challenge or digest-response (RFC 2831 §7.1 #rule).
struct Directive {
    std::string name;  ///< lower-cased
    std::string value; ///< unquoted, quoted-pairs resolved
    bool quoted = false;
};

struct Directives {
    std::vector<Directive> list; ///< in order; meaningful only when error is empty
    /// Why the text is malformed, in words: positions, never the server's text (a hostile server
    /// could echo the password in a directive name; found by tests/fuzz/sasl_fuzz.cpp).
    std::string error;
    /// The values of `name`, in order.
    std::vector<std::string const*> all(std::string_view name) const;
};

/// Splits "a=b, c="d\"e"" into directives: names are tokens, values tokens or quoted
/// strings, elements separated by commas with optional spaces and tabs, empty elements
/// skipped. Refuses (error set) input longer than `limit`, more than max_directives, an
/// unterminated quoted string, control characters, and anything that is not a directive.
Directives parse_directives(std::string_view text, std::size_t limit);

/// A digest-challenge (RFC 2831 §2.1.1) as a client needs it.
struct Challenge {
    std::vector<std::string> realms; ///< each "realm" directive; may be empty
    std::string nonce;
    std::vector<std::string> qops; ///< the qop-list; {"auth"} when the directive is absent
    bool utf8 = false;             ///< charset=utf-8
    bool stale = false;
};

struct ChallengeResult {
    std::optional<Challenge> challenge; ///< set exactly when error is empty
    std::string error;
};

/// Parses and checks a digest-challenge: nonce and algorithm exactly once, algorithm
/// md5-sess, qop, charset, maxbuf and stale at most once, charset only utf-8.
ChallengeResult parse_challenge(std::string_view text);

/// The inputs of the response value (RFC 2831 §2.1.2.1), as the client sends them.
struct Input {
    std::string user;     ///< username-value, in the charset of the exchange
    std::string realm;    ///< realm-value ("" when the challenge named none)
    std::string password; ///< in the charset of the exchange
    std::string nonce;
    std::string cnonce;
    std::string nc = "00000001";
    std::string digest_uri; ///< "smtp/mail.example.com"
    std::string authzid;    ///< empty: none
    std::string qop = "auth";
};

/// H({username-value, ":", realm-value, ":", passwd}): 16 raw bytes, a password equivalent.
std::string secret_hash(Input const& input);
/// The "response" directive's 32 hex digits.
std::string response_value(Input const& input);
/// The "rspauth" the server must send back (A2 without "AUTHENTICATE").
std::string rspauth_value(Input const& input);

/// RFC 2831 §2.1.2.1: with charset=utf-8, a string whose characters all lie in ISO 8859-1 is
/// hashed in ISO 8859-1. Returns that form of UTF-8 text, or nullopt when some character lies
/// beyond U+00FF (or the text is not UTF-8).
std::optional<std::string> to_latin1(std::string_view utf8);

/// A quoted-string: quotes around, '"' and '\' escaped.
std::string quote(std::string_view value);

} // namespace smtpprobe::sasl::digest
