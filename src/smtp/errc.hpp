#pragma once
// Protocol violations the sans-I/O core detects. Conversation turns them into
// std::system_error; the engine reports them as failures with the raw bytes as evidence.

#include <string>
#include <system_error>

namespace smtpprobe::smtp {

enum class errc {
    malformed_reply = 1, ///< a line that is not "NNN", "NNN " or "NNN-" followed by text
    code_mismatch,       ///< a continuation line whose code differs from the first line's
    reply_too_long,      ///< a line longer than the parser's hard limit
    too_many_lines,      ///< a multi-line reply with more lines than the parser's limit
    data_after_starttls, ///< bytes arrived after the STARTTLS 220 and before the handshake
    truncated_reply,     ///< the connection ended in the middle of a reply
    unexpected_code,     ///< a well-formed reply whose code makes no sense for the command
};

std::error_category const& smtp_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), smtp_category()};
}

} // namespace smtpprobe::smtp

template <> struct std::is_error_code_enum<smtpprobe::smtp::errc> : std::true_type {};
