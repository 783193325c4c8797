#include "report/fatal_error.hpp"

#include "session/terminal_text.hpp" // escape_bytes()

#include <cstdio>

namespace smtpprobe {
namespace {

/// "the banner", "the reply to EHLO", ...: what was awaited in `phase`.
std::string awaited(Phase phase) {
    switch (phase) {
    case Phase::banner:
        return "banner";
    case Phase::ehlo:
        return "reply to EHLO";
    case Phase::auth_before_tls:
        return "reply to AUTH before STARTTLS";
    case Phase::starttls:
        return "reply to STARTTLS";
    case Phase::ehlo_after_tls:
        return "reply to EHLO after TLS";
    case Phase::mail_before_tls:
        return "reply to MAIL FROM:<> before STARTTLS";
    case Phase::mail_before_auth:
        return "reply to MAIL FROM:<> before AUTH";
    case Phase::resolve:
    case Phase::connect:
    case Phase::tls_handshake:
        break;
    }
    return "reply";
}

std::string rate_words(std::size_t bytes, std::chrono::milliseconds elapsed) {
    double const seconds = static_cast<double>(elapsed.count()) / 1000.0;
    double const rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
    char buffer[48];
    if (rate >= 0.95)
        std::snprintf(buffer, sizeof buffer, "%.0f", rate);
    else
        std::snprintf(buffer, sizeof buffer, "%.1f", rate);
    std::string const number = buffer;
    return "about " + number + (number == "1" ? " byte/s" : " bytes/s");
}

std::string bytes_words(std::size_t bytes) {
    return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

/// The first line of what arrived, printable and short, for a sentence.
std::string first_line(std::string const& bytes) {
    std::string line = bytes.substr(0, bytes.find_first_of("\r\n"));
    if (line.size() > 80)
        line = line.substr(0, 80) + "...";
    return escape_bytes(line);
}

} // namespace

std::string_view to_string(Phase phase) noexcept {
    switch (phase) {
    case Phase::resolve:
        return "resolve";
    case Phase::connect:
        return "connect";
    case Phase::banner:
        return "banner";
    case Phase::ehlo:
        return "ehlo";
    case Phase::auth_before_tls:
        return "auth_before_tls";
    case Phase::starttls:
        return "starttls";
    case Phase::tls_handshake:
        return "tls_handshake";
    case Phase::ehlo_after_tls:
        return "ehlo_after_tls";
    case Phase::mail_before_tls:
        return "mail_before_tls";
    case Phase::mail_before_auth:
        return "mail_before_auth";
    }
    return "?";
}

std::string_view phase_words(Phase phase) noexcept {
    switch (phase) {
    case Phase::resolve:
        return "resolving the name";
    case Phase::connect:
        return "connecting";
    case Phase::banner:
        return "waiting for the banner";
    case Phase::ehlo:
        return "EHLO";
    case Phase::auth_before_tls:
        return "AUTH before STARTTLS";
    case Phase::starttls:
        return "STARTTLS";
    case Phase::tls_handshake:
        return "the TLS handshake";
    case Phase::ehlo_after_tls:
        return "EHLO after TLS";
    case Phase::mail_before_tls:
        return "MAIL FROM:<> before STARTTLS";
    case Phase::mail_before_auth:
        return "MAIL FROM:<> before AUTH";
    }
    return "?";
}

std::string_view to_string(FailureKind kind) noexcept {
    switch (kind) {
    case FailureKind::timeout:
        return "timeout";
    case FailureKind::stalled:
        return "stalled";
    case FailureKind::closed:
        return "closed";
    case FailureKind::unreachable:
        return "unreachable";
    case FailureKind::malformed:
        return "malformed";
    case FailureKind::other_protocol:
        return "other_protocol";
    case FailureKind::tls_failed:
        return "tls_failed";
    case FailureKind::refused:
        return "refused";
    case FailureKind::interrupted:
        return "interrupted";
    case FailureKind::error:
        return "error";
    }
    return "?";
}

std::string duration_words(std::chrono::milliseconds duration) {
    long long const ms = duration.count();
    if (ms < 1000)
        return std::to_string(ms) + " ms";
    char buffer[32];
    if (ms % 1000 == 0)
        std::snprintf(buffer, sizeof buffer, "%lld s", ms / 1000);
    else
        std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(ms) / 1000.0);
    return buffer;
}

std::string FatalError::detail() const {
    if (!phase || *phase == Phase::resolve || *phase == Phase::connect ||
        kind == FailureKind::refused)
        return error;
    std::string const during(phase_words(*phase));
    switch (kind) {
    case FailureKind::timeout:
    case FailureKind::stalled: {
        std::string out = *phase == Phase::banner && implicit_tls
                              ? "No banner within " + duration_words(limit) +
                                    " after the TLS handshake: " + std::to_string(bytes_received) +
                                    " bytes arrived."
                              : timeout_detail({*phase, bytes_received, limit, implicit_tls});
        if (!tls_attempt_error.empty())
            out += " A TLS handshake on a second connection, after " +
                   duration_words(tls_attempt_after) +
                   " without a banner, failed too: " + tls_attempt_error + ".";
        return out;
    }
    case FailureKind::interrupted:
        return "interrupted while " + during;
    case FailureKind::closed:
        return "The server closed the connection during " + during + " after " +
               std::to_string(bytes_received) + " bytes" +
               (error.empty() ? std::string(".") : ": " + error + ".");
    case FailureKind::tls_failed:
        return std::string("The TLS handshake failed ") +
               (implicit_tls ? "on connecting (implicit TLS)"
                             : "after the server's 220 to STARTTLS") +
               ": " + error + " (" + std::to_string(bytes_received) + " bytes came back).";
    case FailureKind::other_protocol: {
        std::string const name(protocol ? smtp::protocol_name(*protocol) : "another protocol");
        if (silent_until_ehlo)
            return "This port speaks " + name +
                   ", not SMTP: it sent nothing on connecting and answered EHLO with \"" +
                   first_line(arrived) + "\".";
        return "This port speaks " + name + ", not SMTP: it " +
               (*phase == Phase::banner ? "greeted with" : "answered EHLO with") + " \"" +
               first_line(arrived) + "\".";
    }
    case FailureKind::unreachable:
    case FailureKind::refused:
        return error;
    case FailureKind::malformed:
    case FailureKind::error:
        break;
    }
    return "During " + during + ": " + error;
}

std::string phase_and_detail(FatalError const& f) {
    if (!f.phase)
        return f.detail();
    return std::string(to_string(*f.phase)) + ": " + f.detail();
}

std::string timeout_detail(Wait const& w) {
    std::string const limit = duration_words(w.limit);
    if (w.phase == Phase::tls_handshake) {
        std::string out = "The TLS handshake did not complete within " + limit +
                          (w.implicit_tls ? " of connecting (implicit TLS)"
                                          : " after the server's 220 to STARTTLS") +
                          ": the ClientHello was sent and ";
        if (w.bytes == 0)
            return out + "nothing came back.";
        return out + bytes_words(w.bytes) + " came back, then nothing more.";
    }
    if (w.phase == Phase::connect)
        return "No TCP connection within " + limit + ".";
    if (w.bytes == 0) {
        if (w.phase == Phase::banner)
            return "No banner within " + limit +
                   ": the TCP connection was accepted and 0 bytes arrived (a tarpit, a firewall "
                   "that accepts and drops, or an implicit-TLS port: see above).";
        return "No " + awaited(w.phase) + " within " + limit + ": 0 bytes arrived.";
    }
    return "The " + awaited(w.phase) + " was still arriving after " + limit + ": " +
           bytes_words(w.bytes) + " at " + rate_words(w.bytes, w.limit) + ".";
}

} // namespace smtpprobe
