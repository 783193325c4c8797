#pragma once
// What a profile can make the emulator do besides answering SMTP commands: the hostile and
// the non-SMTP servers a client meets (tarpits, drip-fed banners, TLS that never answers, an
// SSH or HTTP server on the mail port) and which certificate it presents. The profile fields
// are documented in profile.hpp.

#include "emulator/cert.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace smtpprobe::emulator {

class ObjectReader;

struct Behaviour {
    /// tarpit_ms: say nothing; hold the connection (reading and dropping what the client
    /// sends) until the client leaves or this much time has passed, then close. Zero: off.
    std::chrono::milliseconds tarpit{0};
    /// tls_stall_ms: never answer the ClientHello. With STARTTLS after the 220 reply, with
    /// implicit TLS right after the accept; the connection is held as for the tarpit.
    std::chrono::milliseconds tls_stall{0};
    /// banner_drip: the banner (every reply with drip_every_reply) goes out drip_bytes at a
    /// time, drip_interval apart. drip_bytes 0: off.
    std::size_t drip_bytes = 0;
    std::chrono::milliseconds drip_interval{0};
    bool drip_every_reply = false;
    /// greeting_raw: not an SMTP server. These bytes go out verbatim on connect (after the
    /// handshake with implicit TLS; "" says nothing), and no command is answered.
    std::optional<std::string> greeting_raw;
    /// after_first_line: with greeting_raw, sent verbatim once the client's first line has
    /// arrived, and then the connection is closed. None: the client's lines are ignored.
    std::optional<std::string> after_first_line;
    /// certificate: the generated certificate (valid, expired, self-signed, wrong-host).
    CertificateKind certificate = CertificateKind::valid;
};

/// Reads the Behaviour fields of a profile's top-level object; errors name the field.
Behaviour parse_behaviour(ObjectReader& top);

} // namespace smtpprobe::emulator
