#include "exporter/config.hpp"

#include "net/connect.hpp"
#include "net/proxy_spec.hpp"
#include "smtp/capabilities.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace smtpprobe::exporter {
namespace {

constexpr std::size_t max_config_bytes = 1 << 20;
constexpr std::size_t max_modules = 64;
constexpr std::size_t max_allow_rules = 1024;

// The keys of a module, in the order of the README's table.
// clang-format off
constexpr std::string_view module_key_list[] = {
    "tls", "ehlo_name", "mechanisms", "parallel", "timeout", "connect_timeout", "command_timeout",
    "banner_wait", "timeout_offset", "source", "proxy", "noproxy", "proxy_password_env",
    "proxy_password_file", "ca_file", "ca_path", "insecure", "tls_min", "tls_max", "sni",
    "no_sni", "cert_warn_days", "cert_crit_days", "tls_versions", "cert", "key",
    "key_passphrase_env", "key_passphrase_file", "all_addresses", "credentials", "authzid",
    "gssapi_service", "allow_insecure_auth", "size", "requiretls", "expect", "mail_from", "rcpt"};
// clang-format on

/// Errors name the file and the key path: "exporter.yml: modules.submission.tls: ...".
class YamlReader {
public:
    explicit YamlReader(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(std::string const& path, std::string const& message) const {
        throw ConfigError(origin_ + ": " + (path.empty() ? "" : path + ": ") + message);
    }

    template <typename Keys>
    void only_keys(YAML::Node const& map, std::string const& path, Keys const& keys) const {
        if (!map.IsMap())
            fail(path, "expected a mapping");
        for (auto const& item : map) {
            std::string const key = item.first.as<std::string>();
            if (std::none_of(std::begin(keys), std::end(keys),
                             [&](std::string_view k) { return key == k; }))
                fail(join(path, key), "unknown key");
        }
    }

    std::string string(YAML::Node const& node, std::string const& path) const {
        if (!node.IsScalar())
            fail(path, "expected a string");
        return node.as<std::string>();
    }

    bool boolean(YAML::Node const& node, std::string const& path) const {
        bool value = false;
        if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
            fail(path, "expected true or false");
        return value;
    }

    long integer(YAML::Node const& node, std::string const& path, long min, long max) const {
        long value = 0;
        if (!node.IsScalar() || !YAML::convert<long>::decode(node, value) || value < min ||
            value > max)
            fail(path, "expected a whole number from " + std::to_string(min) + " to " +
                           std::to_string(max));
        return value;
    }

    /// "10s", "500ms", "2m", or a number of seconds; (0, 3600] seconds.
    std::chrono::milliseconds duration(YAML::Node const& node, std::string const& path,
                                       bool zero_ok = false) const {
        std::string const text = string(node, path);
        double factor = 1000;
        std::string number = text;
        if (text.ends_with("ms")) {
            factor = 1;
            number = text.substr(0, text.size() - 2);
        } else if (text.ends_with("s")) {
            number = text.substr(0, text.size() - 1);
        } else if (text.ends_with("m")) {
            factor = 60'000;
            number = text.substr(0, text.size() - 1);
        }
        char* end = nullptr;
        double const value = std::strtod(number.c_str(), &end);
        double const ms = value * factor;
        if (number.empty() || end != number.c_str() + number.size() || std::isnan(ms) || ms < 0 ||
            (ms == 0 && !zero_ok) || ms > 3'600'000)
            fail(path,
                 "expected a duration such as 10s, 500ms or 2m (at most 1h), got \"" + text + "\"");
        return std::chrono::milliseconds(static_cast<long long>(ms));
    }

    /// A list of names, upper case; check() tells a name that is not a mechanism.
    std::vector<std::string> mechanism_list(YAML::Node const& node, std::string const& path) const {
        if (!node.IsSequence())
            fail(path, "expected a list of SASL mechanism names");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < node.size(); ++i)
            out.push_back(smtp::to_upper(string(node[i], path)));
        return out;
    }

    /// A list of strings, or one string (a list of one): --rcpt's repeatable values.
    std::vector<std::string> string_list(YAML::Node const& node, std::string const& path) const {
        if (node.IsScalar())
            return {string(node, path)};
        if (!node.IsSequence())
            fail(path, "expected a string or a list of strings");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < node.size(); ++i)
            out.push_back(string(node[i], path));
        return out;
    }

    static std::string join(std::string const& path, std::string const& key) {
        return path.empty() ? key : path + "." + key;
    }

private:
    std::string origin_;
};

TlsMode tls_mode(YamlReader const& r, YAML::Node const& node, std::string const& path) {
    if (std::optional<TlsMode> mode = parse_tls_mode(r.string(node, path)))
        return *mode;
    r.fail(path, "expected auto, starttls, implicit or none");
}

/// A secret by reference: KEY_env (a variable name) or KEY_file (a path), never KEY itself.
/// The reference must resolve now (the variable is set, the file readable); the secret is read
/// when a probe runs (prepare()), so a rotated file is picked up.
SecretSource secret(YamlReader const& r, YAML::Node const& map, std::string const& path,
                    std::string const& what) {
    if (map[what])
        r.fail(YamlReader::join(path, what),
               "secrets are never written in the configuration; give " + what +
                   "_env (a variable name) or " + what + "_file (a path)");
    YAML::Node const env = map[what + "_env"], file = map[what + "_file"];
    if (env && file)
        r.fail(path, "give " + what + "_env or " + what + "_file, not both");
    SecretSource ref;
    if (env) {
        ref = {SecretSource::Kind::env, r.string(env, YamlReader::join(path, what + "_env"))};
        if (std::getenv(ref.name.c_str()) == nullptr)
            r.fail(YamlReader::join(path, what + "_env"),
                   "the variable " + ref.name + " is not set");
    } else if (file) {
        ref = {SecretSource::Kind::file, r.string(file, YamlReader::join(path, what + "_file"))};
        if (!std::ifstream(ref.name))
            r.fail(YamlReader::join(path, what + "_file"), "cannot read " + ref.name);
    }
    return ref;
}

CredentialRequest credentials(YamlReader const& r, YAML::Node const& node,
                              std::string const& path) {
    r.only_keys(node, path,
                std::initializer_list<char const*>{"user", "password", "password_env",
                                                   "password_file", "token", "token_env",
                                                   "token_file", "oauth_token_cmd"});
    CredentialRequest c;
    if (!node["user"])
        r.fail(path, "credentials need a user");
    c.user = r.string(node["user"], YamlReader::join(path, "user"));
    c.password = secret(r, node, path, "password");
    c.token = secret(r, node, path, "token");
    // A command, not a secret: it runs at each scrape (prepare()), so a token it fetches is
    // always fresh. check() refuses it beside token_env/token_file.
    if (YAML::Node const command = node["oauth_token_cmd"])
        c.token_command = r.string(command, YamlReader::join(path, "oauth_token_cmd"));
    if (!c.password.given() && !c.token.given() && c.token_command.empty())
        r.fail(path, "credentials need password_env, password_file, token_env, token_file or "
                     "oauth_token_cmd");
    return c;
}

void expectations(YamlReader const& r, YAML::Node const& node, std::string const& path,
                  Expectations& e) {
    r.only_keys(node, path,
                std::initializer_list<char const*>{"auth", "starttls", "tls_min", "warning",
                                                   "critical", "sender_accepted", "rcpt_accepted"});
    if (YAML::Node n = node["auth"])
        e.auth = r.mechanism_list(n, YamlReader::join(path, "auth"));
    if (YAML::Node n = node["starttls"])
        e.starttls = r.boolean(n, YamlReader::join(path, "starttls"));
    if (YAML::Node n = node["tls_min"])
        e.tls_min = r.string(n, YamlReader::join(path, "tls_min"));
    if (YAML::Node n = node["sender_accepted"])
        e.sender_accepted = r.boolean(n, YamlReader::join(path, "sender_accepted"));
    if (YAML::Node n = node["rcpt_accepted"])
        e.rcpt_accepted = r.boolean(n, YamlReader::join(path, "rcpt_accepted"));
    if (YAML::Node n = node["warning"])
        e.warning_s =
            static_cast<double>(r.duration(n, YamlReader::join(path, "warning")).count()) / 1000.0;
    if (YAML::Node n = node["critical"])
        e.critical_s =
            static_cast<double>(r.duration(n, YamlReader::join(path, "critical")).count()) / 1000.0;
}

Module module(YamlReader const& r, std::string const& name, YAML::Node const& node) {
    std::string const path = "modules." + name;
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos)
        r.fail(path, "module names are 1 to 64 letters, digits, _ or -");
    Module m;
    m.name = name;
    if (node.IsNull())
        return m;
    // --send and --data-file have no key: say why rather than "unknown key".
    if (node.IsMap())
        for (auto const& item : node)
            if (std::string const k = item.first.as<std::string>(); k == "send" || k == "data_file")
                r.fail(YamlReader::join(path, k),
                       "an exporter module never sends mail (mail_from and rcpt test the "
                       "envelope without DATA; --send is for a one-off run of smtpprobe)");
    r.only_keys(node, path, module_key_list);
    auto key = [&](char const* k) { return YamlReader::join(path, k); };
    ProbeRequest& q = m.request;
    ProbeOptions& o = q.options;
    // One line per key: the YAML syntax here, the values' rules in check() (request.hpp).
    if (YAML::Node n = node["tls"])
        q.targets.tls = tls_mode(r, n, key("tls"));
    if (YAML::Node n = node["ehlo_name"])
        o.ehlo_name = r.string(n, key("ehlo_name"));
    if (YAML::Node n = node["mechanisms"])
        o.mechanisms = r.mechanism_list(n, key("mechanisms"));
    if (YAML::Node n = node["parallel"])
        o.parallel = static_cast<unsigned>(r.integer(n, key("parallel"), 0, 1000));
    if (YAML::Node n = node["timeout"])
        o.total_timeout = r.duration(n, key("timeout"));
    if (YAML::Node n = node["connect_timeout"])
        o.connect_timeout = r.duration(n, key("connect_timeout"));
    if (YAML::Node n = node["command_timeout"])
        o.command_timeout = r.duration(n, key("command_timeout"));
    if (YAML::Node n = node["banner_wait"])
        o.banner_wait = r.duration(n, key("banner_wait"));
    if (YAML::Node n = node["gssapi_service"])
        o.gssapi_service = r.string(n, key("gssapi_service"));
    if (YAML::Node n = node["timeout_offset"])
        m.timeout_offset = r.duration(n, key("timeout_offset"), true);
    if (YAML::Node n = node["source"]) {
        try {
            o.connection.source = net::parse_source(r.string(n, key("source")));
        } catch (std::invalid_argument const& e) {
            r.fail(key("source"), e.what());
        }
    }
    if (YAML::Node n = node["proxy"]) {
        q.proxy.url = r.string(n, key("proxy"));
        // Read now, not at the first scrape: a password in the URL would otherwise stand in
        // the configuration the status page shows. It goes in proxy_password_env/_file.
        try {
            if (!q.proxy.url->empty())
                net::parse_proxy_url(*q.proxy.url, false);
        } catch (std::invalid_argument const& e) {
            r.fail(key("proxy"), e.what());
        }
    }
    if (YAML::Node n = node["noproxy"])
        q.proxy.noproxy = r.string(n, key("noproxy"));
    q.proxy.password = secret(r, node, path, "proxy_password");
    if (YAML::Node n = node["ca_file"]) {
        o.tls.ca_file = r.string(n, key("ca_file"));
        if (!std::ifstream(o.tls.ca_file))
            r.fail(key("ca_file"), "cannot read " + o.tls.ca_file);
    }
    if (YAML::Node n = node["ca_path"])
        o.tls.ca_path = r.string(n, key("ca_path"));
    if (YAML::Node n = node["insecure"])
        o.tls.insecure = r.boolean(n, key("insecure"));
    if (YAML::Node n = node["tls_min"])
        o.tls.min_version = r.string(n, key("tls_min"));
    if (YAML::Node n = node["tls_max"])
        o.tls.max_version = r.string(n, key("tls_max"));
    if (YAML::Node n = node["sni"])
        q.targets.sni = r.string(n, key("sni"));
    if (YAML::Node n = node["no_sni"])
        o.no_sni = r.boolean(n, key("no_sni"));
    if (YAML::Node n = node["cert_warn_days"])
        q.expect.cert_warn_days = static_cast<int>(r.integer(n, key("cert_warn_days"), -1, 100000));
    if (YAML::Node n = node["cert_crit_days"])
        q.expect.cert_crit_days = static_cast<int>(r.integer(n, key("cert_crit_days"), -1, 100000));
    if (YAML::Node n = node["tls_versions"])
        o.tls_versions = r.boolean(n, key("tls_versions"));
    if (YAML::Node n = node["cert"]) {
        o.tls.client_certificate.cert_file = r.string(n, key("cert"));
        if (!std::ifstream(o.tls.client_certificate.cert_file))
            r.fail(key("cert"), "cannot read " + o.tls.client_certificate.cert_file);
    }
    if (YAML::Node n = node["key"]) {
        o.tls.client_certificate.key_file = r.string(n, key("key"));
        if (!std::ifstream(o.tls.client_certificate.key_file))
            r.fail(key("key"), "cannot read " + o.tls.client_certificate.key_file);
    }
    if (YAML::Node n = node["all_addresses"])
        o.all_addresses = r.boolean(n, key("all_addresses"));
    // The message against the extensions (issue 20): checked, never sent.
    if (YAML::Node n = node["size"])
        o.message_size = static_cast<std::uint64_t>(r.integer(n, key("size"), 1, 1L << 40));
    if (YAML::Node n = node["requiretls"])
        o.requiretls = r.boolean(n, key("requiretls"));
    if (YAML::Node n = node["credentials"])
        q.credentials = credentials(r, n, key("credentials"));
    q.credentials.key_passphrase = secret(r, node, path, "key_passphrase");
    if (YAML::Node n = node["authzid"])
        o.authzid = r.string(n, key("authzid"));
    if (YAML::Node n = node["allow_insecure_auth"])
        o.allow_insecure_auth = r.boolean(n, key("allow_insecure_auth"));
    if (YAML::Node n = node["expect"])
        expectations(r, n, key("expect"), q.expect);
    // The envelope check only (issue 20): MAIL FROM, RCPT TO, RSET; the exporter never sends.
    if (node["mail_from"] || node["rcpt"]) {
        probes::EnvelopeRequest& e = o.envelope.emplace();
        if (YAML::Node n = node["mail_from"])
            e.mail_from = r.string(n, key("mail_from"));
        if (YAML::Node n = node["rcpt"])
            e.rcpt = r.string_list(n, key("rcpt"));
    }
    try {
        check(q, smtpprobe::Reader::exporter_module);
    } catch (RequestError const& e) {
        r.fail(YamlReader::join(path, std::string(setting_name(
                                          e.setting(), smtpprobe::Reader::exporter_module))),
               e.message());
    }
    return m;
}

} // namespace

Config parse_config(std::string const& yaml, std::string const& origin) {
    YamlReader const r(origin);
    if (yaml.size() > max_config_bytes)
        r.fail("", "larger than 1 MiB");
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (YAML::Exception const& e) {
        r.fail("", std::string("not valid YAML: ") + e.what());
    }
    if (root.IsNull())
        r.fail("", "empty file");
    Config config;
    try {
        r.only_keys(root, "",
                    std::initializer_list<char const*>{
                        "modules", "allow_targets", "max_concurrent_probes", "max_queued_probes"});
        if (YAML::Node n = root["max_concurrent_probes"])
            config.max_concurrent_probes =
                static_cast<unsigned>(r.integer(n, "max_concurrent_probes", 1, max_probe_slots));
        config.max_queued_probes = config.max_concurrent_probes;
        if (YAML::Node n = root["max_queued_probes"])
            config.max_queued_probes =
                static_cast<unsigned>(r.integer(n, "max_queued_probes", 0, max_probe_slots));
        if (config.max_concurrent_probes + config.max_queued_probes > max_probe_slots)
            r.fail("", "max_concurrent_probes + max_queued_probes must not exceed " +
                           std::to_string(max_probe_slots));
        if (YAML::Node n = root["allow_targets"]) {
            if (!n.IsSequence() || n.size() > max_allow_rules)
                r.fail("allow_targets", "expected a list (at most 1024) of \"HOST:PORTS\"");
            for (std::size_t i = 0; i < n.size(); ++i) {
                std::string why;
                if (!config.allow_targets.add(r.string(n[i], "allow_targets"), why))
                    r.fail("allow_targets", why);
            }
        }
        YAML::Node const modules = root["modules"];
        if (!modules || !modules.IsMap() || modules.size() == 0)
            r.fail("modules", "at least one module is needed (e.g. modules: {default: {}})");
        if (modules.size() > max_modules)
            r.fail("modules", "at most 64 modules");
        for (auto const& item : modules) {
            std::string const name = item.first.as<std::string>();
            config.modules.emplace(name, module(r, name, item.second));
        }
    } catch (YAML::Exception const& e) {
        r.fail("", std::string("unexpected structure: ") + e.what());
    }
    return config;
}

Config load_config(std::string const& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError(path + ": cannot open the configuration file");
    std::string text(max_config_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return parse_config(text, path);
}

ProbeRequest Module::module_defaults() {
    ProbeRequest q;
    q.options.total_timeout = std::chrono::seconds(15);
    q.options.connect_timeout = std::chrono::seconds(5);
    q.options.command_timeout = std::chrono::seconds(10);
    q.proxy.from_environment = false;
    return q;
}

std::span<std::string_view const> module_keys() noexcept {
    return module_key_list;
}

Config default_config() {
    Config config;
    Module m;
    m.name = "default";
    config.modules.emplace(m.name, m);
    return config;
}

} // namespace smtpprobe::exporter
