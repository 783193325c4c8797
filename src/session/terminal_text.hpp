#pragma once
// Server-supplied bytes made safe to show: as escaped evidence, as one line of text, and as
// a whole rendering on a terminal, where a hostile server's ESC, CSI or OSC sequence could
// otherwise clear the screen, retitle the window or write the clipboard.

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

} // namespace smtpprobe
