#pragma once
// What a matrix row says about the credentials, in one word: the JSON `authentication.verdict`
// and `problem`, the text report's AUTHENTICATED column. Never a bare failure.

#include "report/report.hpp"

#include <string_view>

namespace smtpprobe {

enum class AuthVerdict {
    accepted,                ///< 235
    credentials_refused,     ///< 535 (or another 5xx) after the credentials were sent
    token_refused,           ///< the same for a bearer token (XOAUTH2, OAUTHBEARER)
    mechanism_not_supported, ///< the server does not offer or know the mechanism
    cannot_try,              ///< not tried, or the exchange could not finish: `reason` says why
};
/// "accepted", "credentials_refused", "token_refused", "mechanism_not_supported", "cannot_try".
std::string_view to_string(AuthVerdict verdict) noexcept;
/// "server_proof_mismatch"; empty for none.
std::string_view to_string(sasl::ClientStep::Problem problem) noexcept;
/// The row's verdict on the credentials.
AuthVerdict auth_verdict(MechanismRow const& row) noexcept;

} // namespace smtpprobe
