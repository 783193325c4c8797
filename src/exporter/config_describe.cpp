// The configuration as the status page shows it (describe_config() in config.hpp): YAML again,
// with no secret in it by construction and the user name masked as in every other output.

#include "exporter/config.hpp"

#include <yaml-cpp/yaml.h>

namespace smtpprobe::exporter {

std::string describe_config(Config const& config) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "max_concurrent_probes" << YAML::Value << config.max_concurrent_probes;
    out << YAML::Key << "max_queued_probes" << YAML::Value << config.max_queued_probes;
    out << YAML::Key << "allow_targets" << YAML::Value << YAML::BeginSeq;
    for (AllowRule const& rule : config.allow_targets.rules())
        out << rule.pattern;
    out << YAML::EndSeq;
    out << YAML::Key << "modules" << YAML::Value << YAML::BeginMap;
    for (auto const& [name, m] : config.modules) {
        ProbeRequest const& q = m.request;
        out << YAML::Key << name << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "tls" << YAML::Value << std::string(to_string(q.targets.tls));
        out << YAML::Key << "ehlo_name" << YAML::Value << q.options.ehlo_name;
        if (!q.options.mechanisms.empty())
            out << YAML::Key << "mechanisms" << YAML::Value << YAML::Flow << q.options.mechanisms;
        out << YAML::Key << "parallel" << YAML::Value << q.options.parallel;
        if (q.options.all_addresses)
            out << YAML::Key << "all_addresses" << YAML::Value << true;
        out << YAML::Key << "timeout" << YAML::Value
            << std::to_string(q.options.total_timeout.count()) + "ms";
        if (!q.options.tls.ca_file.empty())
            out << YAML::Key << "ca_file" << YAML::Value << q.options.tls.ca_file;
        if (q.proxy.url)
            out << YAML::Key << "proxy" << YAML::Value << *q.proxy.url;
        if (q.credentials.user) {
            CredentialRequest const& c = q.credentials;
            out << YAML::Key << "credentials" << YAML::Value << YAML::BeginMap;
            // The user name is hidden in every output unless asked for (README "Secrets").
            out << YAML::Key << "user" << YAML::Value
                << "<hidden, " + std::to_string(c.user->size()) + " characters>";
            // The command may carry a client secret in its arguments: its length only.
            if (!c.token_command.empty())
                out << YAML::Key << "oauth_token_cmd" << YAML::Value
                    << "<hidden, " + std::to_string(c.token_command.size()) + " characters>";
            for (auto const& [what, ref] :
                 {std::pair{"password", &c.password}, std::pair{"token", &c.token}}) {
                if (ref->kind == SecretSource::Kind::env)
                    out << YAML::Key << std::string(what) + "_env" << YAML::Value << ref->name;
                if (ref->kind == SecretSource::Kind::file)
                    out << YAML::Key << std::string(what) + "_file" << YAML::Value << ref->name;
            }
            out << YAML::EndMap;
        }
        if (q.options.envelope) {
            out << YAML::Key << "mail_from" << YAML::Value << q.options.envelope->mail_from;
            out << YAML::Key << "rcpt" << YAML::Value << YAML::Flow << q.options.envelope->rcpt;
        }
        if (!q.expect.auth.empty())
            out << YAML::Key << "expect_auth" << YAML::Value << YAML::Flow << q.expect.auth;
        out << YAML::EndMap;
    }
    out << YAML::EndMap << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

} // namespace smtpprobe::exporter
