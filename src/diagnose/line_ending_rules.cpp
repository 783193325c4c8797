#include "diagnose/line_ending_rules.hpp"

namespace smtpprobe::diagnose {
namespace {

std::string evidence(LineEndingTest const& t) {
    std::string text = "NOOP ended by a bare " + std::string(to_string(t.ending)) +
                       (t.tls ? " (over TLS)" : " (plaintext)") + ": ";
    if (t.reply)
        text +=
            (t.reply_after_crlf ? "no reply until a CRLF followed, then " : "") + t.reply->wire();
    else
        text += t.error;
    if (t.closed)
        text += " (the server closed the connection)";
    return text;
}

} // namespace

void line_ending_findings(Report const& r, std::vector<Finding>& out) {
    if (!r.line_endings)
        return;
    for (LineEndingTest const& t : r.line_endings->tests) {
        bool const lf = t.ending == LineEnding::lf;
        if (lf && t.behaviour == LineEndingBehaviour::line_end)
            out.push_back(
                {"line_endings.bare_lf_line_end",
                 Severity::info,
                 "The server takes a bare LF as the end of a command line",
                 "RFC 5321 §2.3.8 lets only CRLF end a line, but most servers (Postfix before "
                 "3.9 by default, Exim, Sendmail) also accept a bare LF, for old clients. This "
                 "alone is NOT an SMTP smuggling finding (CVE-2023-51764 class): smuggling "
                 "needs a receiver that also ends DATA at a non-standard sequence such as "
                 "<LF>.<LF> or <LF>.<CR><LF>, and a sending server that passes that sequence "
                 "through. A server may take bare LF in commands and still require "
                 "<CR><LF>.<CR><LF> to end DATA (Postfix 3.9's default "
                 "smtpd_forbid_bare_newline = normalize does exactly that); Wietse Venema "
                 "warns that tests which stop here report false positives (hannob/smtpsmug#8). "
                 "smtpprobe does not test inside DATA (README). For Postfix 3.9, 3.8.5, 3.7.10, "
                 "3.6.14, 3.5.24 and later: smtpd_forbid_bare_newline = normalize (the 3.9 "
                 "default; \"yes\" is its alias) requires <CR><LF>.<CR><LF> and would still "
                 "show this row; \"reject\" refuses bare LF. Mind that "
                 "smtpd_forbid_bare_newline_exclusions ($mynetworks) exempts local clients.",
                 {evidence(t)}});
        else if (lf && t.behaviour == LineEndingBehaviour::rejects)
            out.push_back(
                {"line_endings.bare_lf_rejected",
                 Severity::info,
                 "The server refuses a bare LF",
                 "It answered the command ended by a bare LF with an error" +
                     std::string(t.closed ? " and closed the connection" : "") +
                     ", as Postfix does with smtpd_forbid_bare_newline = reject (\"bare <LF> "
                     "received\", code 550 or smtpd_forbid_bare_newline_reject_code; 521 "
                     "disconnects). Not open to the bare-LF forms of SMTP smuggling; "
                     "but a client or script that ends lines with LF alone (some hand-made "
                     "senders, printf-driven scripts) is refused here.",
                 {evidence(t)}});
        else if (!lf && t.behaviour == LineEndingBehaviour::line_end)
            out.push_back(
                {"line_endings.bare_cr_line_end",
                 Severity::warning,
                 "The server takes a bare CR as the end of a command line",
                 "Few servers do this (RFC 5321 §2.3.8 allows only CRLF). A receiver that ends "
                 "lines at a bare CR may also end DATA at <CR>.<CR>, one of the sequences of "
                 "SMTP smuggling (CVE-2023-51764 class; SEC Consult's <CR>.<CR> variant). This "
                 "check does not prove that: smtpprobe does not test inside DATA. Ask the "
                 "server's vendor how it ends DATA.",
                 {evidence(t)}});
    }
}

} // namespace smtpprobe::diagnose
