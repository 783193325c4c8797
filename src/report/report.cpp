#include "report/report.hpp"
#include "report/timeline.hpp"

#include "report/auth_verdict.hpp"

namespace smtpprobe {

std::string_view to_string(TlsMode mode) noexcept {
    switch (mode) {
    case TlsMode::auto_:
        return "auto";
    case TlsMode::starttls:
        return "starttls";
    case TlsMode::implicit:
        return "implicit";
    case TlsMode::none:
        return "none";
    }
    return "?";
}

std::optional<TlsMode> parse_tls_mode(std::string_view text) noexcept {
    for (TlsMode mode : {TlsMode::auto_, TlsMode::starttls, TlsMode::implicit, TlsMode::none})
        if (to_string(mode) == text)
            return mode;
    return std::nullopt;
}

std::string_view to_string(MailGate gate) noexcept {
    switch (gate) {
    case MailGate::not_tested:
        return "not_tested";
    case MailGate::not_applicable:
        return "not_applicable";
    case MailGate::refused:
        return "refused";
    case MailGate::accepted:
        return "accepted";
    }
    return "?";
}

namespace {
MailGate gate_of(std::optional<smtp::Reply> const& reply) {
    if (!reply)
        return MailGate::not_tested;
    return reply->first_digit() == 2 ? MailGate::accepted : MailGate::refused;
}
} // namespace

MailGate Report::mail_without_tls() const noexcept {
    if (tls_used == TlsMode::implicit && !server.mail_before_tls_reply)
        return MailGate::not_applicable;
    return gate_of(server.mail_before_tls_reply);
}

MailGate Report::mail_without_auth() const noexcept {
    if (!server.mail_before_auth_reply && !server.tls && server.mail_before_tls_reply)
        return MailGate::not_applicable;
    return gate_of(server.mail_before_auth_reply);
}

std::string_view to_string(Severity severity) noexcept {
    switch (severity) {
    case Severity::info:
        return "info";
    case Severity::warning:
        return "warning";
    case Severity::error:
        return "error";
    }
    return "?";
}

namespace {
/// Each envelope step's JSON name and its text form, in the order of EnvelopeStep::Kind.
constexpr std::string_view envelope_step_names[][2] = {
    {"mail", "MAIL FROM"}, {"rcpt", "RCPT TO"},    {"rset", "RSET"},
    {"data", "DATA"},      {"message", "message"}, {"quit", "QUIT"},
};
} // namespace

std::string_view to_string(EnvelopeStep::Kind kind) noexcept {
    return envelope_step_names[static_cast<std::size_t>(kind)][0];
}

std::string_view verb(EnvelopeStep::Kind kind) noexcept {
    return envelope_step_names[static_cast<std::size_t>(kind)][1];
}

EnvelopeStep const* Envelope::first(EnvelopeStep::Kind kind) const noexcept {
    for (EnvelopeStep const& step : steps)
        if (step.kind == kind)
            return &step;
    return nullptr;
}

std::string_view to_string(EventKind kind) noexcept {
    switch (kind) {
    case EventKind::reconnect:
        return "reconnect";
    case EventKind::connect_failed:
        return "connect_failed";
    case EventKind::proxy_failed:
        return "proxy_failed";
    case EventKind::capabilities_differ:
        return "capabilities_differ";
    case EventKind::too_many_mechanisms:
        return "too_many_mechanisms";
    }
    return "?";
}

std::string_view to_string(TimedStep step) noexcept {
    switch (step) {
    case TimedStep::connect:
        return "connect";
    case TimedStep::proxy:
        return "proxy";
    case TimedStep::banner:
        return "banner";
    case TimedStep::ehlo:
        return "ehlo";
    case TimedStep::starttls:
        return "starttls";
    case TimedStep::tls_handshake:
        return "tls_handshake";
    case TimedStep::ehlo_after_tls:
        return "ehlo_after_tls";
    case TimedStep::auth:
        return "auth";
    case TimedStep::probes_before_tls:
        return "probes_before_tls";
    case TimedStep::mail_before_auth:
        return "mail_before_auth";
    }
    return "?";
}

std::vector<StepTiming> steps_in_order(ServerFacts const& facts, double start_ms) {
    Timings const& t = facts.timings;
    std::vector<StepTiming> steps;
    double at = start_ms;
    auto step = [&](TimedStep s, std::optional<double> const& ms) {
        if (!ms)
            return;
        steps.push_back(StepTiming{s, {}, at, *ms});
        at += *ms;
    };
    bool const implicit = !facts.starttls_attempted;
    step(TimedStep::connect, t.connect);
    step(TimedStep::proxy, t.proxy);
    if (implicit)
        step(TimedStep::tls_handshake, t.tls_handshake);
    step(TimedStep::banner, t.banner);
    step(TimedStep::ehlo, t.ehlo);
    step(TimedStep::probes_before_tls, t.probes_before_tls);
    step(TimedStep::starttls, t.starttls);
    if (!implicit)
        step(TimedStep::tls_handshake, t.tls_handshake);
    step(TimedStep::ehlo_after_tls, t.ehlo_after_tls);
    step(TimedStep::mail_before_auth, t.mail_before_auth);
    return steps;
}

std::string_view to_string(ClientOutcome outcome) noexcept {
    switch (outcome) {
    case ClientOutcome::works:
        return "works";
    case ClientOutcome::fails:
        return "fails";
    case ClientOutcome::depends:
        return "depends";
    }
    return "depends";
}

std::string_view to_string(LineEnding ending) noexcept {
    return ending == LineEnding::lf ? "LF" : "CR";
}

std::string_view to_string(LineEndingBehaviour behaviour) noexcept {
    switch (behaviour) {
    case LineEndingBehaviour::rejects:
        return "rejects";
    case LineEndingBehaviour::line_end:
        return "line_end";
    case LineEndingBehaviour::waits:
        return "waits";
    case LineEndingBehaviour::unknown:
        return "unknown";
    }
    return "unknown";
}

std::string_view to_string(ClientInjection injection) noexcept {
    switch (injection) {
    case ClientInjection::none:
        return "";
    case ClientInjection::discards:
        return "discards";
    case ClientInjection::refuses:
        return "refuses";
    case ClientInjection::exposed:
        return "exposed";
    case ClientInjection::handshake_fails:
        return "handshake fails";
    case ClientInjection::unchecked:
        return "not checked";
    }
    return "";
}

std::string_view to_string(CheckState state) noexcept {
    switch (state) {
    case CheckState::ok:
        return "OK";
    case CheckState::warning:
        return "WARNING";
    case CheckState::critical:
        return "CRITICAL";
    case CheckState::unknown:
        return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::string_view to_string(AuthVerdict verdict) noexcept {
    switch (verdict) {
    case AuthVerdict::accepted:
        return "accepted";
    case AuthVerdict::credentials_refused:
        return "credentials_refused";
    case AuthVerdict::token_refused:
        return "token_refused";
    case AuthVerdict::mechanism_not_supported:
        return "mechanism_not_supported";
    case AuthVerdict::cannot_try:
        return "cannot_try";
    }
    return "cannot_try";
}

std::string_view to_string(sasl::ClientStep::Problem problem) noexcept {
    switch (problem) {
    case sasl::ClientStep::Problem::none:
        return "";
    case sasl::ClientStep::Problem::server_proof_mismatch:
        return "server_proof_mismatch";
    }
    return "";
}

AuthVerdict auth_verdict(MechanismRow const& row) noexcept {
    switch (row.authentication.status) {
    case Status::accepted:
        return AuthVerdict::accepted;
    case Status::rejected:
        return sasl::uses_token(row.name) ? AuthVerdict::token_refused
                                          : AuthVerdict::credentials_refused;
    case Status::not_supported:
        return AuthVerdict::mechanism_not_supported;
    default:
        break;
    }
    // Not tried because the server does not know the mechanism: the recognition says so.
    if (row.recognition.status == Status::not_supported ||
        (!row.advertised_after_tls && !row.advertised_before_tls &&
         row.recognition.status == Status::refused))
        return AuthVerdict::mechanism_not_supported;
    return AuthVerdict::cannot_try;
}

std::string_view to_string(Status status) noexcept {
    switch (status) {
    case Status::pending:
        return "pending";
    case Status::recognised:
        return "recognised";
    case Status::not_supported:
        return "not_supported";
    case Status::refused:
        return "refused";
    case Status::temporary_failure:
        return "temporary_failure";
    case Status::accepted:
        return "accepted";
    case Status::rejected:
        return "rejected";
    case Status::error:
        return "error";
    case Status::skipped:
        return "skipped";
    }
    return "?";
}

MechanismRow const* find_row(std::vector<MechanismRow> const& rows,
                             std::string_view name) noexcept {
    for (MechanismRow const& m : rows)
        if (m.name == name)
            return &m;
    return nullptr;
}

std::string code_or_status(std::optional<smtp::Reply> const& reply, Status status) {
    return reply ? std::to_string(reply->code) : std::string(to_string(status));
}

std::string AddressProbe::banner_host() const {
    if (!banner || banner->lines.empty())
        return {};
    std::string const& first = banner->lines.front();
    return first.substr(0, first.find(' '));
}

std::string_view to_string(NtlmInfo::Outcome outcome) noexcept {
    switch (outcome) {
    case NtlmInfo::Outcome::decoded:
        return "decoded";
    case NtlmInfo::Outcome::malformed:
        return "malformed";
    case NtlmInfo::Outcome::refused:
        return "refused";
    }
    return "?";
}

} // namespace smtpprobe
