#include "probes/contact.hpp"

#include "net/errc.hpp"
#include "report/report.hpp"
#include "smtp/errc.hpp"
#include "smtp/greeter.hpp"

#include <algorithm>
#include <cmath>

namespace smtpprobe::probes {
namespace {

double ms_since(net::Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(net::Clock::now() - start).count();
}

/// Records the failure of `e` in `facts` (failure, and the evidence the report shows for
/// STARTTLS injection and handshake errors).
void record_failure(std::system_error const& e, ServerFacts& facts,
                    Conversation const& conversation) {
    if (e.code() == smtp::errc::data_after_starttls) {
        facts.starttls_attempted = true;
        facts.starttls_injected = conversation.injected();
        facts.starttls_injected_late = conversation.injected_late();
    }
    if (e.code() == net::errc::tls_handshake_failed)
        facts.tls_error = e.what();
    facts.failure = describe_failure(e, facts, conversation);
    if (facts.failure->protocol)
        facts.other_protocol = facts.failure->protocol;
    facts.ready = false;
}

/// A refusal open_session() returned (not an exception): the server said no to a step.
void record_refusal(ServerFacts& facts, Conversation const& conversation) {
    if (facts.ready || facts.failure || facts.stop_reason.empty())
        return;
    FatalError f;
    f.phase = facts.phase;
    f.kind = FailureKind::refused;
    f.error = facts.stop_reason;
    f.bytes_received = conversation.wait_bytes();
    f.elapsed_ms = ms_since(conversation.wait_started());
    facts.failure = f;
}

bool run_session(Connection& c, SetupOptions const& setup, ServerFacts& facts) {
    try {
        open_session(*c.conversation, setup, facts);
    } catch (std::system_error const& e) {
        record_failure(e, facts, *c.conversation);
        return false;
    }
    record_refusal(facts, *c.conversation);
    return facts.ready;
}

void close(Connection& c) {
    if (c.transport)
        c.transport->close();
}

/// A silent port may be an HTTP server waiting for a request: one EHLO line, one second to
/// answer. Only an answer that is not SMTP counts (the wait stays a tarpit otherwise).
std::optional<smtp::Greeter> poke(Conversation& conversation, SetupOptions const& setup) {
    try {
        conversation.exchange(smtp::ehlo_command(setup.ehlo_name), std::chrono::milliseconds(1000));
    } catch (std::system_error const&) {
        // nothing, or not SMTP: look at what came
    }
    smtp::Greeter const g = smtp::identify_greeter(conversation.recent());
    if (g == smtp::Greeter::none || g == smtp::Greeter::smtp || g == smtp::Greeter::unknown)
        return std::nullopt;
    return g;
}

Contact implicit_first(Open const& open, ContactOptions const& options) {
    Contact out{open(), {}};
    if (run_session(out.connection, options.setup, out.facts) || !options.detect ||
        out.facts.phase != Phase::tls_handshake || !out.facts.failure ||
        out.facts.failure->kind != FailureKind::tls_failed)
        return out;
    // The handshake failed at once: a plaintext server answers a ClientHello with its banner.
    Connection plain;
    smtp::Reply banner;
    try {
        plain = open();
        banner = plain.conversation->greeting(options.banner_wait);
    } catch (std::system_error const&) {
        close(plain);
        return out; // not plaintext SMTP either: the handshake failure stands
    }
    if (banner.code != 220) {
        close(plain);
        return out;
    }
    Contact second{std::move(plain), {}};
    SetupOptions setup = options.setup;
    setup.mode = TlsMode::auto_;
    setup.banner = banner;
    run_session(second.connection, setup, second.facts);
    second.facts.plaintext_on_implicit_port = true;
    second.facts.implicit_handshake_error = out.facts.tls_error;
    close(out.connection);
    return second;
}

Contact auto_first(Open const& open, ContactOptions const& options) {
    Contact out{open(), {}};
    Conversation& conversation = *out.connection.conversation;
    out.facts.phase = Phase::banner;
    net::Clock::time_point const start = net::Clock::now();
    std::optional<smtp::Reply> banner;
    std::string tls_probe_error;
    try {
        banner = conversation.greeting(options.banner_wait);
    } catch (std::system_error const& e) {
        if (e.code() != net::errc::timeout) {
            record_failure(e, out.facts, conversation);
            return out;
        }
    }
    if (!banner && conversation.wait_bytes() == 0) {
        // Nothing at all: the server may be waiting for a ClientHello.
        Contact tls;
        SetupOptions setup = options.setup;
        setup.mode = TlsMode::implicit;
        try {
            tls.connection = open();
            run_session(tls.connection, setup, tls.facts);
        } catch (std::system_error const& e) {
            tls_probe_error = e.what();
        }
        if (tls.connection.transport && tls.facts.tls) {
            // The handshake worked: this port speaks implicit TLS, whatever came after.
            tls.facts.implicit_tls_detected = true;
            close(out.connection);
            return tls;
        }
        if (tls_probe_error.empty())
            tls_probe_error = tls.facts.why_stopped();
        close(tls.connection);
    }
    if (!banner) {
        auto const spent = std::chrono::duration_cast<std::chrono::milliseconds>(
            net::Clock::now() - conversation.wait_started());
        try {
            banner = conversation.greeting(
                std::max(options.command_timeout - spent, std::chrono::milliseconds(0)));
        } catch (std::system_error const& e) {
            record_failure(e, out.facts, conversation);
            out.facts.tls_probe_error = tls_probe_error;
            if (e.code() == net::errc::timeout && conversation.wait_bytes() == 0) {
                if (std::optional<smtp::Greeter> other = poke(conversation, options.setup)) {
                    out.facts.other_protocol = other;
                    out.facts.failure->kind = FailureKind::other_protocol;
                    out.facts.failure->protocol = other;
                    out.facts.failure->arrived = conversation.recent();
                    out.facts.failure->silent_until_ehlo = true;
                } else if (!tls_probe_error.empty()) {
                    out.facts.failure->tls_attempt_error = tls_probe_error;
                    out.facts.failure->tls_attempt_after = options.banner_wait;
                }
            }
            return out;
        }
    }
    double const banner_ms = ms_since(start);
    SetupOptions setup = options.setup;
    setup.banner = banner;
    run_session(out.connection, setup, out.facts);
    out.facts.timings.banner = banner_ms;
    return out;
}

} // namespace

FatalError describe_failure(std::system_error const& e, ServerFacts const& facts,
                            Conversation const& conversation) {
    Phase const phase = facts.phase;
    FatalError f;
    f.phase = phase;
    f.bytes_received = conversation.wait_bytes();
    double const elapsed = ms_since(conversation.wait_started());
    f.elapsed_ms = std::round(elapsed);
    f.error = e.what();
    std::error_code const code = e.code();
    f.implicit_tls =
        !facts.starttls_attempted && (phase == Phase::tls_handshake || facts.tls.has_value());
    if (code == net::errc::timeout) {
        f.kind = f.bytes_received == 0 ? FailureKind::timeout : FailureKind::stalled;
        // the limit that ran out, to a tenth of a second ("10 s", not "10003 ms"); a wait
        // that went on past the command timeout (a TLS attempt in between) counts as that
        f.limit = std::min(
            std::chrono::milliseconds(static_cast<long long>(std::round(elapsed / 100.0)) * 100),
            conversation.timeouts().command);
        return f;
    }
    if (code == net::errc::interrupted) {
        f.kind = FailureKind::interrupted;
        return f;
    }
    if (code == net::errc::closed_by_peer) {
        f.kind = FailureKind::closed;
        // the message adds nothing when it is only the error code's own words
        if (f.error == code.message())
            f.error.clear();
        return f;
    }
    if (code == net::errc::tls_handshake_failed) {
        f.kind = FailureKind::tls_failed;
        return f;
    }
    if (code.category() == smtp::smtp_category() &&
        (phase == Phase::banner || phase == Phase::ehlo)) {
        smtp::Greeter const g = smtp::identify_greeter(conversation.recent());
        if (g != smtp::Greeter::smtp && g != smtp::Greeter::unknown && g != smtp::Greeter::none) {
            f.kind = FailureKind::other_protocol;
            f.protocol = g;
            f.arrived = conversation.recent();
            return f;
        }
    }
    f.kind = code.category() == smtp::smtp_category() ? FailureKind::malformed : FailureKind::error;
    return f;
}

Contact make_contact(Open const& open, ContactOptions const& options) {
    if (options.setup.mode == TlsMode::implicit)
        return implicit_first(open, options);
    if (options.setup.mode == TlsMode::auto_ && options.detect)
        return auto_first(open, options);
    Contact out{open(), {}};
    run_session(out.connection, options.setup, out.facts);
    return out;
}

} // namespace smtpprobe::probes
