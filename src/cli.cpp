#include "cli.hpp"

#include "smtp/capabilities.hpp"

#include <boost/program_options.hpp>

#include <charconv>
#include <cmath>
#include <sstream>

namespace po = boost::program_options;

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

Command parse_command_line(int argc, char const* const* argv) {
    Command command;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args.front() == "explain") {
        command.kind = Command::Kind::explain;
        command.codes.assign(args.begin() + 1, args.end());
        if (command.codes.empty())
            throw UsageError("explain needs a code, e.g. \"smtpprobe explain 504 5.7.4\"");
        return command;
    }
    if (!args.empty() && args.front() == "exporter") {
        command.kind = Command::Kind::exporter;
        command.codes.assign(args.begin() + 1, args.end());
        return command;
    }
    if (!args.empty() && args.front() == "emulate") {
        command.kind = Command::Kind::emulate;
        // clang-format off
        po::options_description emulate(100, 50);
        emulate.add_options()
            ("profile", po::value(&command.profile_path)->required(), "server profile (JSON), e.g. samples/servers/azure-acs.json")
            ("listen", po::value(&command.listen)->default_value("127.0.0.1:2525"), "address and port to listen on (loopback by default)")
            ("ca-out", po::value(&command.ca_out), "write the emulator's CA certificate (PEM) here, for clients to trust")
            ("help,h", "show this help");
        // clang-format on
        po::variables_map vm;
        try {
            po::store(
                po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                    .options(emulate)
                    .run(),
                vm);
            if (vm.count("help")) {
                command.kind = Command::Kind::help;
                std::ostringstream text;
                text << "Usage: smtpprobe emulate --profile FILE [--listen HOST:PORT] [--ca-out "
                        "PEM]\n\n"
                        "Runs a local SMTP server that behaves like the profile's provider (Ctrl-C "
                        "stops it).\n\n"
                     << emulate;
                command.help_text = text.str();
                return command;
            }
            po::notify(vm);
        } catch (po::error const& e) {
            throw UsageError(e.what());
        }
        return command;
    }

    Config& c = command.config;
    ProbeOptions& e = c.options;
    Target& t = c.target;
    std::string target, tls = "auto", format = "text", mechanisms;
    double connect_timeout = 10, command_timeout = 10, total_timeout = 60;
    std::string sni, source;

    std::string expect_auth;
    // The option table: one option per line, its description is the --help text.
    // clang-format off
    po::options_description connection("Connection", 100, 50);
    connection.add_options()
        ("ehlo-name", po::value(&e.ehlo_name)->default_value(e.ehlo_name), "name sent with EHLO/HELO")
        ("ipv4,4", "use IPv4 addresses only")
        ("ipv6,6", "use IPv6 addresses only")
        ("connect-timeout", po::value(&connect_timeout)->default_value(10), "seconds to wait for each address to accept, and for the proxy handshake")
        ("command-timeout", po::value(&command_timeout)->default_value(10), "seconds to wait for each reply and for the TLS handshake")
        ("timeout", po::value(&total_timeout)->default_value(60), "seconds for the whole run")
        ("parallel", po::value(&e.parallel)->default_value(4), "connections at once (1 = strictly sequential)")
        ("source", po::value(&source), "bind every connection to this local address (ADDR, or ADDR:PORT with --parallel 1)");
    po::options_description proxy_options("Proxy (curl's rules: ALL_PROXY/all_proxy and NO_PROXY/no_proxy are honoured)", 100, 50);
    proxy_options.add_options()
        ("proxy", po::value<std::string>(), "socks5://HOST[:PORT] (resolve here), socks5h://... (the proxy resolves), http://HOST:PORT (CONNECT); USER@ before HOST to authenticate; \"\" for none")
        ("noproxy", po::value<std::string>(), "comma-separated hosts, domains or networks to reach directly (\"*\": all); replaces NO_PROXY")
        ("proxy-password-env", po::value(&c.proxy_password.env), "read the proxy password from this environment variable")
        ("proxy-password-file", po::value(&c.proxy_password.file), "read the proxy password from the first line of this file");
    po::options_description tls_options("TLS", 100, 50);
    tls_options.add_options()
        ("tls", po::value(&tls)->default_value("auto"), "auto (STARTTLS when offered; implicit on port 465) | starttls | implicit | none")
        ("ca-file", po::value(&e.tls.ca_file), "trust these CA certificates (PEM) instead of the system store")
        ("ca-path", po::value(&e.tls.ca_path), "trust the CA certificates in this hashed directory")
        ("insecure", po::bool_switch(&e.tls.insecure), "carry on although the certificate does not verify, and say so (credentials still need --allow-insecure-auth)")
        ("sni", po::value(&sni), "server name to send in SNI and to check the certificate against (default: the host name)")
        ("no-sni", po::bool_switch(&e.no_sni), "send no SNI")
        ("tls-min", po::value(&e.tls.min_version), "lowest TLS version to offer: 1.0, 1.1, 1.2, 1.3")
        ("tls-max", po::value(&e.tls.max_version), "highest TLS version to offer")
        ("cert-warn-days", po::value(&c.expect.cert_warn_days)->default_value(30), "warning when the certificate expires within this many days")
        ("cert-crit-days", po::value(&c.expect.cert_crit_days)->default_value(7), "critical when the certificate expires within this many days")
        ("tls-versions", po::bool_switch(&e.tls_versions), "also try TLS 1.0, 1.1, 1.2 and 1.3 one by one (one connection each) and a handshake without SNI");
    po::options_description auth("Authentication (no password on the command line: ps would show it)", 100, 50);
    auth.add_options()
        ("user,u", po::value(&c.user), "user name to authenticate as")
        ("password-env", po::value(&c.password.env), "read the password from this environment variable")
        ("password-file", po::value(&c.password.file), "read the password from the first line of this file")
        ("password-stdin", po::bool_switch(&c.password.stdin_), "read the password from the first line of standard input")
        ("oauth-token-env", po::value(&c.token_env), "read an OAuth 2.0 access token (XOAUTH2, OAUTHBEARER) from this variable")
        ("oauth-token-file", po::value(&c.token_file), "read an OAuth 2.0 access token from this file")
        ("allow-insecure-auth", po::bool_switch(&e.allow_insecure_auth), "send credentials even without TLS or over TLS that did not verify")
        ("mechanisms", po::value(&mechanisms), "probe only these mechanisms (comma-separated)")
        ("show-username", po::bool_switch(&e.show_username), "show the user name in outputs (hidden by default)");
    po::options_description checks("Checks (monitoring: --format nagios; also evaluated in text and JSON)", 100, 50);
    checks.add_options()
        ("expect-auth", po::value(&expect_auth), "critical unless each of these mechanisms is recognised (or, with credentials, authenticates)")
        ("expect-starttls", po::bool_switch(&c.expect.starttls), "critical unless STARTTLS is offered and works")
        ("expect-tls-min", po::value(&c.expect.tls_min), "critical if the negotiated TLS version is older than this (1.2, 1.3)")
        ("warning", po::value<double>(), "warning if the whole run takes longer than this many seconds")
        ("critical", po::value<double>(), "critical if the whole run takes longer than this many seconds");
    po::options_description output("Output", 100, 50);
    output.add_options()
        ("format,f", po::value(&format)->default_value("text"), "text | json | nagios")
        ("output,o", po::value(&c.output_file), "write the report to this file instead of standard output")
        ("transcript", po::bool_switch(&c.transcript), "print the redacted session transcript on standard error")
        ("transcript-file", po::value(&c.transcript_file), "write the redacted transcript to this file")
        ("bundle", po::value(&c.bundle_dir), "write report.txt, report.json and transcript.txt into this directory (for a support ticket)")
        ("color", po::value(&c.color)->default_value("auto"), "auto | always | never (NO_COLOR is honoured)");
    po::options_description general("General", 100, 50);
    general.add_options()
        ("demo", po::bool_switch(&c.demo), "probe the built-in emulator (Azure ACS profile) on loopback: works offline")
        ("profile", po::value(&c.demo_profile), "with --demo: the server profile to emulate instead")
        ("help,h", "show this help")
        ("version", "show the version");
    // clang-format on
    po::options_description hidden;
    hidden.add_options()("target", po::value(&target), "HOST[:PORT]");
    po::positional_options_description positional;
    positional.add("target", 1);

    std::string const usage =
        "Usage: smtpprobe [options] HOST[:PORT]\n"
        "       smtpprobe --demo [options]\n"
        "       smtpprobe emulate --profile FILE [--listen HOST:PORT] [--ca-out PEM]\n"
        "       smtpprobe explain CODE [ENHANCED]\n"
        "       smtpprobe exporter [--listen HOST:PORT] [--config FILE] [--allow-target P]...\n\n"
        "Probes an SMTP server's AUTH mechanisms before and after STARTTLS and reports which ones\n"
        "it recognises (334 vs 504) and, with credentials, which ones accept them.\n";
    po::options_description visible(100, 50);
    visible.add(connection)
        .add(proxy_options)
        .add(tls_options)
        .add(auth)
        .add(checks)
        .add(output)
        .add(general);
    po::options_description all;
    all.add(visible).add(hidden);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv)
                      .options(all)
                      .positional(positional)
                      .style(po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (po::error const& error) {
        throw UsageError(error.what());
    }
    if (vm.count("help")) {
        command.kind = Command::Kind::help;
        std::ostringstream text;
        text << usage << "\n" << visible;
        command.help_text = text.str();
        return command;
    }
    if (vm.count("version")) {
        command.kind = Command::Kind::version;
        return command;
    }

    if (c.demo && !target.empty())
        throw UsageError("--demo probes the built-in emulator; give no HOST with it");
    if (!c.demo && target.empty())
        throw UsageError("no HOST given (try \"smtpprobe --demo\" or \"smtpprobe --help\")");
    if (!c.demo_profile.empty() && !c.demo)
        throw UsageError("--profile goes with --demo (or use \"smtpprobe emulate --profile\")");
    if (vm.count("ipv4") && vm.count("ipv6"))
        throw UsageError("-4 and -6 exclude each other");
    e.connection.family = vm.count("ipv4")   ? net::Family::ipv4
                          : vm.count("ipv6") ? net::Family::ipv6
                                             : net::Family::any;
    t.tls_mode = parse_tls(tls);
    if (!c.demo) {
        std::pair<std::string, unsigned short> hp = split_host_port(target);
        t.host = hp.first;
        bool const tls_given = !vm["tls"].defaulted();
        t.port = hp.second != 0 ? hp.second : (t.tls_mode == TlsMode::implicit ? 465 : 587);
        // RFC 8314: 465 is implicit TLS; anything else starts in plaintext.
        if (!tls_given && t.port == 465)
            t.tls_mode = TlsMode::implicit;
    }
    if (format == "text")
        c.format = Format::text;
    else if (format == "json")
        c.format = Format::json;
    else if (format == "nagios")
        c.format = Format::nagios;
    else
        throw UsageError("--format must be text, json or nagios (got \"" + format + "\")");
    c.expect.nagios = c.format == Format::nagios;
    if (!expect_auth.empty())
        c.expect.auth = split_list(expect_auth);
    if (!c.expect.tls_min.empty() && c.expect.tls_min != "1.0" && c.expect.tls_min != "1.1" &&
        c.expect.tls_min != "1.2" && c.expect.tls_min != "1.3")
        throw UsageError("--expect-tls-min is 1.0, 1.1, 1.2 or 1.3");
    for (char const* name : {"warning", "critical"}) {
        if (vm.count(name)) {
            double const value = vm[name].as<double>();
            if (!(value > 0) || value > 86400)
                throw UsageError(std::string("--") + name + " must be between 0 and 86400 seconds");
            (std::string(name) == "warning" ? c.expect.warning_s : c.expect.critical_s) = value;
        }
    }
    if (c.expect.warning_s && c.expect.critical_s && *c.expect.warning_s > *c.expect.critical_s)
        throw UsageError("--warning must not exceed --critical");
    if (c.color != "auto" && c.color != "always" && c.color != "never")
        throw UsageError("--color must be auto, always or never");
    e.connect_timeout = seconds(connect_timeout, "connect-timeout");
    e.command_timeout = seconds(command_timeout, "command-timeout");
    e.total_timeout = seconds(total_timeout, "timeout");
    if (c.expect.cert_warn_days < 0 || c.expect.cert_crit_days < 0 ||
        c.expect.cert_crit_days > c.expect.cert_warn_days)
        throw UsageError("need 0 <= --cert-crit-days <= --cert-warn-days");
    if (e.parallel < 1 || e.parallel > 16)
        throw UsageError("--parallel must be between 1 and 16");
    if (vm.count("sni")) {
        if (e.no_sni)
            throw UsageError("--sni and --no-sni exclude each other");
        t.sni = sni;
    }
    for (std::string const* v : {&e.tls.min_version, &e.tls.max_version})
        if (!v->empty() && *v != "1.0" && *v != "1.1" && *v != "1.2" && *v != "1.3")
            throw UsageError("TLS versions are 1.0, 1.1, 1.2 or 1.3 (got \"" + *v + "\")");
    if (!e.tls.ca_file.empty() || !e.tls.ca_path.empty())
        e.tls.use_system_store = false;
    int const sources = (!c.password.env.empty() ? 1 : 0) + (!c.password.file.empty() ? 1 : 0) +
                        (c.password.stdin_ ? 1 : 0);
    if (sources > 1)
        throw UsageError("give at most one of --password-env, --password-file, --password-stdin");
    if (!c.token_env.empty() && !c.token_file.empty())
        throw UsageError("give at most one of --oauth-token-env, --oauth-token-file");
    c.user_given = vm.count("user") != 0;
    if (!c.user_given && (sources > 0 || !c.token_env.empty() || !c.token_file.empty()))
        throw UsageError("a password or token needs --user");
    if (vm.count("proxy"))
        c.proxy = vm["proxy"].as<std::string>();
    if (vm.count("noproxy"))
        c.noproxy = vm["noproxy"].as<std::string>();
    if (!c.proxy_password.env.empty() && !c.proxy_password.file.empty())
        throw UsageError("give at most one of --proxy-password-env, --proxy-password-file");
    if (!source.empty()) {
        try {
            e.connection.source = net::parse_source(source);
        } catch (std::invalid_argument const& x) {
            throw UsageError(x.what());
        }
        // Parallel connections from one local port to one server port would collide.
        if (e.connection.source->port != 0 && e.parallel != 1)
            throw UsageError("--source ADDR:PORT needs --parallel 1 (connections at once would "
                             "all need that one local port)");
    }
    if (!mechanisms.empty()) {
        e.mechanisms = split_list(mechanisms);
        for (std::string const& m : e.mechanisms)
            if (m.size() > 20 ||
                m.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos)
                throw UsageError("\"" + m + "\" is not a SASL mechanism name (RFC 4422 §3.1)");
    }
    for (char ch : e.ehlo_name)
        if (ch == '\r' || ch == '\n' || ch == ' ' || ch == '\0')
            throw UsageError("--ehlo-name must be one word");
    return command;
}

} // namespace smtpprobe
