#include "session/terminal_text.hpp"

namespace smtpprobe {

namespace {

// C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) include CSI, a terminal escape.
bool c1_at(std::string_view text, std::size_t i) {
    return static_cast<unsigned char>(text[i]) == 0xc2 && i + 1 < text.size() &&
           static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(text[i + 1]) <= 0x9f;
}

// The length of the SGR sequence at text[i] (ESC '[' then digits and ';' then 'm'), or 0.
std::size_t sgr_length(std::string_view text, std::size_t i) {
    if (i + 2 >= text.size() || text[i + 1] != '[')
        return 0;
    for (std::size_t j = i + 2; j < text.size() && j < i + 32; ++j) {
        if (text[j] == 'm')
            return j + 1 - i;
        if ((text[j] < '0' || text[j] > '9') && text[j] != ';')
            return 0;
    }
    return 0;
}

/// The length of the UTF-8 sequence at text[i], or 0 when it is not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
    auto const u = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char const c = u(i);
    std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (n == 0 || i + n > text.size())
        return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((u(i + k) & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && u(i + 1) < 0xa0) || (c == 0xed && u(i + 1) >= 0xa0) ||
        (c == 0xf0 && u(i + 1) < 0x90) || (c == 0xf4 && u(i + 1) >= 0x90))
        return 0; // overlong, surrogate, beyond U+10FFFF
    return n;
}

} // namespace

std::string escape_bytes(std::string_view bytes) {
    static char const hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : bytes) {
        unsigned char const u = static_cast<unsigned char>(c);
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\\')
            out += "\\\\";
        else if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else
            out += c;
    }
    return out;
}

std::string escape_controls(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char const u = static_cast<unsigned char>(text[i]);
        if (c1_at(text, i)) {
            out += escape_bytes(text.substr(i, 2));
            ++i;
        } else if (u < 0x20 || u == 0x7f || u == '\\') {
            out += escape_bytes(text.substr(i, 1));
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string terminal_safe(std::string_view text, bool keep_sgr) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char const u = static_cast<unsigned char>(text[i]);
        std::size_t const sgr = keep_sgr && u == 0x1b ? sgr_length(text, i) : 0;
        if (c1_at(text, i)) {
            out += escape_bytes(text.substr(i, 2));
            ++i;
        } else if (sgr > 0) {
            out += text.substr(i, sgr);
            i += sgr - 1;
        } else if ((u < 0x20 && u != '\n') || u == 0x7f) {
            out += escape_bytes(text.substr(i, 1));
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string html_escape(std::string_view raw) {
    std::string const text = terminal_safe(raw, false);
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (std::size_t i = 0; i < text.size(); ++i) {
        char const c = text[i];
        switch (c) {
        case '&':
            out += "&amp;";
            continue;
        case '<':
            out += "&lt;";
            continue;
        case '>':
            out += "&gt;";
            continue;
        case '"':
            out += "&quot;";
            continue;
        case '\'':
            out += "&#39;";
            continue;
        default:
            break;
        }
        if (static_cast<unsigned char>(c) < 0x80) {
            out += c;
        } else if (std::size_t const n = utf8_length(text, i); n > 0) {
            out.append(text, i, n);
            i += n - 1;
        } else {
            out += escape_bytes(text.substr(i, 1));
        }
    }
    return out;
}

} // namespace smtpprobe
