#pragma once
// The bytes that follow DATA's 354 (RFC 5321 §4.1.1.4, §4.5.2): a message as lines ended by
// CRLF, each line that starts with "." given one more, then the end-of-data line ".". Sans-I/O.

#include <cstddef>
#include <string>
#include <string_view>

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

} // namespace smtpprobe::smtp
