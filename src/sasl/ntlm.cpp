#include "sasl/ntlm.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe::sasl::ntlm {
namespace {

constexpr std::string_view signature{"NTLMSSP\0", 8};
constexpr std::uint32_t challenge_type = 2;
constexpr std::size_t fixed_header = 32;       // up to and including ServerChallenge
constexpr std::size_t target_info_header = 48; // + Reserved + TargetInfoFields
constexpr std::size_t version_header = 56;     // + Version
constexpr std::uint64_t filetime_per_second = 10'000'000;
constexpr std::int64_t seconds_1601_to_1970 = 11'644'473'600;

std::uint16_t u16(std::string_view b, std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) |
                                      static_cast<unsigned char>(b[at + 1]) << 8);
}

std::uint32_t u32(std::string_view b, std::size_t at) {
    return static_cast<std::uint32_t>(u16(b, at)) | static_cast<std::uint32_t>(u16(b, at + 2))
                                                        << 16;
}

std::uint64_t u64(std::string_view b, std::size_t at) {
    return static_cast<std::uint64_t>(u32(b, at)) | static_cast<std::uint64_t>(u32(b, at + 4))
                                                        << 32;
}

void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>(v >> 8);
}

void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v & 0xffff));
    put16(out, static_cast<std::uint16_t>(v >> 16));
}

void put64(std::string& out, std::uint64_t v) {
    put32(out, static_cast<std::uint32_t>(v & 0xffffffff));
    put32(out, static_cast<std::uint32_t>(v >> 32));
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | cp >> 6);
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | cp >> 12);
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | cp >> 18);
        out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

constexpr std::uint32_t replacement = 0xfffd;

/// UTF-16LE (even size) to UTF-8; an unpaired surrogate becomes U+FFFD.
std::string utf16le_to_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
        std::uint32_t unit = u16(bytes, i);
        if (unit >= 0xd800 && unit < 0xdc00 && i + 3 < bytes.size()) {
            std::uint32_t const low = u16(bytes, i + 2);
            if (low >= 0xdc00 && low < 0xe000) {
                append_utf8(out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
                i += 2;
                continue;
            }
        }
        append_utf8(out, unit >= 0xd800 && unit < 0xe000 ? replacement : unit);
    }
    return out;
}

std::string latin1_to_utf8(std::string_view bytes) {
    std::string out;
    for (char c : bytes)
        append_utf8(out, static_cast<unsigned char>(c));
    return out;
}

/// UTF-8 to code points; invalid or overlong sequences and surrogates become U+FFFD.
std::vector<std::uint32_t> code_points(std::string_view text) {
    std::vector<std::uint32_t> out;
    std::size_t i = 0;
    while (i < text.size()) {
        unsigned char const lead = static_cast<unsigned char>(text[i]);
        std::size_t const length = lead < 0x80             ? 1
                                   : (lead & 0xe0) == 0xc0 ? 2
                                   : (lead & 0xf0) == 0xe0 ? 3
                                   : (lead & 0xf8) == 0xf0 ? 4
                                                           : 0;
        if (length == 0 || i + length > text.size()) {
            out.push_back(replacement);
            ++i;
            continue;
        }
        std::uint32_t cp = length == 1 ? std::uint32_t{lead} : (lead & (0xffu >> (length + 1)));
        bool valid = true;
        for (std::size_t k = 1; k < length; ++k) {
            unsigned char const c = static_cast<unsigned char>(text[i + k]);
            valid = valid && (c & 0xc0) == 0x80;
            cp = cp << 6 | (c & 0x3f);
        }
        std::uint32_t const minimum[] = {0, 0, 0x80, 0x800, 0x10000};
        if (!valid || cp < minimum[length] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
            out.push_back(replacement);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += length;
    }
    return out;
}

constexpr std::size_t max_field = 0xffff;

std::string encode_string(std::string_view text, bool unicode) {
    std::string out;
    for (std::uint32_t cp : code_points(text)) {
        if (!unicode) {
            out += static_cast<char>(cp <= 0xff ? cp : '?');
        } else if (cp < 0x10000) {
            put16(out, static_cast<std::uint16_t>(cp));
        } else {
            put16(out, static_cast<std::uint16_t>(0xd800 + ((cp - 0x10000) >> 10)));
            put16(out, static_cast<std::uint16_t>(0xdc00 + ((cp - 0x10000) & 0x3ff)));
        }
    }
    // A field's length is 16 bits; cut at a code unit boundary (never inside a pair's first
    // half, which would leave an unpaired surrogate that decodes differently).
    if (out.size() > max_field) {
        std::size_t size = unicode ? max_field - 1 : max_field;
        if (unicode && u16(out, size - 2) >= 0xd800 && u16(out, size - 2) < 0xdc00)
            size -= 2;
        out.resize(size);
    }
    return out;
}

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

std::string negotiate_message() {
    std::string out(signature);
    put32(out, 1); // MessageType: NEGOTIATE
    put32(out, probe_flags);
    constexpr std::uint32_t end = 40; // empty DomainName and Workstation: offset = the end
    for (int field = 0; field < 2; ++field) {
        put16(out, 0);
        put16(out, 0);
        put32(out, end);
    }
    out += std::string(7, '\0'); // Version: 0.0 build 0, Reserved
    out += '\x0f';               // NTLMRevisionCurrent: NTLMSSP_REVISION_W2K3
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

std::string encode_challenge(Challenge const& c) {
    bool const unicode = (c.flags & flag::negotiate_unicode) != 0;
    std::string const name = c.target_name ? encode_string(*c.target_name, unicode) : "";
    std::string info;
    if (c.target_info) {
        TargetInfo const& t = *c.target_info;
        auto pair = [&](AvId id, std::string_view value) {
            if (info.size() + 4 + value.size() + 4 > max_field)
                return; // keep the field within its 16-bit length, room for MsvAvEOL
            put16(info, static_cast<std::uint16_t>(id));
            put16(info, static_cast<std::uint16_t>(value.size()));
            info += value;
        };
        auto name_pair = [&](AvId id, std::optional<std::string> const& value) {
            if (value)
                pair(id, encode_string(*value, true));
        };
        // Windows' order: domain before computer, NetBIOS before DNS, then the clock.
        name_pair(AvId::nb_domain_name, t.nb_domain_name);
        name_pair(AvId::nb_computer_name, t.nb_computer_name);
        name_pair(AvId::dns_domain_name, t.dns_domain_name);
        name_pair(AvId::dns_computer_name, t.dns_computer_name);
        name_pair(AvId::dns_tree_name, t.dns_tree_name);
        name_pair(AvId::target_name, t.target_name);
        if (t.flags) {
            std::string value;
            put32(value, *t.flags);
            pair(AvId::flags, value);
        }
        if (t.timestamp) {
            std::string value;
            put64(value, *t.timestamp);
            pair(AvId::timestamp, value);
        }
        std::vector<std::uint16_t> written;
        for (std::uint16_t id : t.other_ids) {
            bool const known = id <= static_cast<std::uint16_t>(AvId::timestamp) ||
                               id == static_cast<std::uint16_t>(AvId::target_name);
            if (known || std::find(written.begin(), written.end(), id) != written.end())
                continue;
            written.push_back(id);
            pair(static_cast<AvId>(id), "");
        }
        put16(info, 0); // MsvAvEOL
        put16(info, 0);
    }
    std::size_t const header = c.version ? version_header : target_info_header;
    std::string out(signature);
    put32(out, challenge_type);
    put16(out, static_cast<std::uint16_t>(name.size()));
    put16(out, static_cast<std::uint16_t>(name.size()));
    put32(out, static_cast<std::uint32_t>(header));
    put32(out, c.flags);
    for (std::uint8_t b : c.server_challenge)
        out += static_cast<char>(b);
    out += std::string(8, '\0'); // Reserved
    put16(out, static_cast<std::uint16_t>(info.size()));
    put16(out, static_cast<std::uint16_t>(info.size()));
    put32(out, static_cast<std::uint32_t>(header + name.size()));
    if (c.version) {
        out += static_cast<char>(c.version->major);
        out += static_cast<char>(c.version->minor);
        put16(out, c.version->build);
        out += std::string(3, '\0');
        out += static_cast<char>(c.version->ntlm_revision);
    }
    return out + name + info;
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
