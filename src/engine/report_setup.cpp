#include "engine/report_setup.hpp"

#include "smtp/base64.hpp"

namespace smtpprobe {
namespace engine {

void record_target(Report& report, Target const& target, ProbeOptions const& options,
                   Redactor& redactor) {
    report.host = target.host;
    report.server_name = target.sni.value_or(target.host);
    report.port = target.port;
    report.tls_mode = target.tls_mode;
    report.ehlo_name = options.ehlo_name;
    report.parallel = options.parallel;
    report.insecure_auth_allowed = options.allow_insecure_auth;
    if (options.credentials) {
        sasl::Credentials const& c = *options.credentials;
        report.credentials_given = !c.password.empty() || !c.token.empty();
        report.token_given = !c.token.empty();
        report.user_shown = register_secrets(c, options.show_username, redactor);
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
    if (credentials.user.empty())
        return {};
    if (show_username)
        return credentials.user;
    redactor.add_secret(credentials.user, "user name");
    return "<hidden: " + std::to_string(credentials.user.size()) +
           " characters; --show-username shows it>";
}

} // namespace smtpprobe
