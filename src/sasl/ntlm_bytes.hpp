#pragma once
// Private to sasl/ntlm*.cpp: MS-NLMP's message constants, little-endian integers and strings.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace smtpprobe::sasl::ntlm::detail {

inline constexpr std::string_view signature{"NTLMSSP\0", 8};
inline constexpr std::uint32_t challenge_type = 2;
inline constexpr std::size_t fixed_header = 32;       // up to and including ServerChallenge
inline constexpr std::size_t target_info_header = 48; // + Reserved + TargetInfoFields
inline constexpr std::size_t version_header = 56;     // + Version
inline constexpr std::size_t max_field = 0xffff;

inline std::uint16_t u16(std::string_view b, std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) |
                                      static_cast<unsigned char>(b[at + 1]) << 8);
}

inline std::uint32_t u32(std::string_view b, std::size_t at) {
    return static_cast<std::uint32_t>(u16(b, at)) | static_cast<std::uint32_t>(u16(b, at + 2))
                                                        << 16;
}

inline std::uint64_t u64(std::string_view b, std::size_t at) {
    return static_cast<std::uint64_t>(u32(b, at)) | static_cast<std::uint64_t>(u32(b, at + 4))
                                                        << 32;
}

inline void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>(v >> 8);
}

inline void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v & 0xffff));
    put16(out, static_cast<std::uint16_t>(v >> 16));
}

inline void put64(std::string& out, std::uint64_t v) {
    put32(out, static_cast<std::uint32_t>(v & 0xffffffff));
    put32(out, static_cast<std::uint32_t>(v >> 32));
}

/// UTF-16LE (even size) to UTF-8; an unpaired surrogate becomes U+FFFD.
std::string utf16le_to_utf8(std::string_view bytes);

/// OEM bytes, taken as ISO 8859-1, to UTF-8.
std::string latin1_to_utf8(std::string_view bytes);

/// UTF-8 text as a message field: UTF-16LE when `unicode`, else ISO 8859-1 with '?' for other
/// characters; at most max_field bytes.
std::string encode_string(std::string_view text, bool unicode);

} // namespace smtpprobe::sasl::ntlm::detail
