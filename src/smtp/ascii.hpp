#pragma once
// ASCII case helpers, the one copy: SMTP keywords and SASL mechanism names are ASCII and
// case-insensitive (RFC 5321 §2.4, RFC 4422 §3.1); the C locale functions are not used because
// they depend on the locale.

#include <algorithm>
#include <string>
#include <string_view>

namespace smtpprobe::smtp {

constexpr char ascii_upper(char c) noexcept {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

constexpr char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string to_upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
    return out;
}

inline std::string to_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
    return out;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

/// True when `needle` occurs in `haystack`, ASCII letters compared without case.
constexpr bool icontains(std::string_view haystack, std::string_view needle) noexcept {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                       [](char x, char y) { return ascii_lower(x) == ascii_lower(y); }) !=
           haystack.end();
}

} // namespace smtpprobe::smtp
