#pragma once
// Splits the bytes a client sends into lines, with a bound on the line length. Sans-I/O.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::emulator {

class LineReader {
public:
    struct Line {
        std::string text;      ///< without CRLF or bare LF; only the head when too_long
        bool too_long = false; ///< the line was over the limit and was consumed whole
        bool bare_lf = false;  ///< ended by a LF without a CR before it
    };

    /// Whether a bare LF ends a line (the default, as Postfix before 3.9 and most servers) or
    /// is part of it, only CRLF ending lines (BareLf::part_of_line).
    enum class BareLf { line_end, part_of_line };
    void bare_lf(BareLf mode) noexcept { bare_lf_ = mode; }

    /// max_length: the longest line accepted; head_length: how much of a longer one is kept.
    LineReader(std::size_t max_length, std::size_t head_length)
        : max_length_(max_length), head_length_(head_length) {}

    /// Adds received bytes. The buffer never holds more than one line's worth (plus the bytes
    /// of the current chunk): the middle of an over-long line is dropped as it arrives.
    void feed(std::string_view bytes) {
        in_.append(bytes);
        if (line_end() == std::string::npos && in_.size() > max_length_ + 1) {
            if (!overflow_) {
                overflow_ = true;
                overflow_head_ = in_.substr(0, head_length_);
            }
            in_.clear();
        }
    }

    /// The next complete line, if one has arrived.
    std::optional<Line> next() {
        std::size_t const newline = line_end();
        if (newline == std::string::npos) {
            feed({}); // applies the bound to what is left
            return std::nullopt;
        }
        std::size_t length = newline;
        bool const bare = length == 0 || in_[length - 1] != '\r';
        if (!bare) {
            --length;
        }
        Line line;
        line.bare_lf = bare;
        if (overflow_) {
            overflow_ = false;
            line.text = std::move(overflow_head_);
            line.too_long = true;
        } else {
            line.too_long = length > max_length_;
            line.text.assign(in_, 0, line.too_long ? std::min(length, head_length_) : length);
        }
        in_.erase(0, newline + 1);
        return line;
    }

    /// Removes every byte received but not yet consumed, and returns it as lines (the last
    /// one possibly incomplete), at most max_lines of them.
    std::vector<std::string> take_lines(std::size_t max_lines) {
        std::string const bytes = take_buffered();
        std::vector<std::string> lines;
        std::size_t start = 0;
        while (lines.size() < max_lines && start < bytes.size()) {
            std::size_t end = bytes.find('\n', start);
            end = end == std::string::npos ? bytes.size() : end;
            std::string& line = lines.emplace_back(bytes, start, end - start);
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            start = end + 1;
        }
        return lines;
    }

    /// Removes and returns every byte received but not yet consumed as a line.
    std::string take_buffered() {
        overflow_ = false;
        return std::exchange(in_, {});
    }

private:
    std::size_t max_length_;
    std::size_t head_length_;
    std::string in_;
    bool overflow_ = false;
    std::string overflow_head_;
    BareLf bare_lf_ = BareLf::line_end;

    /// Where the next line's LF is (npos: none yet).
    std::size_t line_end() const {
        if (bare_lf_ == BareLf::line_end)
            return in_.find('\n');
        std::size_t const crlf = in_.find("\r\n");
        return crlf == std::string::npos ? crlf : crlf + 1;
    }
};

} // namespace smtpprobe::emulator
