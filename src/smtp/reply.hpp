#pragma once
// SMTP replies (RFC 5321 §4.2) and an incremental, sans-I/O parser for them.

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace smtpprobe::smtp {

/// One complete SMTP reply: a three-digit code and one or more text lines.
struct Reply {
    int code = 0;                   ///< 200..599
    std::vector<std::string> lines; ///< text after "NNN-" / "NNN ", without CRLF

    /// The RFC 3463 enhanced status code at the start of the first line ("5.7.4"), when
    /// present and its class digit agrees with the reply code's; empty otherwise.
    std::string enhanced() const;
    /// All lines joined by a space, each with its leading enhanced code removed.
    std::string text() const;
    /// The code and the enhanced code when present: "504 5.7.4", "504".
    std::string status() const;
    /// status() and text(): "504 5.7.4 Unrecognized authentication type".
    std::string summary() const;
    /// The code and the first line's text: "454 4.7.0 TLS not available" (the code alone
    /// when there is no text).
    std::string first_line() const;
    /// The reply as it came on the wire, lines joined by "\n" ("504 5.7.4 Unrecognized ...").
    std::string wire() const;

    bool positive() const noexcept { return code >= 200 && code < 400; }
    int first_digit() const noexcept { return code / 100; }
    friend bool operator==(Reply const&, Reply const&) = default;
};

/// Limits that keep a hostile server from growing our buffers without bound.
struct ParserLimits {
    std::size_t max_line = 4096; ///< hard limit per line; RFC 5321 §4.5.3.1.5 allows 512
    std::size_t max_lines = 256; ///< lines per reply
};

/// Incremental reply parser. Never blocks, never reads a clock, never throws.
///
/// Feed it bytes in any split; complete replies come out of next() in order. A line ended by a
/// bare LF is accepted and counted in bare_lf_lines(); a line longer than 512 octets but within
/// the hard limit is accepted and counted in long_lines() (both are reported as notes).
class ReplyParser {
public:
    explicit ReplyParser(ParserLimits limits = {}) : limits_(limits) {}

    /// Appends bytes; returns how many were taken (all of them unless error() gets set, in which
    /// case parsing stops at the offending line).
    std::size_t feed(std::string_view bytes);
    /// Removes and returns the oldest complete reply, if one is ready.
    std::optional<Reply> next();
    /// Bytes received that belong to no complete reply yet, including replies not yet taken.
    std::size_t buffered() const noexcept;
    /// The first protocol violation seen; sticky. Empty while the input is well-formed.
    std::error_code error() const noexcept { return error_; }
    /// The raw text of the line that caused error(), for evidence (bounded to 200 octets).
    std::string const& error_line() const noexcept { return error_line_; }
    /// Drops every buffered byte and reply not yet taken (the counters and error() stay).
    void discard_buffered() noexcept;
    /// Tell the parser the stream ended; sets truncated_reply if a reply was half read.
    void finish();

    std::size_t bare_lf_lines() const noexcept { return bare_lf_lines_; }
    std::size_t long_lines() const noexcept { return long_lines_; }

private:
    void take_line(std::string_view line);
    void fail(std::error_code ec, std::string_view line);

    ParserLimits limits_;
    std::string partial_line_;
    std::optional<Reply> partial_reply_;
    std::size_t partial_reply_bytes_ = 0;
    std::deque<Reply> ready_;
    std::size_t ready_bytes_ = 0;
    std::deque<std::size_t> ready_sizes_;
    std::error_code error_;
    std::string error_line_;
    std::size_t bare_lf_lines_ = 0;
    std::size_t long_lines_ = 0;
};

/// Parses an enhanced status code ("5.7.4") at the start of text; returns its length or 0.
std::size_t enhanced_code_length(std::string_view text) noexcept;

} // namespace smtpprobe::smtp
