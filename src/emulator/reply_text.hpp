#pragma once
// The reply notation of server profiles (see profile.hpp): checking a stored reply and turning
// it into wire lines.

#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::emulator {

/// True when the line starts with three digits.
bool starts_with_code(std::string_view line) noexcept;

/// The lines of a stored reply ("\n"-separated; a trailing CR is dropped from each).
std::vector<std::string_view> split_lines(std::string_view text);

/// Why a stored reply cannot be rendered, or "" when it can.
std::string reply_problem(std::string_view reply);

/// "{hostname}" and "{client_ip}" replaced in text (raw greetings, which are not replies).
std::string substitute(std::string text, std::string_view hostname, std::string_view client_ip);

/// Turns a stored reply into wire text: "{hostname}" and "{client_ip}" substituted, code
/// prefixes added to plain continuation lines (see the format in profile.hpp), CRLF after
/// every line.
std::string render_reply(std::string_view reply, std::string_view hostname,
                         std::string_view client_ip);

/// The EHLO reply: "250-" + greeting, then each capability line as written ("250 " on the
/// last), with the same substitutions.
std::string render_ehlo(std::string_view greeting, std::vector<std::string> const& lines,
                        std::string_view hostname, std::string_view client_ip);

} // namespace smtpprobe::emulator
