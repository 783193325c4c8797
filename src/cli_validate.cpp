#include "cli.hpp"

#include "sasl/mechanisms.hpp"
#include "smtp/ascii.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace smtpprobe {
namespace {

unsigned short parse_port(std::string const& text) {
    unsigned value = 0;
    std::from_chars_result r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || value == 0 || value > 65535)
        throw UsageError("invalid port \"" + text + "\"");
    return static_cast<unsigned short>(value);
}

std::chrono::milliseconds seconds(double value, char const* option) {
    if (!(value > 0) || value > 86400 || std::isnan(value))
        throw UsageError(std::string("--") + option + " must be between 0 and 86400 seconds");
    return std::chrono::milliseconds(static_cast<long long>(value * 1000.0));
}

TlsMode parse_tls(std::string const& text) {
    if (std::optional<TlsMode> mode = parse_tls_mode(text))
        return *mode;
    throw UsageError("--tls must be auto, starttls, implicit or none (got \"" + text + "\")");
}

std::vector<std::string> split_list(std::string const& text) {
    std::vector<std::string> out;
    std::string item;
    for (char c : text) {
        if (c == ',' || c == ' ') {
            if (!item.empty())
                out.push_back(smtp::to_upper(item));
            item.clear();
        } else {
            item += c;
        }
    }
    if (!item.empty())
        out.push_back(smtp::to_upper(item));
    return out;
}

} // namespace

std::pair<std::string, unsigned short> split_host_port(std::string const& text) {
    if (text.empty())
        throw UsageError("empty host");
    if (text.front() == '[') {
        std::size_t close = text.find(']');
        if (close == std::string::npos)
            throw UsageError("unbalanced [ in \"" + text + "\"");
        std::string host = text.substr(1, close - 1);
        if (close + 1 == text.size())
            return {host, 0};
        if (text[close + 1] != ':')
            throw UsageError("expected :PORT after ] in \"" + text + "\"");
        return {host, parse_port(text.substr(close + 2))};
    }
    std::size_t const colon = text.find(':');
    if (colon == std::string::npos)
        return {text, 0};
    if (text.find(':', colon + 1) != std::string::npos)
        return {text, 0}; // a bare IPv6 address
    if (colon == 0)
        throw UsageError("missing host in \"" + text + "\"");
    return {text.substr(0, colon), parse_port(text.substr(colon + 1))};
}

Target parse_target(std::string const& text, Config::Given const& g) {
    Target t;
    t.tls_mode = parse_tls(g.tls);
    std::pair<std::string, unsigned short> hp = split_host_port(text);
    t.host = hp.first;
    t.port = hp.second != 0 ? hp.second : (t.tls_mode == TlsMode::implicit ? 465 : 587);
    // RFC 8314: 465 is implicit TLS; anything else starts in plaintext.
    if (!g.tls_given && t.port == 465)
        t.tls_mode = TlsMode::implicit;
    if (g.sni_given)
        t.sni = g.sni;
    return t;
}

void validate(Config& c) {
    Config::Given const& g = c.given;
    ProbeOptions& e = c.options;
    Target& t = c.target;
    bool const listed = !g.targets.empty() || !c.targets_file.empty();
    if (c.demo && listed)
        throw UsageError("--demo probes the built-in emulator; give no HOST with it");
    if (!c.demo && !listed)
        throw UsageError("no HOST given (try \"smtpprobe --demo\" or \"smtpprobe --help\")");
    if (!c.demo_profile.empty() && !c.demo)
        throw UsageError("--profile goes with --demo (or use \"smtpprobe emulate --profile\")");
    if (g.ipv4 && g.ipv6)
        throw UsageError("-4 and -6 exclude each other");
    e.connection.family = g.ipv4   ? net::Family::ipv4
                          : g.ipv6 ? net::Family::ipv6
                                   : net::Family::any;
    t.tls_mode = parse_tls(g.tls);
    c.batch = g.targets.size() > 1 || !c.targets_file.empty() || g.format == "ndjson";
    if (c.jobs < 1 || c.jobs > 64)
        throw UsageError("--jobs must be between 1 and 64");
    if (c.batch && g.format == "nagios")
        throw UsageError("--format nagios checks one target (got " +
                         (c.targets_file.empty() ? std::to_string(g.targets.size())
                                                 : std::string("a targets file")) +
                         ")");
    if (c.batch && (c.transcript || !c.transcript_file.empty() || !c.bundle_dir.empty()))
        throw UsageError("--transcript, --transcript-file and --bundle take one target");
    if (!c.demo && !c.batch)
        t = parse_target(g.targets.front(), g);
    if (g.format == "text")
        c.format = Format::text;
    else if (g.format == "json")
        c.format = Format::json;
    else if (g.format == "nagios")
        c.format = Format::nagios;
    else if (g.format == "ndjson")
        c.format = Format::ndjson;
    else
        throw UsageError("--format must be text, json, ndjson or nagios (got \"" + g.format +
                         "\")");
    c.expect.nagios = c.format == Format::nagios;
    if (!g.expect_auth.empty())
        c.expect.auth = split_list(g.expect_auth);
    if (!c.expect.tls_min.empty() && !net::is_tls_version(c.expect.tls_min))
        throw UsageError("--expect-tls-min is 1.0, 1.1, 1.2 or 1.3");
    for (auto [value, name] : {std::pair{g.warning, "warning"}, std::pair{g.critical, "critical"}})
        if (value && (!(*value > 0) || *value > 86400))
            throw UsageError(std::string("--") + name + " must be between 0 and 86400 seconds");
    c.expect.warning_s = g.warning;
    c.expect.critical_s = g.critical;
    if (c.expect.warning_s && c.expect.critical_s && *c.expect.warning_s > *c.expect.critical_s)
        throw UsageError("--warning must not exceed --critical");
    if (c.color != "auto" && c.color != "always" && c.color != "never")
        throw UsageError("--color must be auto, always or never");
    e.connect_timeout = seconds(g.connect_timeout, "connect-timeout");
    e.command_timeout = seconds(g.command_timeout, "command-timeout");
    e.banner_wait = seconds(g.banner_wait, "banner-wait");
    e.total_timeout = seconds(g.total_timeout, "timeout");
    if (c.expect.cert_warn_days < 0 || c.expect.cert_crit_days < 0 ||
        c.expect.cert_crit_days > c.expect.cert_warn_days)
        throw UsageError("need 0 <= --cert-crit-days <= --cert-warn-days");
    if (e.parallel < 1 || e.parallel > 16)
        throw UsageError("--parallel must be between 1 and 16");
    if (g.sni_given && e.no_sni)
        throw UsageError("--sni and --no-sni exclude each other");
    for (std::string const* v : {&e.tls.min_version, &e.tls.max_version})
        if (!v->empty() && !net::is_tls_version(*v))
            throw UsageError("TLS versions are 1.0, 1.1, 1.2 or 1.3 (got \"" + *v + "\")");
    if (!e.tls.ca_file.empty() || !e.tls.ca_path.empty())
        e.tls.use_system_store = false;
    int const sources = (!c.password.env.empty() ? 1 : 0) + (!c.password.file.empty() ? 1 : 0) +
                        (c.password.stdin_ ? 1 : 0);
    if (sources > 1)
        throw UsageError("give at most one of --password-env, --password-file, --password-stdin");
    if (!c.token_env.empty() && !c.token_file.empty())
        throw UsageError("give at most one of --oauth-token-env, --oauth-token-file");
    if (!c.proxy_password.env.empty() && !c.proxy_password.file.empty())
        throw UsageError("give at most one of --proxy-password-env, --proxy-password-file");
    if (!g.source.empty()) {
        try {
            e.connection.source = net::parse_source(g.source);
        } catch (std::invalid_argument const& x) {
            throw UsageError(x.what());
        }
        // Parallel connections from one local port to one server port would collide.
        if (e.connection.source->port != 0 && e.parallel != 1)
            throw UsageError("--source ADDR:PORT needs --parallel 1 (connections at once would "
                             "all need that one local port)");
    }
    if (!c.user_given && (sources > 0 || !c.token_env.empty() || !c.token_file.empty()))
        throw UsageError("a password or token needs --user");
    if (!g.mechanisms.empty()) {
        e.mechanisms = split_list(g.mechanisms);
        for (std::string const& m : e.mechanisms)
            if (!sasl::valid_mechanism_name(m))
                throw UsageError("\"" + m + "\" is not a SASL mechanism name (RFC 4422 §3.1)");
    }
    for (char ch : e.ehlo_name)
        if (ch == '\r' || ch == '\n' || ch == ' ' || ch == '\0')
            throw UsageError("--ehlo-name must be one word");
}

} // namespace smtpprobe
