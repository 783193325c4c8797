#include "smtp/reply.hpp"

#include "smtp/errc.hpp"

#include <algorithm>

namespace smtpprobe::smtp {
namespace {

constexpr std::size_t rfc_max_reply_line = 512; // RFC 5321 §4.5.3.1.5, CRLF included
constexpr std::size_t evidence_limit = 200;

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39.
bool valid_code(std::string_view s) noexcept {
    return s.size() >= 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '5' &&
           is_digit(s[2]);
}

} // namespace

std::size_t enhanced_code_length(std::string_view text) noexcept {
    // RFC 3463 §2: class "." subject "." detail; class 2/4/5, subject 1-3 digits, detail 1-3.
    if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
        return 0;
    std::size_t i = 2;
    std::size_t digits = 0;
    while (i < text.size() && is_digit(text[i]) && digits < 3) {
        ++i;
        ++digits;
    }
    if (digits == 0 || i >= text.size() || text[i] != '.')
        return 0;
    ++i;
    digits = 0;
    while (i < text.size() && is_digit(text[i]) && digits < 3) {
        ++i;
        ++digits;
    }
    if (digits == 0 || (i < text.size() && text[i] != ' ' && text[i] != '\t'))
        return 0;
    return i;
}

std::string Reply::enhanced() const {
    if (lines.empty())
        return {};
    std::string_view first = lines.front();
    std::size_t n = enhanced_code_length(first);
    if (n == 0 || first[0] - '0' != first_digit())
        return {};
    return std::string(first.substr(0, n));
}

std::string Reply::text() const {
    std::string out;
    std::string const status = enhanced();
    for (std::string const& line : lines) {
        std::string_view view = line;
        // Only the same code, whole: "2.1.5" must not be cut out of "2.1.50".
        if (!status.empty() && enhanced_code_length(view) == status.size() &&
            view.starts_with(status)) {
            view.remove_prefix(status.size());
            while (!view.empty() && view.front() == ' ')
                view.remove_prefix(1);
        }
        if (!out.empty() && !view.empty())
            out += ' ';
        out += view;
    }
    return out;
}

std::string Reply::status() const {
    std::string out = std::to_string(code);
    if (std::string const e = enhanced(); !e.empty())
        out += " " + e;
    return out;
}

std::string Reply::summary() const {
    std::string out = status();
    if (std::string const t = text(); !t.empty())
        out += " " + t;
    return out;
}

std::string Reply::first_line() const {
    return std::to_string(code) + (lines.empty() ? "" : " " + lines.front());
}

std::string Reply::wire() const {
    std::string out;
    std::string const number = std::to_string(code);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i != 0)
            out += '\n';
        out += number;
        out += (i + 1 == lines.size()) ? ' ' : '-';
        out += lines[i];
    }
    if (lines.empty())
        out = number;
    return out;
}

std::size_t ReplyParser::feed(std::string_view bytes) {
    std::size_t taken = 0;
    while (!error_ && taken < bytes.size()) {
        std::string_view rest = bytes.substr(taken);
        std::size_t lf = rest.find('\n');
        if (lf == std::string_view::npos) {
            if (partial_line_.size() + rest.size() > limits_.max_line) {
                fail(errc::reply_too_long, partial_line_ + std::string(rest));
                return taken;
            }
            partial_line_ += rest;
            taken += rest.size();
            break;
        }
        if (partial_line_.size() + lf > limits_.max_line) {
            fail(errc::reply_too_long, partial_line_ + std::string(rest.substr(0, lf)));
            return taken;
        }
        partial_line_ += rest.substr(0, lf);
        taken += lf + 1;
        std::string line = std::move(partial_line_);
        partial_line_.clear();
        std::size_t wire_size = line.size() + 1;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        } else {
            ++bare_lf_lines_; // RFC 5321 §2.3.8 requires CRLF; tolerated, reported
        }
        if (wire_size > rfc_max_reply_line)
            ++long_lines_;
        partial_reply_bytes_ += wire_size;
        take_line(line);
    }
    return taken;
}

void ReplyParser::take_line(std::string_view line) {
    // RFC 5321 §4.2.1: "NNN-text" continues, "NNN text" or a bare "NNN" ends the reply.
    if (!valid_code(line) || (line.size() > 3 && line[3] != '-' && line[3] != ' ')) {
        fail(errc::malformed_reply, line);
        return;
    }
    int const code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    bool const last = line.size() == 3 || line[3] == ' ';
    std::string text = line.size() > 4 ? std::string(line.substr(4)) : std::string();
    if (!partial_reply_) {
        partial_reply_ = Reply{code, {}};
    } else if (partial_reply_->code != code) {
        fail(errc::code_mismatch, line);
        return;
    }
    if (partial_reply_->lines.size() >= limits_.max_lines) {
        fail(errc::too_many_lines, line);
        return;
    }
    partial_reply_->lines.push_back(std::move(text));
    if (last) {
        ready_.push_back(std::move(*partial_reply_));
        ready_sizes_.push_back(partial_reply_bytes_);
        ready_bytes_ += partial_reply_bytes_;
        partial_reply_.reset();
        partial_reply_bytes_ = 0;
    }
}

void ReplyParser::fail(std::error_code ec, std::string_view line) {
    error_ = ec;
    error_line_ = std::string(line.substr(0, std::min(line.size(), evidence_limit)));
}

std::optional<Reply> ReplyParser::next() {
    if (ready_.empty())
        return std::nullopt;
    Reply reply = std::move(ready_.front());
    ready_.pop_front();
    ready_bytes_ -= ready_sizes_.front();
    ready_sizes_.pop_front();
    return reply;
}

std::size_t ReplyParser::buffered() const noexcept {
    return ready_bytes_ + partial_reply_bytes_ + partial_line_.size();
}

void ReplyParser::discard_buffered() noexcept {
    partial_line_.clear();
    partial_reply_.reset();
    partial_reply_bytes_ = 0;
    ready_.clear();
    ready_sizes_.clear();
    ready_bytes_ = 0;
}

void ReplyParser::finish() {
    if (!error_ && (partial_reply_ || !partial_line_.empty()))
        fail(errc::truncated_reply, partial_line_);
}

} // namespace smtpprobe::smtp
