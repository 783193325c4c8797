#pragma once
// The "auth" object of a server profile (documented in profile.hpp).

#include "sasl/sasl.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::emulator {

class ObjectReader;

/// Credentials the service refuses with a reply of their own once they are right (an account
/// whose mailbox has SMTP AUTH disabled, a password that needs to be an app password).
struct Refusal {
    sasl::Credentials credentials;
    std::string reply;
};

struct AuthProfile {
    std::vector<std::string> mechanisms;
    std::vector<std::string> mechanisms_before_tls;
    std::string before_tls_reply = "530 5.7.0 Must issue a STARTTLS command first";
    std::string unknown_mechanism_reply = "504 5.5.4 Unrecognized authentication type";
    std::string success_reply = "235 2.7.0 Authentication successful";
    std::string failure_reply = "535 5.7.8 Authentication credentials invalid";
    std::string cancel_reply = "501 5.7.0 Authentication cancelled";
    std::string already_authenticated_reply = "503 5.5.1 Already authenticated";
    std::string malformed_reply = "501 5.5.2 Cannot decode response";
    std::string syntax_reply = "501 5.5.4 Syntax: AUTH mechanism";
    std::string line_too_long_reply = "500 5.5.6 Authentication Exchange line is too long";
    std::string login_user_prompt = "Username:";
    std::string login_password_prompt = "Password:";
    std::map<std::string, std::string> first_replies;           ///< keyed by upper-case mechanism
    std::map<std::string, std::string> failure_replies;         ///< keyed by upper-case mechanism
    std::map<std::string, std::vector<std::string>> challenges; ///< scripted exchanges
    std::map<std::string, std::string> final_replies;           ///< their last replies
    std::vector<sasl::Credentials> accounts;
    std::vector<Refusal> refusals;
    /// Every password mechanism gets this once the password was sent, whatever it is (a
    /// service past its Basic-auth cut-off); refusals[] still apply first. Empty: off.
    std::string basic_auth_reply;
    sasl::TokenRules token_rules = sasl::TokenRules::accounts;
    std::optional<std::string> challenge_nonce;
    std::optional<std::string> ntlm_challenge; ///< raw bytes (decoded from the profile's base64)
    unsigned drop_after_failures = 0;
    /// Sent after the failure that reaches drop_after_failures; empty: close without it.
    std::string drop_reply = "421 4.7.0 Too many authentication failures";
    std::chrono::milliseconds failure_delay{0};

    /// failure_replies[mechanism] when set, failure_reply otherwise.
    std::string const& failure_reply_for(std::string const& mechanism) const;
    /// The credentials the SASL server checks: accounts, then the refusals' (an index past
    /// accounts.size() is a refusal's).
    std::vector<sasl::Credentials> server_accounts() const;
    /// The reply for the entry `account` of server_accounts() (ServerStep::account) instead
    /// of success_reply, or null for a plain account.
    std::string const* refusal_reply(int account) const noexcept;
    /// True when the profile speaks AUTH at all (either list non-empty).
    bool enabled() const noexcept { return !mechanisms.empty() || !mechanisms_before_tls.empty(); }
};

/// Reads the "auth" object of the top-level profile object into auth, when there is one.
void parse_auth(ObjectReader& top, AuthProfile& auth);

} // namespace smtpprobe::emulator
