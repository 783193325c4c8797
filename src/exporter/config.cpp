#include "exporter/config.hpp"

#include "net/tls.hpp"
#include "sasl/mechanisms.hpp"
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

/// Errors name the file and the key path: "exporter.yml: modules.submission.tls: ...".
class Reader {
public:
    explicit Reader(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(std::string const& path, std::string const& message) const {
        throw ConfigError(origin_ + ": " + (path.empty() ? "" : path + ": ") + message);
    }

    void only_keys(YAML::Node const& map, std::string const& path,
                   std::initializer_list<char const*> keys) const {
        if (!map.IsMap())
            fail(path, "expected a mapping");
        for (auto const& item : map) {
            std::string const key = item.first.as<std::string>();
            if (std::none_of(keys.begin(), keys.end(), [&](char const* k) { return key == k; }))
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

    std::vector<std::string> mechanism_list(YAML::Node const& node, std::string const& path) const {
        if (!node.IsSequence())
            fail(path, "expected a list of SASL mechanism names");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < node.size(); ++i) {
            std::string const name = smtp::to_upper(string(node[i], path));
            if (!sasl::valid_mechanism_name(name))
                fail(path, "\"" + name + "\" is not a SASL mechanism name (RFC 4422 §3.1)");
            out.push_back(name);
        }
        return out;
    }

    static std::string join(std::string const& path, std::string const& key) {
        return path.empty() ? key : path + "." + key;
    }

private:
    std::string origin_;
};

TlsMode tls_mode(Reader const& r, YAML::Node const& node, std::string const& path) {
    if (std::optional<TlsMode> mode = parse_tls_mode(r.string(node, path)))
        return *mode;
    r.fail(path, "expected auto, starttls, implicit or none");
}

std::string tls_version(Reader const& r, YAML::Node const& node, std::string const& path) {
    std::string const v = r.string(node, path);
    if (!net::is_tls_version(v))
        r.fail(path, "expected 1.0, 1.1, 1.2 or 1.3 (quote it: \"1.2\")");
    return v;
}

SecretReference secret(Reader const& r, YAML::Node const& map, std::string const& path,
                       std::string const& what) {
    SecretReference ref;
    if (map[what])
        r.fail(Reader::join(path, what), "secrets are never written in the configuration; give " +
                                             what +
                                             "_env (a "
                                             "variable name) or " +
                                             what + "_file (a path)");
    if (YAML::Node n = map[what + "_env"])
        ref.env = r.string(n, Reader::join(path, what + "_env"));
    if (YAML::Node n = map[what + "_file"])
        ref.file = r.string(n, Reader::join(path, what + "_file"));
    if (!ref.env.empty() && !ref.file.empty())
        r.fail(path, "give " + what + "_env or " + what + "_file, not both");
    if (!ref.env.empty() && std::getenv(ref.env.c_str()) == nullptr)
        r.fail(Reader::join(path, what + "_env"), "the variable " + ref.env + " is not set");
    if (!ref.file.empty() && !std::ifstream(ref.file))
        r.fail(Reader::join(path, what + "_file"), "cannot read " + ref.file);
    return ref;
}

ModuleCredentials credentials(Reader const& r, YAML::Node const& node, std::string const& path) {
    r.only_keys(
        node, path,
        {"user", "password", "password_env", "password_file", "token", "token_env", "token_file"});
    ModuleCredentials c;
    if (!node["user"])
        r.fail(path, "credentials need a user");
    c.user = r.string(node["user"], Reader::join(path, "user"));
    c.password = secret(r, node, path, "password");
    c.token = secret(r, node, path, "token");
    if (!c.password.given() && !c.token.given())
        r.fail(path, "credentials need password_env, password_file, token_env or token_file");
    return c;
}

Expectations expectations(Reader const& r, YAML::Node const& node, std::string const& path) {
    r.only_keys(node, path, {"auth", "starttls", "tls_min", "warning", "critical"});
    Expectations e;
    if (YAML::Node n = node["auth"])
        e.auth = r.mechanism_list(n, Reader::join(path, "auth"));
    if (YAML::Node n = node["starttls"])
        e.starttls = r.boolean(n, Reader::join(path, "starttls"));
    if (YAML::Node n = node["tls_min"])
        e.tls_min = tls_version(r, n, Reader::join(path, "tls_min"));
    if (YAML::Node n = node["warning"])
        e.warning_s =
            static_cast<double>(r.duration(n, Reader::join(path, "warning")).count()) / 1000.0;
    if (YAML::Node n = node["critical"])
        e.critical_s =
            static_cast<double>(r.duration(n, Reader::join(path, "critical")).count()) / 1000.0;
    if (e.warning_s && e.critical_s && *e.warning_s > *e.critical_s)
        r.fail(path, "warning must not exceed critical");
    return e;
}

Module module(Reader const& r, std::string const& name, YAML::Node const& node) {
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
    r.only_keys(node, path,
                {"tls",
                 "ehlo_name",
                 "mechanisms",
                 "parallel",
                 "timeout",
                 "connect_timeout",
                 "command_timeout",
                 "timeout_offset",
                 "ca_file",
                 "insecure",
                 "tls_min",
                 "tls_max",
                 "sni",
                 "cert_warn_days",
                 "cert_crit_days",
                 "tls_versions",
                 "all_addresses",
                 "credentials",
                 "allow_insecure_auth",
                 "expect"});
    auto key = [&](char const* k) { return Reader::join(path, k); };
    if (YAML::Node n = node["tls"])
        m.tls = tls_mode(r, n, key("tls"));
    if (YAML::Node n = node["ehlo_name"]) {
        m.ehlo_name = r.string(n, key("ehlo_name"));
        if (m.ehlo_name.empty() || m.ehlo_name.find_first_of(" \r\n\t") != std::string::npos)
            r.fail(key("ehlo_name"), "must be one word");
    }
    if (YAML::Node n = node["mechanisms"])
        m.mechanisms = r.mechanism_list(n, key("mechanisms"));
    if (YAML::Node n = node["parallel"])
        m.parallel = static_cast<unsigned>(r.integer(n, key("parallel"), 1, 16));
    if (YAML::Node n = node["timeout"])
        m.timeout = r.duration(n, key("timeout"));
    if (YAML::Node n = node["connect_timeout"])
        m.connect_timeout = r.duration(n, key("connect_timeout"));
    if (YAML::Node n = node["command_timeout"])
        m.command_timeout = r.duration(n, key("command_timeout"));
    if (YAML::Node n = node["timeout_offset"])
        m.timeout_offset = r.duration(n, key("timeout_offset"), true);
    if (YAML::Node n = node["ca_file"]) {
        m.ca_file = r.string(n, key("ca_file"));
        if (!std::ifstream(m.ca_file))
            r.fail(key("ca_file"), "cannot read " + m.ca_file);
    }
    if (YAML::Node n = node["insecure"])
        m.insecure = r.boolean(n, key("insecure"));
    if (YAML::Node n = node["tls_min"])
        m.tls_min = tls_version(r, n, key("tls_min"));
    if (YAML::Node n = node["tls_max"])
        m.tls_max = tls_version(r, n, key("tls_max"));
    if (YAML::Node n = node["sni"])
        m.sni = r.string(n, key("sni"));
    if (YAML::Node n = node["cert_warn_days"])
        m.cert_warn_days = static_cast<int>(r.integer(n, key("cert_warn_days"), 0, 3650));
    if (YAML::Node n = node["cert_crit_days"])
        m.cert_crit_days = static_cast<int>(r.integer(n, key("cert_crit_days"), 0, 3650));
    if (m.cert_crit_days > m.cert_warn_days)
        r.fail(path, "cert_crit_days must not exceed cert_warn_days");
    if (YAML::Node n = node["tls_versions"])
        m.tls_versions = r.boolean(n, key("tls_versions"));
    if (YAML::Node n = node["all_addresses"])
        m.all_addresses = r.boolean(n, key("all_addresses"));
    if (YAML::Node n = node["credentials"])
        m.credentials = credentials(r, n, key("credentials"));
    if (YAML::Node n = node["allow_insecure_auth"])
        m.allow_insecure_auth = r.boolean(n, key("allow_insecure_auth"));
    if (YAML::Node n = node["expect"])
        m.expect = expectations(r, n, key("expect"));
    return m;
}

} // namespace

Config parse_config(std::string const& yaml, std::string const& origin) {
    Reader const r(origin);
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
                    {"modules", "allow_targets", "max_concurrent_probes", "max_queued_probes"});
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

Config default_config() {
    Config config;
    Module m;
    m.name = "default";
    config.modules.emplace(m.name, m);
    return config;
}

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
        out << YAML::Key << name << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "tls" << YAML::Value << std::string(to_string(m.tls));
        out << YAML::Key << "ehlo_name" << YAML::Value << m.ehlo_name;
        if (!m.mechanisms.empty())
            out << YAML::Key << "mechanisms" << YAML::Value << YAML::Flow << m.mechanisms;
        out << YAML::Key << "parallel" << YAML::Value << m.parallel;
        if (m.all_addresses)
            out << YAML::Key << "all_addresses" << YAML::Value << true;
        out << YAML::Key << "timeout" << YAML::Value << std::to_string(m.timeout.count()) + "ms";
        if (!m.ca_file.empty())
            out << YAML::Key << "ca_file" << YAML::Value << m.ca_file;
        if (m.credentials) {
            ModuleCredentials const& c = *m.credentials;
            out << YAML::Key << "credentials" << YAML::Value << YAML::BeginMap;
            // The user name is hidden in every output unless asked for (README "Secrets").
            out << YAML::Key << "user" << YAML::Value
                << "<hidden, " + std::to_string(c.user.size()) + " characters>";
            for (auto const& [what, ref] :
                 {std::pair{"password", &c.password}, std::pair{"token", &c.token}}) {
                if (!ref->env.empty())
                    out << YAML::Key << std::string(what) + "_env" << YAML::Value << ref->env;
                if (!ref->file.empty())
                    out << YAML::Key << std::string(what) + "_file" << YAML::Value << ref->file;
            }
            out << YAML::EndMap;
        }
        if (!m.expect.auth.empty())
            out << YAML::Key << "expect_auth" << YAML::Value << YAML::Flow << m.expect.auth;
        out << YAML::EndMap;
    }
    out << YAML::EndMap << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

} // namespace smtpprobe::exporter
