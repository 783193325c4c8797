// NTLM CHALLENGE_MESSAGE decoding, and the names, versions and clock of what it carries.

#include "sasl/ntlm.hpp"

#include "sasl/ntlm_bytes.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe::sasl::ntlm {
namespace {

using detail::challenge_type;
using detail::fixed_header;
using detail::latin1_to_utf8;
using detail::signature;
using detail::target_info_header;
using detail::u16;
using detail::u32;
using detail::u64;
using detail::utf16le_to_utf8;
using detail::version_header;

constexpr std::uint64_t filetime_per_second = 10'000'000;
constexpr std::int64_t seconds_1601_to_1970 = 11'644'473'600;

DecodeResult failure(Errc error, std::size_t offset, std::string detail) {
    DecodeResult r;
    r.error = error;
    r.offset = offset;
    r.detail = std::move(detail);
    return r;
}

std::string n(std::size_t value) {
    return std::to_string(value);
}

struct Field {
    std::string_view name;
    std::size_t length = 0;
    std::size_t offset = 0;
};

Field read_field(std::string_view message, std::size_t at, std::string_view name) {
    return {name, u16(message, at), u32(message, at + 4)};
}

/// nullopt when the field is usable; a failure otherwise.
std::optional<DecodeResult> check_field(Field const& f, std::size_t header, std::size_t size) {
    if (f.length == 0)
        return std::nullopt; // an empty field's offset means nothing (MS-NLMP 2.2.1.2)
    if (f.offset < header)
        return failure(Errc::field_in_header, f.offset,
                       std::string(f.name) + " (" + n(f.length) + " bytes at offset " +
                           n(f.offset) + ") starts inside the " + n(header) + "-byte header");
    if (f.offset > size || f.length > size - f.offset)
        return failure(Errc::field_out_of_range, f.offset,
                       std::string(f.name) + " (" + n(f.length) + " bytes at offset " +
                           n(f.offset) + ") lies outside the " + n(size) + "-byte message");
    return std::nullopt;
}

// AV_PAIR names are UTF-16LE whatever NEGOTIATE_UNICODE says (MS-NLMP 2.2.2.1).
std::optional<DecodeResult> decode_target_info(std::string_view message, Field const& field,
                                               TargetInfo& info) {
    if (field.length == 0)
        return std::nullopt; // its offset means nothing and need not be inside the message
    std::string_view const bytes = message.substr(field.offset, field.length);
    std::size_t pos = 0;
    for (;;) {
        std::size_t const at = field.offset + pos;
        std::size_t const left = bytes.size() - pos;
        if (left == 0)
            return failure(Errc::av_unterminated, at,
                           "the target information (" + n(bytes.size()) +
                               " bytes) ends without MsvAvEOL");
        if (left < 4)
            return failure(Errc::av_pair_truncated, at,
                           "an AV_PAIR at offset " + n(at) + " has only " + n(left) +
                               " of its 4 header bytes");
        std::uint16_t const id = u16(bytes, pos);
        std::size_t const length = u16(bytes, pos + 2);
        if (length > left - 4)
            return failure(Errc::av_value_too_long, at,
                           "AV_PAIR " + n(id) + " at offset " + n(at) + " claims " + n(length) +
                               " bytes; " + n(left - 4) + " are left in the target information");
        if (id == static_cast<std::uint16_t>(AvId::eol))
            return std::nullopt;
        if (info.pairs == max_av_pairs)
            return failure(Errc::too_many_av_pairs, at,
                           "more than " + n(max_av_pairs) + " AV_PAIRs in the target information");
        ++info.pairs;
        std::string_view const value = bytes.substr(pos + 4, length);
        std::optional<std::string>* name = nullptr;
        switch (static_cast<AvId>(id)) {
        case AvId::nb_computer_name:
            name = &info.nb_computer_name;
            break;
        case AvId::nb_domain_name:
            name = &info.nb_domain_name;
            break;
        case AvId::dns_computer_name:
            name = &info.dns_computer_name;
            break;
        case AvId::dns_domain_name:
            name = &info.dns_domain_name;
            break;
        case AvId::dns_tree_name:
            name = &info.dns_tree_name;
            break;
        case AvId::target_name:
            name = &info.target_name;
            break;
        case AvId::flags:
            if (length != 4)
                return failure(Errc::av_value_bad_length, at,
                               "MsvAvFlags at offset " + n(at) + " has " + n(length) +
                                   " bytes, not 4");
            if (!info.flags)
                info.flags = u32(value, 0);
            break;
        case AvId::timestamp:
            if (length != 8)
                return failure(Errc::av_value_bad_length, at,
                               "MsvAvTimestamp at offset " + n(at) + " has " + n(length) +
                                   " bytes, not 8");
            if (!info.timestamp)
                info.timestamp = u64(value, 0);
            break;
        default:
            if (std::find(info.other_ids.begin(), info.other_ids.end(), id) == info.other_ids.end())
                info.other_ids.push_back(id);
            break;
        }
        if (name != nullptr) {
            if (length % 2 != 0)
                return failure(Errc::odd_length, at,
                               "AV_PAIR " + n(id) + " at offset " + n(at) + " is UTF-16 of " +
                                   n(length) + " bytes (an odd number)");
            if (!*name)
                *name = utf16le_to_utf8(value);
        }
        pos += 4 + length;
    }
}

} // namespace

std::vector<std::string> flag_names(std::uint32_t flags) {
    static constexpr std::array<std::string_view, 32> names = {
        "NEGOTIATE_UNICODE",
        "NEGOTIATE_OEM",
        "REQUEST_TARGET",
        "",
        "NEGOTIATE_SIGN",
        "NEGOTIATE_SEAL",
        "NEGOTIATE_DATAGRAM",
        "NEGOTIATE_LM_KEY",
        "",
        "NEGOTIATE_NTLM",
        "",
        "ANONYMOUS",
        "NEGOTIATE_OEM_DOMAIN_SUPPLIED",
        "NEGOTIATE_OEM_WORKSTATION_SUPPLIED",
        "",
        "NEGOTIATE_ALWAYS_SIGN",
        "TARGET_TYPE_DOMAIN",
        "TARGET_TYPE_SERVER",
        "",
        "NEGOTIATE_EXTENDED_SESSIONSECURITY",
        "NEGOTIATE_IDENTIFY",
        "",
        "REQUEST_NON_NT_SESSION_KEY",
        "NEGOTIATE_TARGET_INFO",
        "",
        "NEGOTIATE_VERSION",
        "",
        "",
        "",
        "NEGOTIATE_128",
        "NEGOTIATE_KEY_EXCH",
        "NEGOTIATE_56",
    };
    std::vector<std::string> out;
    for (unsigned bit = 0; bit < 32; ++bit) {
        std::uint32_t const mask = std::uint32_t{1} << bit;
        if ((flags & mask) == 0)
            continue;
        if (!names[bit].empty()) {
            out.emplace_back(names[bit]);
        } else {
            char buffer[16];
            std::snprintf(buffer, sizeof buffer, "0x%08x", static_cast<unsigned>(mask));
            out.emplace_back(buffer);
        }
    }
    return out;
}

std::string to_string(Version const& v) {
    return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.build);
}

std::string windows_release(Version const& v) {
    struct Release {
        std::uint8_t major, minor;
        std::uint16_t build;
        std::string_view name;
    };
    static constexpr Release releases[] = {
        {5, 1, 2600, "Windows XP"},
        {5, 2, 3790, "Windows Server 2003"},
        {6, 0, 6000, "Windows Vista"},
        {6, 0, 6001, "Windows Vista SP1 / Windows Server 2008"},
        {6, 0, 6002, "Windows Vista SP2 / Windows Server 2008 SP2"},
        {6, 1, 7600, "Windows 7 / Windows Server 2008 R2"},
        {6, 1, 7601, "Windows 7 SP1 / Windows Server 2008 R2 SP1"},
        {6, 2, 9200, "Windows 8 / Windows Server 2012"},
        {6, 3, 9600, "Windows 8.1 / Windows Server 2012 R2"},
        {10, 0, 14393, "Windows 10 1607 / Windows Server 2016"},
        {10, 0, 17763, "Windows 10 1809 / Windows Server 2019"},
        {10, 0, 20348, "Windows Server 2022"},
        {10, 0, 26100, "Windows 11 24H2 / Windows Server 2025"},
    };
    for (Release const& r : releases)
        if (r.major == v.major && r.minor == v.minor && r.build == v.build)
            return std::string(r.name);
    return {};
}

DecodeResult decode_challenge(std::string_view message) {
    std::size_t const size = message.size();
    if (size < fixed_header)
        return failure(Errc::too_short, size,
                       "the message has " + n(size) + " bytes; a CHALLENGE_MESSAGE has at least " +
                           n(fixed_header));
    if (message.substr(0, signature.size()) != signature)
        return failure(Errc::bad_signature, 0, "the message does not start with \"NTLMSSP\\0\"");
    std::uint32_t const type = u32(message, 8);
    if (type != challenge_type)
        return failure(Errc::not_a_challenge, 8,
                       "MessageType is " + std::to_string(type) + ", not 2 (CHALLENGE)");
    Challenge c;
    c.flags = u32(message, 20);
    for (std::size_t i = 0; i < c.server_challenge.size(); ++i)
        c.server_challenge[i] = static_cast<std::uint8_t>(message[24 + i]);

    bool const has_target_info = (c.flags & flag::negotiate_target_info) != 0;
    if (has_target_info && size < target_info_header)
        return failure(Errc::too_short, size,
                       "NEGOTIATE_TARGET_INFO is set, but the message has " + n(size) +
                           " bytes, too few for TargetInfoFields (" + n(target_info_header) + ")");
    std::size_t const header = has_target_info ? target_info_header : fixed_header;
    Field const name = read_field(message, 12, "the target name");
    Field const info =
        has_target_info ? read_field(message, 40, "the target information") : Field{};
    for (Field const* f : {&name, &info})
        if (std::optional<DecodeResult> bad = check_field(*f, header, size))
            return std::move(*bad);

    // VERSION follows TargetInfoFields when the flag is set (with or without
    // NEGOTIATE_TARGET_INFO: MS-NLMP 4.2.2.3), unless a payload field starts where it would
    // be (an older layout without it).
    bool const version_room = size >= version_header &&
                              (name.length == 0 || name.offset >= version_header) &&
                              (info.length == 0 || info.offset >= version_header);
    if ((c.flags & flag::negotiate_version) != 0 && version_room)
        c.version =
            Version{static_cast<std::uint8_t>(message[48]), static_cast<std::uint8_t>(message[49]),
                    u16(message, 50), static_cast<std::uint8_t>(message[55])};

    if (name.length != 0) {
        std::string_view const bytes = message.substr(name.offset, name.length);
        if ((c.flags & flag::negotiate_unicode) != 0) {
            if (bytes.size() % 2 != 0)
                return failure(Errc::odd_length, name.offset,
                               "the target name is UTF-16 of " + n(bytes.size()) +
                                   " bytes (an odd number)");
            c.target_name = utf16le_to_utf8(bytes);
        } else {
            c.target_name = latin1_to_utf8(bytes);
        }
    }
    if (has_target_info) {
        TargetInfo decoded;
        if (std::optional<DecodeResult> bad = decode_target_info(message, info, decoded))
            return std::move(*bad);
        c.target_info = std::move(decoded);
    }
    DecodeResult r;
    r.challenge = std::move(c);
    return r;
}

std::string filetime_to_iso8601(std::uint64_t filetime) {
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian).
    std::int64_t const seconds =
        static_cast<std::int64_t>(filetime / filetime_per_second) - seconds_1601_to_1970;
    std::int64_t days = seconds / 86400;
    std::int64_t rest = seconds % 86400;
    if (rest < 0) {
        rest += 86400;
        --days;
    }
    std::int64_t const z = days + 719468;
    std::int64_t const era = (z >= 0 ? z : z - 146096) / 146097;
    std::int64_t const doe = z - era * 146097;
    std::int64_t const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    std::int64_t const mp = (5 * doy + 2) / 153;
    std::int64_t const day = doy - (153 * mp + 2) / 5 + 1;
    std::int64_t const month = mp < 10 ? mp + 3 : mp - 9;
    std::int64_t const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    char buffer[72]; // room for any long long the compiler cannot rule out
    std::snprintf(buffer, sizeof buffer, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                  static_cast<long long>(year), static_cast<long long>(month),
                  static_cast<long long>(day), static_cast<long long>(rest / 3600),
                  static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
    return buffer;
}

std::uint64_t unix_to_filetime(std::int64_t unix_seconds) {
    return static_cast<std::uint64_t>(unix_seconds + seconds_1601_to_1970) * filetime_per_second;
}

} // namespace smtpprobe::sasl::ntlm
