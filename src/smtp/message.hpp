#pragma once
// The bytes that follow DATA's 354 (RFC 5321 §4.1.1.4, §4.5.2): a message as lines ended by
// CRLF, each line that starts with "." given one more, then the end-of-data line ".". Sans-I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::smtp {

struct DataPayload {
    std::string wire;              ///< what is sent after the 354, ".\r\n" included
    std::size_t lines = 0;         ///< lines of the message (the final "." not counted)
    std::size_t dots_stuffed = 0;  ///< lines that started with "." (one more was added)
    std::size_t bare_lf = 0;       ///< LFs without a CR before them, sent as CRLF
    std::size_t bare_cr = 0;       ///< CRs without a LF after them, sent as CRLF
    bool final_crlf_added = false; ///< the message did not end with a line ending
};

/// `message` as DATA sends it. Every line ending becomes CRLF: a bare LF or a bare CR (RFC 5321
/// §2.3.8: never sent; they are how SMTP smuggling starts) is counted and sent as CRLF, so
/// that no byte sequence of the message can end DATA early. An empty message is one empty
/// line.
DataPayload data_payload(std::string_view message);

// --send (issue 20 item 4): the test message smtpprobe builds when no --data-file is given,
// what the MAIL parameters need to know about a message, and the queue id of the reply that
// follows it.

/// A date as RFC 5322 §3.3 writes it, in UTC: "Sun, 06 Dec 2026 15:30:00 +0000" (English day
/// and month names whatever the locale). `seconds` since the epoch.
std::string rfc5322_date(std::int64_t seconds);

/// What the built test message says. Nothing here is read from a clock, the host or a random
/// source: the caller gives it (the engine: ProbeOptions::clock, gethostname, std::random_device).
struct TestMessage {
    std::string from;            ///< the --mail-from address
    std::vector<std::string> to; ///< the --rcpt addresses
    std::int64_t date = 0;       ///< seconds since the epoch (the Date header)
    std::string run_id;          ///< a few random hex digits: the Message-ID's local part
    std::string client_host;     ///< where smtpprobe ran (the host's name)
    std::string server;          ///< "host:port" as probed
};

/// The domain of the Message-ID: the sender's domain, else `client_host`, else
/// "smtpprobe.invalid".
std::string message_id_domain(TestMessage const& message);

/// The message, lines ended by CRLF: From, To, Date, Message-ID, Subject ("smtpprobe test
/// message <date> (run <id>)"), MIME-Version, Content-Type text/plain; charset=utf-8, and a
/// short body that says who sent it, from where, to which server, and why.
std::string build_test_message(TestMessage const& message);

/// The message's size as RFC 1870 §3 counts it for SIZE=: its bytes with every line ending
/// as CRLF, before dot-stuffing, without the final ".".
std::uint64_t message_size(DataPayload const& payload);

/// The queue id in the reply after the message, as the server words it; empty when the text
/// holds none that is known. Postfix "250 2.0.0 Ok: queued as 4XyZ1k2Lmnz"; Exim "250 OK
/// id=1tJXyZ-000123-AB"; Exchange Online and ACS "250 2.6.0 <message-id> [InternalId=...]
/// Queued mail for delivery" (the message id in angle brackets, what a message trace
/// searches); Gmail "250 2.0.0 OK  1733491234 <id> - gsmtp" (the id before "- gsmtp").
std::string queue_id(std::string_view reply_text);

} // namespace smtpprobe::smtp
