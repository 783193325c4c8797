#pragma once
// "Is TLS mandatory?" (issue 20 item 2), ids mail.*: what the one MAIL FROM:<> of the first
// connection got before STARTTLS (ServerFacts::mail_before_tls_reply) and under TLS before AUTH
// (mail_before_auth_reply). Port 25 (an MX) may take mail without TLS or AUTH (RFC 3207 §4
// even forbids requiring STARTTLS for local delivery there); any other port is judged as
// submission, where it should not (data/smtp-facts-additions.md §1.14).

#include "report/report.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// Appends the mail.* findings of `report` to `out`; nothing when neither probe ran.
void mandatory_findings(Report const& report, std::vector<Finding>& out);

/// The message against the extensions (issue 20 item 3), ids message.*: --size against the
/// advertised SIZE, the envelope's addresses (--mail-from, --rcpt) against SMTPUTF8,
/// --requiretls against REQUIRETLS (smtp/extensions.hpp), before anything is sent. Errors: the
/// server would refuse the message.
void message_findings(Report const& report, std::vector<Finding>& out);

} // namespace smtpprobe::diagnose
