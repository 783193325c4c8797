#include "smtp/base64.hpp"

#include <array>
#include <cstdint>

namespace smtpprobe::smtp {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int invalid = -1;

constexpr std::array<int, 256> make_decode_table() {
    std::array<int, 256> table{};
    for (int& entry : table) {
        entry = invalid;
    }
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    }
    return table;
}

constexpr std::array<int, 256> decode_table = make_decode_table();

int sextet(char c) noexcept {
    return decode_table[static_cast<unsigned char>(c)];
}

} // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t const group =
            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        out += alphabet[group >> 18 & 0x3f];
        out += alphabet[group >> 12 & 0x3f];
        out += alphabet[group >> 6 & 0x3f];
        out += alphabet[group & 0x3f];
    }
    std::size_t const rest = bytes.size() - i;
    if (rest == 0) {
        return out;
    }
    std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) {
        group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    }
    out += alphabet[group >> 18 & 0x3f];
    out += alphabet[group >> 12 & 0x3f];
    out += rest == 2 ? alphabet[group >> 6 & 0x3f] : '=';
    out += '=';
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool const last = i + 4 == text.size();
        // RFC 4648 §3.3: padding may only close the final quantum, as "x===" is never produced.
        std::size_t padding = 0;
        if (last && text[i + 3] == '=') {
            padding = text[i + 2] == '=' ? 2 : 1;
        }
        std::uint32_t group = 0;
        for (std::size_t j = 0; j < 4 - padding; ++j) {
            int const value = sextet(text[i + j]);
            if (value == invalid) {
                return std::nullopt;
            }
            group = group << 6 | static_cast<std::uint32_t>(value);
        }
        // RFC 4648 §3.5 lets a decoder reject non-zero pad bits; the header's contract does not
        // list them, so they are dropped rather than rejected.
        group <<= 6 * padding;
        out += static_cast<char>(group >> 16 & 0xff);
        if (padding < 2) {
            out += static_cast<char>(group >> 8 & 0xff);
        }
        if (padding < 1) {
            out += static_cast<char>(group & 0xff);
        }
    }
    return out;
}

} // namespace smtpprobe::smtp
