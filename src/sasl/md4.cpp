// MD4 (RFC 1320 §3): 512-bit blocks, three rounds of sixteen steps on four 32-bit words.

#include "sasl/md4.hpp"

#include <array>
#include <cstdint>

namespace smtpprobe::sasl::detail {
namespace {

using Word = std::uint32_t;

constexpr Word rotate(Word x, int s) noexcept {
    return x << s | x >> (32 - s);
}

constexpr Word f(Word x, Word y, Word z) noexcept {
    return (x & y) | (~x & z);
}
constexpr Word g(Word x, Word y, Word z) noexcept {
    return (x & y) | (x & z) | (y & z);
}
constexpr Word h(Word x, Word y, Word z) noexcept {
    return x ^ y ^ z;
}

void transform(std::array<Word, 4>& state, unsigned char const* block) {
    std::array<Word, 16> x{};
    for (std::size_t i = 0; i < 16; ++i)
        x[i] = Word{block[4 * i]} | Word{block[4 * i + 1]} << 8 | Word{block[4 * i + 2]} << 16 |
               Word{block[4 * i + 3]} << 24;
    Word a = state[0], b = state[1], c = state[2], d = state[3];
    // Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s
    static constexpr int s1[4] = {3, 7, 11, 19};
    for (std::size_t i = 0; i < 16; ++i) {
        Word const t = a + f(b, c, d) + x[i];
        a = d;
        d = c;
        c = b;
        b = rotate(t, s1[i % 4]);
    }
    // Round 2: a = (a + G(b,c,d) + X[k] + 5A827999) <<< s, k = 0,4,8,12,1,5,...
    static constexpr int s2[4] = {3, 5, 9, 13};
    for (std::size_t i = 0; i < 16; ++i) {
        std::size_t const k = (i % 4) * 4 + i / 4;
        Word const t = a + g(b, c, d) + x[k] + 0x5a827999;
        a = d;
        d = c;
        c = b;
        b = rotate(t, s2[i % 4]);
    }
    // Round 3: a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s, k = 0,8,4,12,2,10,...
    static constexpr int s3[4] = {3, 9, 11, 15};
    static constexpr std::size_t k3[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    for (std::size_t i = 0; i < 16; ++i) {
        Word const t = a + h(b, c, d) + x[k3[i]] + 0x6ed9eba1;
        a = d;
        d = c;
        c = b;
        b = rotate(t, s3[i % 4]);
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

} // namespace

std::string md4(std::string_view data) {
    std::array<Word, 4> state{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    // RFC 1320 §3.1-3.2: a 1 bit, zeros to 448 mod 512, then the bit length, little-endian.
    std::string padded(data);
    std::uint64_t const bits = static_cast<std::uint64_t>(data.size()) * 8;
    padded += '\x80';
    while (padded.size() % 64 != 56)
        padded += '\0';
    for (int i = 0; i < 8; ++i)
        padded += static_cast<char>(bits >> (8 * i) & 0xff);
    for (std::size_t at = 0; at < padded.size(); at += 64)
        transform(state, reinterpret_cast<unsigned char const*>(padded.data() + at));
    std::string out;
    for (Word w : state)
        for (int i = 0; i < 4; ++i)
            out += static_cast<char>(w >> (8 * i) & 0xff);
    return out;
}

} // namespace smtpprobe::sasl::detail
