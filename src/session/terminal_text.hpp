#pragma once
// Server-supplied bytes made safe to show: as escaped evidence, as one line of text, and as
// a whole rendering on a terminal, where a hostile server's ESC, CSI or OSC sequence could
// otherwise clear the screen, retitle the window or write the clipboard; and the same bytes
// made text in an HTML page.

#include <string>
#include <string_view>

namespace smtpprobe {

/// Bytes as one printable line: CR, LF and TAB as \r \n \t, other control and non-ASCII
/// octets as \xHH, backslash doubled. For evidence such as data injected after STARTTLS.
std::string escape_bytes(std::string_view bytes);
/// Server-chosen text (UTF-8) for a terminal: C0 and C1 controls, DEL and backslash escaped
/// as in escape_bytes(); everything else, non-ASCII included, kept.
std::string escape_controls(std::string_view text);
/// A whole rendering (the text report, the transcript, the Nagios line) made inert for a
/// terminal: C0 controls other than LF, DEL and the C1 controls (UTF-8 C2 80..C2 9F) as in
/// escape_bytes(); backslash and everything else kept, so text without controls is unchanged.
/// With `keep_sgr`, SGR sequences (ESC [ digits and ';' m: colours, which cannot move the
/// cursor or talk to the terminal) are kept, for the renderer's own colours.
std::string terminal_safe(std::string_view text, bool keep_sgr);
/// Text for any HTML element or attribute value (render/html.hpp): control bytes made visible
/// first, as terminal_safe() does (LF kept), bytes that are not UTF-8 as \xHH, then & < > " '
/// as character references.
std::string html_escape(std::string_view text);

} // namespace smtpprobe
