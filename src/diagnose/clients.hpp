#pragma once
// Which common SMTP client libraries would authenticate against the probed server, and how the
// others fail. The rules encode smtp-facts.md §4.1-§4.10 (per library), summarised in §4.12
// and §4.13; each verdict cites the section its rule comes from.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::diagnose {

/// What the probe learnt about the server's authentication.
struct ServerAuthView {
    bool tls_available = false; ///< STARTTLS worked, or the connection used implicit TLS
    bool implicit_tls = false;
    /// AUTH mechanisms as advertised, case kept. With implicit TLS there is only one EHLO: put
    /// it in advertised_after_tls (advertised_before_tls is used when that is empty).
    std::vector<std::string> advertised_before_tls;
    std::vector<std::string> advertised_after_tls;
    bool legacy_auth_equals_only = false; ///< the mechanisms came only from an "AUTH=" line
    /// Upper-case mechanism -> code of the first reply to "AUTH <MECH>" sent without an initial
    /// response (334 = recognised). Missing: not probed.
    std::map<std::string, int> first_reply;
    std::optional<std::string> login_prompt; ///< decoded first LOGIN challenge, if probed
};

struct ClientVerdict {
    /// "Go net/smtp (PlainAuth)", "Python smtplib (login())", "Nodemailer",
    /// ".NET System.Net.Mail.SmtpClient", "MailKit", "Jakarta Mail", "PHPMailer", "libcurl",
    /// "Ruby net-smtp (default :plain)", "lettre"
    std::string client;
    enum class Outcome { works, fails, depends } outcome = Outcome::depends;
    std::string mechanism; ///< what it would send, e.g. "PLAIN"; empty when it sends no AUTH
    std::string how;       ///< one sentence on why, quoting the server's code when known
    std::string source;    ///< "smtp-facts.md §4.1"
};

/// "works", "fails", "depends".
std::string_view outcome_name(ClientVerdict::Outcome outcome) noexcept;

/// One verdict per library, in the order listed for ClientVerdict::client.
///
/// Each verdict is for the library's default mechanism selection with a user name and password,
/// configured for TLS when the server offers it (STARTTLS, or implicit TLS when the probe used
/// it); the mechanism list used is the one advertised after TLS. "works" means the mechanism it
/// picks is advertised or answered 334; whether the credentials are right is not judged.
/// OAuth or other configuration that would change the outcome is mentioned in `how`.
std::vector<ClientVerdict> client_compatibility(ServerAuthView const& view);

} // namespace smtpprobe::diagnose
