#pragma once
// Commands the probe sends. A command has two forms: what goes on the wire and what may be
// shown (transcripts, reports, errors). Only `shown` is ever logged (STYLE rule 9).

#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::smtp {

struct Command {
    std::string wire;  ///< exact bytes, CRLF included
    std::string shown; ///< safe to print, no CRLF; secrets replaced by a marker
    bool secret = false;
};

/// Which hello a client sent: EHLO, or HELO after the server refused EHLO (RFC 5321 §4.1.1.1).
enum class HelloVerb { ehlo, helo };
/// "EHLO", "HELO".
std::string_view to_string(HelloVerb verb) noexcept;

/// Refuses (std::invalid_argument) arguments that contain CR, LF or NUL: a caller-supplied
/// EHLO name must never smuggle a second command onto the wire.
Command ehlo_command(std::string_view name);
Command helo_command(std::string_view name);
Command starttls_command();
Command quit_command();
Command noop_command();
/// "AUTH <MECH>" without an initial response (RFC 4954 §4).
Command auth_command(std::string_view mechanism);
/// One SASL response line: base64 of `raw`. Marked secret; shown as a marker that says what
/// was removed and its length ("<redacted: 24 bytes of base64>").
Command sasl_response_command(std::string_view raw);
/// One SASL response line that carries no secret (the NTLM NEGOTIATE message of the
/// information probe): base64 of `raw`, shown as sent.
Command public_sasl_response_command(std::string_view raw);
/// The RFC 4954 §4 cancel line "*".
Command cancel_command();
Command rset_command();
/// "MAIL FROM:<address> P1 P2" (RFC 5321 §4.1.1.2; "" gives the null path "<>"). Refuses
/// (std::invalid_argument) an address or parameter with CR, LF or NUL, an address with < or >.
Command mail_command(std::string_view address, std::vector<std::string> const& parameters = {});
/// "RCPT TO:<address>"; refuses like mail_command().
Command rcpt_command(std::string_view address);

} // namespace smtpprobe::smtp
