#pragma once
// What a port speaks, from the first bytes it sends: an SMTP banner, or the greeting of
// another protocol (a misdirected port: SSH, IMAP, POP3), an HTTP response (to our EHLO), or
// a TLS record (an implicit-TLS port answering plaintext). Sans-I/O: bytes in, a value out.

#include <string_view>

namespace smtpprobe::smtp {

enum class Greeter {
    none,    ///< no bytes
    smtp,    ///< three digits, then SP, '-' or the line end (RFC 5321 §4.2)
    http,    ///< "HTTP/" (a web server answering the EHLO line as a bad request)
    ssh,     ///< "SSH-" (RFC 4253 §4.2: "SSH-2.0-...", or "SSH-1.99-")
    imap,    ///< "* OK", "* PREAUTH" or "* BYE" (RFC 9051 §7.1)
    pop3,    ///< "+OK" or "-ERR" (RFC 1939 §3)
    tls,     ///< a TLS record header: handshake (22) or alert (21), version 3.x (RFC 8446 §5.1)
    unknown, ///< anything else
};

/// Classifies the first bytes received on a connection (a few suffice; more do no harm).
Greeter identify_greeter(std::string_view bytes) noexcept;

/// "SMTP", "HTTP", "SSH", "IMAP", "POP3", "TLS"; "nothing" for none, "unknown" for unknown.
std::string_view protocol_name(Greeter greeter) noexcept;

} // namespace smtpprobe::smtp
