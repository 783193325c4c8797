#pragma once
// Private to src/sasl: the libcrypto primitives and SCRAM (RFC 5802, RFC 7677) building blocks
// that client.cpp, server.cpp and scram_server.cpp share. Nothing here is part of the public API.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::sasl::detail {

/// `count` bytes from RAND_bytes; nullopt when the generator fails.
std::optional<std::string> random_bytes(std::size_t count);

/// Equality that does not leak, through timing, where two equal-length strings differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// 32 lowercase hex digits of HMAC-MD5(key, data) (RFC 2195 §2).
std::string cram_md5_digest(std::string_view key, std::string_view data);

/// MD5(data), 16 raw bytes (DIGEST-MD5).
std::string md5(std::string_view data);
/// HMAC-MD5(key, data), 16 raw bytes (CRAM-MD5, NTLMv2); empty when libcrypto refuses.
std::string hmac_md5(std::string_view key, std::string_view data);
/// Bytes as lowercase hex digits.
std::string to_hex(std::string_view bytes);

enum class ScramHash { sha1, sha256 };

/// SCRAM-SHA-1(-PLUS) → sha1, SCRAM-SHA-256(-PLUS) → sha256, anything else → nullopt.
std::optional<ScramHash> scram_hash_for(std::string_view mechanism) noexcept;

/// The keys derived from a password (RFC 5802 §3).
struct ScramKeys {
    std::string client_key; ///< HMAC(SaltedPassword, "Client Key")
    std::string stored_key; ///< H(ClientKey)
    std::string server_key; ///< HMAC(SaltedPassword, "Server Key")
};

/// Derives the keys from an already SASLprep'ed password. nullopt when libcrypto refuses
/// (iterations of 0 or above INT_MAX, or an internal failure).
std::optional<ScramKeys> scram_keys(ScramHash hash, std::string_view password,
                                    std::string_view salt, unsigned long long iterations);

std::string scram_hmac(ScramHash hash, std::string_view key, std::string_view data);
std::string scram_digest(ScramHash hash, std::string_view data);

/// a XOR b; both must have the same length.
std::string xor_bytes(std::string_view a, std::string_view b);

/// SASLprep (RFC 4013), the ASCII subset: printable ASCII and space map to themselves and
/// ASCII control characters (RFC 3454 C.2.1) are prohibited (nullopt). Bytes of 0x80 and
/// above are passed through unchanged, without NFKC or the non-ASCII mappings; that equals
/// full SASLprep whenever the input is already normalised, which is the common case.
std::optional<std::string> saslprep(std::string_view text);

/// RFC 5802 §5.1 saslname escaping: '=' → "=3D", ',' → "=2C".
std::string scram_escape(std::string_view name);
/// The inverse; nullopt on any other '=' sequence or a bare ','.
std::optional<std::string> scram_unescape(std::string_view name);

/// Printable ASCII except ',' (RFC 5802 §7 "printable"), and at least one character.
bool is_scram_nonce(std::string_view nonce) noexcept;

/// Splits "a=x,b=y" into (attribute, value) pairs. nullopt unless every part is a single
/// ASCII letter, '=', and a value (RFC 5802 §7 "attr-val").
std::optional<std::vector<std::pair<char, std::string_view>>>
scram_attributes(std::string_view message);

/// A gs2-header (RFC 5802 §7) parsed off the front of a client-first message.
struct Gs2Header {
    char flag = 'n';      ///< 'n', 'y', or 'p' (channel binding in use)
    std::string cb_name;  ///< with 'p': the channel-binding type named ("tls-exporter", ...)
    std::string authzid;  ///< unescaped; empty when absent
    std::size_t size = 0; ///< bytes of the header including its final ','
};

/// nullopt when `message` does not start with a well-formed gs2-header.
std::optional<Gs2Header> parse_gs2_header(std::string_view message);

} // namespace smtpprobe::sasl::detail
