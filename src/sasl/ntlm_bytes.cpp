// MS-NLMP's strings: UTF-16LE and ISO 8859-1 to UTF-8 and back (ntlm_bytes.hpp).

#include "sasl/ntlm_bytes.hpp"

#include <vector>

namespace smtpprobe::sasl::ntlm::detail {
namespace {

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

} // namespace

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

} // namespace smtpprobe::sasl::ntlm::detail
