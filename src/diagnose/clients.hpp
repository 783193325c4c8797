#pragma once
// Which common SMTP client libraries would authenticate against the probed server, and how the
// others fail. The rules encode smtp-facts.md §4.1-§4.10 (per library), summarised in §4.12
// and §4.13, as corrected by running the real libraries (tests/clients/FINDINGS.md); each
// verdict cites the section its rule comes from and names the version it was checked against.

#include "report/report.hpp"
#include "smtp/reply.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::diagnose {

/// What the probe learnt about the server's authentication.
struct ServerAuthView {
    bool tls_available = false; ///< STARTTLS worked, or the connection used implicit TLS
    bool implicit_tls = false;
    /// The name a client is configured with (--sni, else the target host). Go's PlainAuth sends
    /// credentials without TLS when it is localhost, 127.0.0.1 or ::1.
    std::string server_name;
    bool helo_only = false; ///< EHLO was refused and HELO used: no extension is known
    /// STARTTLS was offered and answered with this reply ("454 4.7.0 ..."): every client
    /// configured for TLS stops there.
    std::optional<smtp::Reply> starttls_refusal;
    /// The server sent bytes behind its STARTTLS 220, before the handshake. injected_auth: the
    /// AUTH mechanisms of the EHLO reply those bytes hold, if they hold one.
    bool starttls_injected = false;
    /// ... in a read of their own after the 220: a client that has read the 220 meets them in
    /// its TLS handshake instead of dropping them with the 220's buffer.
    bool starttls_injected_late = false;
    std::vector<std::string> injected_auth;
    /// AUTH mechanisms as advertised, case kept. With implicit TLS there is only one EHLO: put
    /// it in advertised_after_tls (advertised_before_tls is used when that is empty).
    std::vector<std::string> advertised_before_tls;
    std::vector<std::string> advertised_after_tls;
    bool legacy_auth_equals_only = false; ///< the mechanisms came only from an "AUTH=" line
    /// Upper-case mechanism -> code of the first reply to "AUTH <MECH>" sent without an initial
    /// response (334 = recognised). Missing: not probed.
    std::map<std::string, int> first_reply;
    /// The same replies' first line as sent ("504 5.7.4 Unrecognized authentication type").
    std::map<std::string, std::string> first_reply_text;
    std::optional<std::string> login_prompt; ///< decoded first LOGIN challenge, if probed
    /// Decoded second LOGIN challenge (the password prompt): only an exchange with credentials
    /// reaches it. Both prompts are shown with a NUL as "\0".
    std::optional<std::string> login_password_prompt;
    /// Upper-case mechanisms whose real exchange with the user's credentials got 235.
    std::set<std::string> authenticated;
    /// The probe had a user name and password (not a token): the predictions are for them.
    bool password_given = false;
    /// The probe had an OAuth token (--oauth-token-*): the OAuth rows are for it.
    bool token_given = false;
    /// Upper-case mechanism -> the final reply of smtpprobe's own exchange with the user's
    /// credentials or token, when it was not 235 (what a library that sends the same gets).
    std::map<std::string, smtp::Reply> exchange_refusal;
    /// Upper-case token mechanisms (XOAUTH2, OAUTHBEARER) whose exchange got an error
    /// challenge: a 334 with the error JSON after the token, before the final reply.
    std::set<std::string> error_challenge;
    /// That user names a domain (DOMAIN\user, user@domain): libcurl offers GSSAPI only then.
    bool user_has_domain = false;
};

/// The libraries whose behaviour is predicted. One library may have several verdicts, one per
/// configuration (Go's PlainAuth and a LOGIN smtp.Auth; libcurl with a forced mechanism).
enum class ClientLibrary {
    go_net_smtp,
    python_smtplib,
    nodemailer,
    dotnet_smtp_client,
    mailkit,
    jakarta_mail,
    phpmailer,
    libcurl,
    ruby_net_smtp,
    lettre,
};

struct ClientVerdict {
    using Outcome = ClientOutcome;
    using Injection = ClientInjection;

    ClientVerdict() = default;
    ClientVerdict(std::string client_, Outcome outcome_, std::string mechanism_, std::string how_,
                  std::string source_)
        : client(std::move(client_)), outcome(outcome_), mechanism(std::move(mechanism_)),
          how(std::move(how_)), source(std::move(source_)) {}

    ClientLibrary library = ClientLibrary::go_net_smtp; ///< set by client_compatibility()
    /// For people: "Go net/smtp (PlainAuth)", "Go net/smtp (LOGIN smtp.Auth)", "Python smtplib
    /// (login())", "Nodemailer", "Nodemailer (authMethod PLAIN)", ".NET
    /// System.Net.Mail.SmtpClient", "MailKit", "Jakarta Mail", "PHPMailer", "libcurl", "libcurl
    /// (AUTH=PLAIN)", "libcurl (AUTH=LOGIN)", "Ruby net-smtp (default :plain)", "lettre"; and
    /// the OAuth configurations (clients_oauth.cpp): "Go net/smtp (XOAUTH2 smtp.Auth)", "Python
    /// smtplib (auth() XOAUTH2)", "Nodemailer (OAuth2 accessToken)", "Jakarta Mail
    /// (auth.mechanisms XOAUTH2)",
    /// "PHPMailer (AuthType XOAUTH2)", "libcurl (--oauth2-bearer)"
    std::string client;
    Outcome outcome = Outcome::depends;
    std::string mechanism; ///< what it sends last, e.g. "PLAIN"; empty when it sends no AUTH
    std::string how;       ///< one sentence on why, quoting the server's code when known
    std::string source;    ///< "smtp-facts.md §4.1"
    /// The error the library reports, as it words it (class and message, or the start of
    /// them); empty when it works, or when it reports none (it goes on without AUTH).
    std::string error;
    /// What it does with bytes injected behind the STARTTLS 220 (only when the server did).
    Injection injection = Injection::none;
    /// The library version this verdict was checked against by running it (tests/clients);
    /// empty: the verdict comes from documentation and source only.
    std::string checked_against;

    bool reaches_auth() const noexcept { return !mechanism.empty(); }
    bool verified() const noexcept { return !checked_against.empty(); }
};

/// One verdict per library, in the order listed for ClientVerdict::client.
///
/// Each verdict is for the library's default mechanism selection with a user name and password,
/// configured for TLS when the server offers it (STARTTLS, or implicit TLS when the probe used
/// it); the mechanism list used is the one advertised after TLS. "works" means the mechanism it
/// picks is advertised or answered 334; whether the credentials are right is not judged.
/// OAuth or other configuration that would change the outcome is mentioned in `how`.
///
/// The OAuth configurations (a token instead of a password) follow, one verdict each, when a
/// token was given or the server advertises XOAUTH2 or OAUTHBEARER: then they are a way in
/// that someone may take, and without either they would only repeat "not offered". Their
/// outcome is what the server did with smtpprobe's own token exchange; without a token it
/// is `depends` wherever the token decides.
std::vector<ClientVerdict> client_compatibility(ServerAuthView const& view);

} // namespace smtpprobe::diagnose
