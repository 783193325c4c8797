#pragma once
// Provider refusals of AUTH, each named with its fix (data/smtp-facts-additions.md §3.2,
// §3.3): Exchange Online's 550 5.7.30 (Basic authentication retired) and 535 5.7.139 in
// each of its published wordings, Gmail's 534 5.7.9 (app password required) and 534 5.7.14
// (sign in through a web browser), and a bearer token refused (XOAUTH2, OAUTHBEARER: the
// decoded error challenge, or a 535 after the token). Part of auth_rules.cpp's findings.

#include "report/report.hpp"

#include <optional>
#include <string>

namespace smtpprobe::diagnose {

/// What a refusal is, when it is one of the known ones: the finding it becomes.
struct Refusal {
    std::string id; ///< "auth.basic_auth_retired", "auth.smtp_auth_disabled", ...
    Severity severity = Severity::error;
    std::string title;
    std::string detail; ///< what it means and the fix
};

/// The refusal the row's last AUTH reply is, or none. Only rows whose credentials were sent.
std::optional<Refusal> classify_refusal(MechanismRow const& row);

} // namespace smtpprobe::diagnose
