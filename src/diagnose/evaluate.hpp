#pragma once
// Report + Expectations -> Verdict: the findings, explanations, client predictions, checks and
// the exit code, decided here and nowhere else (ARCHITECTURE §11). Pure: no I/O, no clock.

#include "report/report.hpp"

#include <optional>
#include <string>
#include <vector>

namespace smtpprobe {

/// Exit codes (README "Exit codes").
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int problems = 1;   ///< completed; an error finding or a failed expectation
inline constexpr int no_session = 2; ///< no session reached the point where AUTH is probed
inline constexpr int usage = 64;     ///< EX_USAGE
inline constexpr int internal = 70;  ///< EX_SOFTWARE
inline constexpr int interrupted = 130;
} // namespace exit_code

/// What the user (or a monitoring module) expects of the server, and how results are judged.
struct Expectations {
    std::vector<std::string> auth; ///< --expect-auth: recognised, or accepted with credentials
    bool starttls = false;         ///< --expect-starttls
    bool sender_accepted = false;  ///< --expect-sender-accepted: MAIL FROM gets 2xx
    bool rcpt_accepted = false;    ///< --expect-rcpt-accepted: every RCPT TO gets 2xx
    std::string tls_min;           ///< --expect-tls-min: "1.2"
    std::optional<double> warning_s, critical_s; ///< --warning / --critical for the total
    int cert_warn_days = 30; ///< certificate expiry thresholds for findings and checks
    int cert_crit_days = 7;
    /// The exit code is the Monitoring Plugins state (0-3) instead of the README's codes.
    bool nagios = false;
};

struct Verdict {
    std::vector<Finding> findings;
    std::vector<Explanation> explanations; ///< of every reply code seen
    std::vector<ClientRow> clients;        ///< client-library compatibility
    /// Report::envelope with each step's meaning and fix (diagnose/envelope_rules.hpp).
    std::optional<Envelope> envelope;
    /// Always "session" and "findings", "certificate" when TLS was used, plus one per
    /// expectation (Check::expected).
    std::vector<Check> checks;
    int exit_code = exit_code::ok;
    Expectations expectations; ///< what the report was judged against
};

Verdict evaluate(Report const& report, Expectations const& expectations);

/// The worst state of `checks` (CRITICAL > UNKNOWN > WARNING > OK, plugin guidelines).
CheckState nagios_state(std::vector<Check> const& checks) noexcept;

/// The README's exit code for a verdict's findings and checks, without the nagios mapping:
/// interrupted 130, no session 2, an error finding or a failed expectation 1, else 0.
int standard_exit_code(Report const& report, std::vector<Finding> const& findings,
                       std::vector<Check> const& checks) noexcept;

} // namespace smtpprobe
