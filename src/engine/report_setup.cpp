#include "engine/report_setup.hpp"

#include "smtp/ascii.hpp"
#include "smtp/base64.hpp"

#include <chrono>

namespace smtpprobe {
namespace {

/// `user` as the report may show it; registered with the redactor unless `show_username`.
std::string shown_user(std::string const& user, bool show_username, Redactor& redactor,
                       std::string_view what) {
    if (user.empty() || show_username)
        return user;
    redactor.add_secret(user, what);
    return "<hidden: " + std::to_string(user.size()) + " characters; --show-username shows it>";
}

/// The caller's clock (the tests' fixed one), else the system's: seconds since 1970.
std::int64_t now_seconds(ProbeOptions const& options) {
    return options.clock ? options.clock()
                         : std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
}

/// The token preflight's facts: the token read offline, against the caller's clock.
TokenPreflight read_token(sasl::Credentials const& c, ProbeOptions const& options,
                          Redactor& redactor) {
    TokenPreflight p;
    p.token = sasl::read_bearer_token(c.token);
    p.checked_at = now_seconds(options);
    if (!p.token.claims)
        return p;
    sasl::TokenClaims const& claims = *p.token.claims;
    // Every claim naming the user is as private as --user, not only the one shown.
    for (std::string const* name :
         {&claims.upn, &claims.unique_name, &claims.preferred_username, &claims.email})
        (void)shown_user(*name, options.show_username, redactor, "token user");
    std::string const* user = claims.user();
    if (user == nullptr)
        return p;
    p.user_shown = shown_user(*user, options.show_username, redactor, "token user");
    p.user_claim = user == &claims.upn                  ? "upn"
                   : user == &claims.unique_name        ? "unique_name"
                   : user == &claims.preferred_username ? "preferred_username"
                                                        : "email";
    if (!c.user.empty())
        p.user_matches = smtp::iequals(*user, c.user);
    return p;
}

} // namespace

namespace engine {

void record_target(Report& report, Target const& target, ProbeOptions const& options,
                   Redactor& redactor) {
    report.host = target.host;
    report.server_name = target.sni.value_or(target.host);
    report.port = target.port;
    report.tls_mode = target.tls_mode;
    report.ehlo_name = options.ehlo_name;
    report.message_size = options.message_size;
    report.requiretls = options.requiretls;
    report.parallel = options.parallel;
    report.started_at = now_seconds(options);
    report.insecure_auth_allowed = options.allow_insecure_auth;
    if (options.credentials) {
        sasl::Credentials const& c = *options.credentials;
        report.credentials_given = !c.password.empty() || !c.token.empty();
        report.token_given = !c.token.empty();
        report.user_shown = register_secrets(c, options.show_username, redactor);
        if (report.token_given)
            report.token = read_token(c, options, redactor);
        std::size_t const at = c.user.find_first_of("\\/@");
        report.user_has_domain = at != std::string::npos && at > 0 && at + 1 < c.user.size();
    }
    net::ClientCertificate const& certificate = options.tls.client_certificate;
    report.client_certificate_given = certificate.given();
    redactor.add_secret(certificate.passphrase, "key passphrase");
    net::ConnectOptions const& connection = options.connection;
    report.path.proxy_bypass = connection.proxy_bypass_reason;
    if (connection.source)
        report.path.source = connection.source->display();
    if (connection.proxy) {
        net::ProxySpec const& proxy = *connection.proxy;
        report.path.proxy = proxy.display();
        report.path.proxy_scheme = std::string(net::to_string(proxy.scheme));
        report.path.proxy_host = proxy.host;
        report.path.proxy_port = proxy.port;
        report.path.proxy_variable = proxy.environment_variable;
        report.path.proxy_resolved = proxy.proxy_resolves();
        redactor.add_secret(proxy.password, "proxy password");
        if (!proxy.password.empty())
            redactor.add_encoded(smtp::base64_encode(proxy.user + ":" + proxy.password),
                                 "proxy credentials");
    }
}

} // namespace engine

std::string register_secrets(sasl::Credentials const& credentials, bool show_username,
                             Redactor& redactor) {
    redactor.add_secret(credentials.password, "password");
    redactor.add_secret(credentials.token, "token");
    return shown_user(credentials.user, show_username, redactor, "user name");
}

} // namespace smtpprobe
