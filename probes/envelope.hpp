#pragma once
// The envelope probe (issue 20): on a session that is ready (authenticated when credentials
// were given), "MAIL FROM:<addr>" with the parameters that apply, one "RCPT TO" per
// recipient, then RSET and QUIT: swaks' --quit-after RCPT. No DATA is ever sent here without
// EnvelopeRequest::send (added with --send). What the replies mean is decided by evaluate()
// (diagnose/envelope_rules.hpp), not here.

#include "report/report.hpp"
#include "session/conversation.hpp"
#include "smtp/capabilities.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::probes {

struct EnvelopeRequest {
    std::string mail_from; ///< the address, or "<>" for the null sender
    std::vector<std::string> rcpt;
    /// The message size declared with SIZE= when the server advertises SIZE (--size).
    std::optional<std::uint64_t> size;
    /// The message has 8-bit data: BODY=8BITMIME when the server advertises 8BITMIME.
    bool eight_bit = false;
};

/// The MAIL parameters that apply under `capabilities` (null: none known): SIZE=n when a size
/// is given and SIZE is advertised, BODY=8BITMIME when the message is 8-bit and 8BITMIME is
/// advertised, SMTPUTF8 when an address is not ASCII and SMTPUTF8 is advertised (without it,
/// the address goes as it is and the server's answer shows).
std::vector<std::string> mail_parameters(EnvelopeRequest const& request,
                                         smtp::Capabilities const* capabilities);

/// Runs the envelope on `conversation` and appends each command and its reply to
/// envelope.steps: MAIL FROM; when MAIL got 2xx, one RCPT TO per recipient; RSET; QUIT.
/// A 421, or a broken connection, ends it there with envelope.stopped set. Never throws for
/// what the server or the network does.
void run_envelope(Conversation& conversation, EnvelopeRequest const& request,
                  smtp::Capabilities const* capabilities, Envelope& envelope);

} // namespace smtpprobe::probes
