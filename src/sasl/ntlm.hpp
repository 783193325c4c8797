#pragma once
// NTLM (MS-NLMP) as far as an information probe needs it, the way nmap's smtp-ntlm-info uses
// it: the NEGOTIATE message (type 1) a client sends first, and a bounded decoder for the
// server's CHALLENGE message (type 2), which names the server (NetBIOS and DNS computer,
// domain and forest names), its clock and its OS version to anyone who asks. No credential is
// involved here: the AUTHENTICATE message (NTLMv2) is in ntlm_auth.hpp.
//
// Sans-I/O and bounded: bytes in, values out. Every offset and length of the message is
// checked against the buffer before it is read; malformed input gives an error value, never
// a read past the buffer, an exception or an allocation larger than the input.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::sasl::ntlm {

/// NegotiateFlags bits (MS-NLMP 2.2.2.5).
namespace flag {
inline constexpr std::uint32_t negotiate_unicode = 0x00000001;
inline constexpr std::uint32_t negotiate_oem = 0x00000002;
inline constexpr std::uint32_t request_target = 0x00000004;
inline constexpr std::uint32_t negotiate_sign = 0x00000010;
inline constexpr std::uint32_t negotiate_seal = 0x00000020;
inline constexpr std::uint32_t negotiate_datagram = 0x00000040;
inline constexpr std::uint32_t negotiate_lm_key = 0x00000080;
inline constexpr std::uint32_t negotiate_ntlm = 0x00000200;
inline constexpr std::uint32_t anonymous = 0x00000800;
inline constexpr std::uint32_t oem_domain_supplied = 0x00001000;
inline constexpr std::uint32_t oem_workstation_supplied = 0x00002000;
inline constexpr std::uint32_t negotiate_always_sign = 0x00008000;
inline constexpr std::uint32_t target_type_domain = 0x00010000;
inline constexpr std::uint32_t target_type_server = 0x00020000;
inline constexpr std::uint32_t extended_session_security = 0x00080000;
inline constexpr std::uint32_t negotiate_identify = 0x00100000;
inline constexpr std::uint32_t request_non_nt_session_key = 0x00400000;
inline constexpr std::uint32_t negotiate_target_info = 0x00800000;
inline constexpr std::uint32_t negotiate_version = 0x02000000;
inline constexpr std::uint32_t negotiate_128 = 0x20000000;
inline constexpr std::uint32_t negotiate_key_exch = 0x40000000;
inline constexpr std::uint32_t negotiate_56 = 0x80000000;
} // namespace flag

/// The names of the bits set in `flags`, lowest bit first, as MS-NLMP spells them without the
/// "NTLMSSP_" prefix ("NEGOTIATE_UNICODE", "TARGET_TYPE_SERVER"); a bit the specification
/// leaves unnamed as its hex value ("0x00000008").
std::vector<std::string> flag_names(std::uint32_t flags);

/// The NegotiateFlags of negotiate_message(): UNICODE, OEM, REQUEST_TARGET, NTLM,
/// ALWAYS_SIGN, EXTENDED_SESSIONSECURITY, VERSION, 128, 56 (the set nmap's smtp-ntlm-info
/// sends). REQUEST_TARGET asks for the target name; VERSION for the server's OS version.
inline constexpr std::uint32_t probe_flags =
    flag::negotiate_unicode | flag::negotiate_oem | flag::request_target | flag::negotiate_ntlm |
    flag::negotiate_always_sign | flag::extended_session_security | flag::negotiate_version |
    flag::negotiate_128 | flag::negotiate_56;

/// A 40-byte NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1) with probe_flags, no domain, no workstation,
/// and a VERSION block of zeros with NTLMRevisionCurrent 15 (the field is for debugging only,
/// MS-NLMP 2.2.2.10). Raw bytes: base64-encode them to send.
std::string negotiate_message();

/// The VERSION structure (MS-NLMP 2.2.2.10): the sender's OS version.
struct Version {
    std::uint8_t major = 0;
    std::uint8_t minor = 0;
    std::uint16_t build = 0;
    std::uint8_t ntlm_revision = 0; ///< 15 (NTLMSSP_REVISION_W2K3) on every current Windows
    bool operator==(Version const&) const = default;
};

/// "10.0.17763"
std::string to_string(Version const& version);
/// The Windows releases that report this version ("Windows 10 1809 / Windows Server 2019"),
/// for the well-known builds; empty for any other.
std::string windows_release(Version const& version);

/// AvId values (MS-NLMP 2.2.2.1).
enum class AvId : std::uint16_t {
    eol = 0,
    nb_computer_name = 1,
    nb_domain_name = 2,
    dns_computer_name = 3,
    dns_domain_name = 4,
    dns_tree_name = 5,
    flags = 6,
    timestamp = 7,
    single_host = 8,
    target_name = 9,
    channel_bindings = 10,
};

/// The decoded TargetInfo (MS-NLMP 2.2.1.2, AV_PAIRs of 2.2.2.1). Names are UTF-8 (converted
/// from UTF-16LE; an unpaired surrogate becomes U+FFFD), exactly as sent: they may contain any
/// character, control characters included, so a renderer must escape them.
struct TargetInfo {
    std::optional<std::string> nb_computer_name;  ///< MsvAvNbComputerName
    std::optional<std::string> nb_domain_name;    ///< MsvAvNbDomainName
    std::optional<std::string> dns_computer_name; ///< MsvAvDnsComputerName (FQDN)
    std::optional<std::string> dns_domain_name;   ///< MsvAvDnsDomainName
    std::optional<std::string> dns_tree_name;     ///< MsvAvDnsTreeName (the forest)
    std::optional<std::string> target_name;       ///< MsvAvTargetName (an SPN; rare in type 2)
    std::optional<std::uint32_t> flags;           ///< MsvAvFlags
    std::optional<std::uint64_t> timestamp;       ///< MsvAvTimestamp: FILETIME, UTC
    /// AvIds present besides the ones above (8 SingleHost, 10 ChannelBindings, unknown ids),
    /// in message order, each once. For every AvId the first value counts; repeats are
    /// ignored (but counted in `pairs`).
    std::vector<std::uint16_t> other_ids;
    std::size_t pairs = 0; ///< AV_PAIRs before MsvAvEOL
    bool operator==(TargetInfo const&) const = default;
};

/// A decoded CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2).
struct Challenge {
    std::uint32_t flags = 0;
    std::array<std::uint8_t, 8> server_challenge{};
    /// TargetName: the server's domain (or computer) name, UTF-8. Absent when the message has
    /// none (length 0); UTF-16LE when NEGOTIATE_UNICODE is set, else OEM bytes, taken as
    /// ISO 8859-1 (the OEM code page is not in the message).
    std::optional<std::string> target_name;
    std::optional<TargetInfo> target_info; ///< when NEGOTIATE_TARGET_INFO is set
    std::optional<Version> version;        ///< when NEGOTIATE_VERSION is set and present
    bool operator==(Challenge const&) const = default;
};

/// Why a message could not be decoded.
enum class Errc {
    none = 0,
    too_short,           ///< shorter than the 32-byte fixed part (or than a field it needs)
    bad_signature,       ///< not "NTLMSSP\0"
    not_a_challenge,     ///< MessageType is not 2
    field_out_of_range,  ///< a payload field (offset + length) lies outside the message
    field_in_header,     ///< a non-empty payload field starts inside the fixed header
    odd_length,          ///< a UTF-16LE field of an odd number of bytes
    av_pair_truncated,   ///< fewer than 4 bytes left for an AV_PAIR header
    av_value_too_long,   ///< an AvLen beyond the end of the TargetInfo field
    av_value_bad_length, ///< MsvAvFlags not 4 bytes, or MsvAvTimestamp not 8
    av_unterminated,     ///< TargetInfo ends without MsvAvEOL
    too_many_av_pairs,   ///< more AV_PAIRs than max_av_pairs
};

/// A bound on AV_PAIRs: Windows sends 6 to 8; a message with more is refused as malformed.
inline constexpr std::size_t max_av_pairs = 64;

struct DecodeResult {
    std::optional<Challenge> challenge; ///< set exactly when error == Errc::none
    Errc error = Errc::none;
    std::size_t offset = 0; ///< where the problem is, in bytes from the message start
    std::string detail;     ///< the problem in words (no message bytes), e.g. for a report
};

/// Decodes a CHALLENGE_MESSAGE (raw bytes, after base64). Never reads outside `message`.
DecodeResult decode_challenge(std::string_view message);

/// Builds a CHALLENGE_MESSAGE with payload in the usual order (TargetName, then TargetInfo
/// ending in MsvAvEOL) after a 56-byte header (48 without NEGOTIATE_VERSION). Used for test
/// messages and emulator profiles; strings are UTF-8 and written as UTF-16LE under
/// NEGOTIATE_UNICODE (ISO 8859-1 otherwise, '?' for other characters). target_info is written
/// when present, whatever the flags say; version likewise. decode_challenge() of the result
/// gives `challenge` back when the flags match the optional fields and the names are valid
/// UTF-8 (other_ids are written as empty values).
std::string encode_challenge(Challenge const& challenge);

/// MsvAvTimestamp / FILETIME (100 ns ticks since 1601-01-01 UTC) as ISO 8601 UTC to the
/// second: "2024-01-01T00:00:00Z".
std::string filetime_to_iso8601(std::uint64_t filetime);
/// The inverse for whole seconds since the Unix epoch (tests and profiles).
std::uint64_t unix_to_filetime(std::int64_t unix_seconds);

} // namespace smtpprobe::sasl::ntlm
