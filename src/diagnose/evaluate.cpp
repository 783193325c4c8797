#include "diagnose/evaluate.hpp"

#include "diagnose/checks.hpp"
#include "diagnose/rules.hpp"

#include <algorithm>

namespace smtpprobe {

int standard_exit_code(Report const& report, std::vector<Finding> const& findings,
                       std::vector<Check> const& checks) noexcept {
    if (report.interrupted)
        return exit_code::interrupted;
    if (!report.session_established)
        return exit_code::no_session;
    bool const error_finding = std::any_of(findings.begin(), findings.end(), [](Finding const& f) {
        return f.severity == Severity::error;
    });
    bool const expectation_failed = std::any_of(checks.begin(), checks.end(), [](Check const& c) {
        return c.expected && c.status != CheckState::ok;
    });
    return error_finding || expectation_failed ? exit_code::problems : exit_code::ok;
}

Verdict evaluate(Report const& report, Expectations const& expectations) {
    Verdict v;
    v.expectations = expectations;
    diagnose_findings(report, expectations, v);
    v.checks = evaluate_checks(report, v.findings, expectations);
    v.exit_code = expectations.nagios ? static_cast<int>(nagios_state(v.checks))
                                      : standard_exit_code(report, v.findings, v.checks);
    return v;
}

} // namespace smtpprobe
