#include "emulator/reply_text.hpp"

#include <algorithm>
#include <utility>

namespace smtpprobe::emulator {
namespace {

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    std::size_t at = 0;
    while ((at = text.find(from, at)) != std::string::npos) {
        text.replace(at, from.size(), to);
        at += to.size();
    }
}

} // namespace

bool starts_with_code(std::string_view line) noexcept {
    return line.size() >= 3 && is_digit(line[0]) && is_digit(line[1]) && is_digit(line[2]);
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        lines.push_back(line);
        start = end + 1;
    }
    return lines;
}

std::string reply_problem(std::string_view reply) {
    if (reply.empty()) {
        return "empty reply";
    }
    if (reply.find('\0') != std::string_view::npos) {
        return "a reply must not contain NUL";
    }
    std::vector<std::string_view> lines = split_lines(reply);
    if (!starts_with_code(lines.front())) {
        return "a reply must start with a three-digit code";
    }
    for (std::string_view line : lines) {
        if (line.find('\r') != std::string_view::npos) {
            return "a reply line must not contain CR";
        }
    }
    return {};
}

std::string substitute(std::string text, std::string_view hostname, std::string_view client_ip) {
    replace_all(text, "{hostname}", hostname);
    replace_all(text, "{client_ip}", client_ip);
    return text;
}

std::string render_reply(std::string_view reply, std::string_view hostname,
                         std::string_view client_ip) {
    std::vector<std::string_view> lines = split_lines(reply);
    bool const verbatim = std::all_of(lines.begin(), lines.end(), starts_with_code);
    std::string const code(lines.front().substr(0, 3));
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string line;
        if (verbatim) {
            line = lines[i];
        } else {
            std::string_view text = lines[i];
            if (i == 0) {
                text.remove_prefix(std::min<std::size_t>(text.size(), 4));
            }
            line = code + (i + 1 < lines.size() ? "-" : " ") + std::string(text);
        }
        out += substitute(std::move(line), hostname, client_ip);
        out += "\r\n";
    }
    return out;
}

std::string render_ehlo(std::string_view greeting, std::vector<std::string> const& lines,
                        std::string_view hostname, std::string_view client_ip) {
    std::string wire = render_reply(
        std::string(lines.empty() ? "250 " : "250-") + std::string(greeting), hostname, client_ip);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        wire += render_reply(std::string(i + 1 < lines.size() ? "250-" : "250 ") + lines[i],
                             hostname, client_ip);
    }
    return wire;
}

} // namespace smtpprobe::emulator
