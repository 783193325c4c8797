#pragma once
// --line-endings (issue 20 item 5): on a ready session (after EHLO, and after STARTTLS when the
// server offers it: the path mail takes), send NOOP ended by a bare LF, then NOOP ended by a
// bare CR, and classify how the server takes each: it rejects it, treats it as the end of the
// line, or waits for more (no reply within the wait; then a CRLF is sent and its reply kept).
// The safe half of an SMTP smuggling check (CVE-2023-51764 class): no MAIL, no DATA, no mail.

#include "report/report.hpp"
#include "session/conversation.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace smtpprobe::probes {

/// A session ready for commands, or why there is none.
struct ReadySession {
    Conversation* conversation = nullptr; ///< null: none (error says why)
    std::string error;
};

/// Gives a ready session: the first call and each call after the server closed the last one
/// (a rejection usually ends the connection: 521, RFC 7504). The previous one is then dropped.
using NextSession = std::function<ReadySession()>;

/// One test on `conversation`: the NOOP with the bare ending, a reply awaited at most `wait`.
/// Never throws for what the server or the network does.
LineEndingTest test_line_ending(Conversation& conversation, LineEnding ending,
                                std::chrono::milliseconds wait);

/// Both tests (LF, then CR), on as few connections as the server allows; QUITs the last.
LineEndingCheck check_line_endings(NextSession const& next, std::chrono::milliseconds wait);

} // namespace smtpprobe::probes
