#pragma once
// Private to the text renderers (report/text*.cpp): ANSI styles, padding, word-wrapping at
// the page width.

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe::text {

inline constexpr std::size_t width = 100;

struct Style {
    bool on = false;
    std::string wrap(std::string_view code, std::string_view text) const {
        if (!on)
            return std::string(text);
        return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
    }
    std::string bold(std::string_view t) const { return wrap("1", t); }
    std::string red(std::string_view t) const { return wrap("31", t); }
    std::string yellow(std::string_view t) const { return wrap("33", t); }
    std::string green(std::string_view t) const { return wrap("32", t); }
    std::string dim(std::string_view t) const { return wrap("2", t); }
};

inline std::string pad(std::string_view text, std::size_t n) {
    std::string out(text);
    if (out.size() < n)
        out.append(n - out.size(), ' ');
    return out;
}

/// Word-wraps `text` to the page width; continuation lines start with `indent` spaces.
inline std::string wrap(std::string_view text, std::size_t indent, std::size_t first_column) {
    std::string out;
    std::size_t column = first_column;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t j = text.find(' ', i);
        if (j == std::string_view::npos)
            j = text.size();
        std::string_view word = text.substr(i, j - i);
        if (column > indent && column + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
        } else if (column > first_column || (column > indent && !out.empty())) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        i = j + 1;
    }
    return out;
}

inline std::string ms(std::optional<double> const& value) {
    if (!value)
        return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, *value < 10 ? "%.1f ms" : "%.0f ms", *value);
    return buffer;
}

} // namespace smtpprobe::text
