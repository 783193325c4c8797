#include "cli.hpp"

#include "emulator/cert.hpp"

#include <boost/program_options.hpp>

#include <sstream>

namespace po = boost::program_options;

namespace smtpprobe {
namespace {

void parse_emulate(std::vector<std::string> const& args, Command& command) {
    command.kind = Command::Kind::emulate;
    // clang-format off
    po::options_description emulate(100, 50);
    emulate.add_options()
        ("profile", po::value(&command.profile_paths)->required()->composing(), "server profile: a shipped name (azure-acs) or a JSON file; repeat for several, on the ports after the previous one's")
        ("listen", po::value(&command.listen)->default_value("127.0.0.1:2525"), "address and first port to listen on (loopback by default)")
        ("count", po::value(&command.count)->default_value(1), "serve each profile on this many consecutive ports (1 to 1024)")
        ("certificate", po::value(&command.certificate), "valid, expired, self-signed or wrong-host (default: the profile's \"certificate\", else valid)")
        ("max-connections", po::value(&command.max_connections)->default_value(64), "connections served at once per profile; more get 421 (1 to 10000)")
        ("ca-out", po::value(&command.ca_out), "write the emulator's CA certificates (PEM, one per profile) here, for clients to trust")
        ("help,h", "show this help");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                      .options(emulate)
                      .run(),
                  vm);
        if (vm.count("help")) {
            command.kind = Command::Kind::help;
            std::ostringstream text;
            text << "Usage: smtpprobe emulate --profile FILE [--profile FILE...] [--listen "
                    "HOST:PORT] [--count N] [--certificate KIND] [--ca-out PEM]\n\n"
                    "Runs a local SMTP server that behaves like the profile's provider (Ctrl-C "
                    "stops it).\n\n"
                 << emulate;
            command.help_text = text.str();
            return;
        }
        po::notify(vm);
    } catch (po::error const& e) {
        throw UsageError(e.what());
    }
    if (command.count < 1 || command.count > 1024)
        throw UsageError("--count must be between 1 and 1024");
    if (command.max_connections < 1 || command.max_connections > 10000)
        throw UsageError("--max-connections must be between 1 and 10000");
    if (!command.certificate.empty() && !emulator::parse_certificate_kind(command.certificate))
        throw UsageError("--certificate must be valid, expired, self-signed or wrong-host, not \"" +
                         command.certificate + "\"");
}

/// The probe's option table, bound to `c` (mostly c.given, checked by validate()).
po::options_description probe_options(Config& c) {
    Config::Given& g = c.given;
    // The option table: one option per line, its description is the --help text.
    // clang-format off
    po::options_description connection("Connection", 100, 50);
    connection.add_options()
        ("ehlo-name", po::value(&c.options.ehlo_name)->default_value(c.options.ehlo_name), "name sent with EHLO/HELO")
        ("ipv4,4", po::bool_switch(&g.ipv4), "use IPv4 addresses only")
        ("ipv6,6", po::bool_switch(&g.ipv6), "use IPv6 addresses only")
        ("connect-timeout", po::value(&g.connect_timeout)->default_value(10), "seconds to wait for each address to accept, and for the proxy handshake")
        ("command-timeout", po::value(&g.command_timeout)->default_value(10), "seconds to wait for each reply and for the TLS handshake")
        ("banner-wait", po::value(&g.banner_wait)->default_value(3), "with --tls auto: seconds without a banner before trying TLS on a fresh connection (implicit TLS on any port)")
        ("timeout", po::value(&g.total_timeout)->default_value(60), "seconds for the whole run")
        ("parallel", po::value(&c.options.parallel)->default_value(4), "connections at once (1 = strictly sequential)")
        ("all-addresses", po::bool_switch(&c.options.all_addresses), "probe every A/AAAA address of the name on its own (at most 16, 4 at once) and report how they differ")
        ("source", po::value(&g.source), "bind every connection to this local address (ADDR, or ADDR:PORT with --parallel 1)");
    po::options_description proxy_options("Proxy (curl's rules: ALL_PROXY/all_proxy and NO_PROXY/no_proxy are honoured)", 100, 50);
    proxy_options.add_options()
        ("proxy", po::value<std::string>(), "socks5://HOST[:PORT] (resolve here), socks5h://... (the proxy resolves), http://HOST:PORT (CONNECT); USER@ before HOST to authenticate; \"\" for none")
        ("noproxy", po::value<std::string>(), "comma-separated hosts, domains or networks to reach directly (\"*\": all); replaces NO_PROXY")
        ("proxy-password-env", po::value(&c.proxy_password.env), "read the proxy password from this environment variable")
        ("proxy-password-file", po::value(&c.proxy_password.file), "read the proxy password from the first line of this file");
    po::options_description tls_options("TLS", 100, 50);
    tls_options.add_options()
        ("tls", po::value(&g.tls)->default_value("auto"), "auto (STARTTLS when offered; implicit on port 465) | starttls | implicit | none")
        ("ca-file", po::value(&c.options.tls.ca_file), "trust these CA certificates (PEM) instead of the system store")
        ("ca-path", po::value(&c.options.tls.ca_path), "trust the CA certificates in this hashed directory")
        ("insecure", po::bool_switch(&c.options.tls.insecure), "carry on although the certificate does not verify, and say so (credentials still need --allow-insecure-auth)")
        ("sni", po::value(&g.sni), "server name to send in SNI and to check the certificate against (default: the host name)")
        ("no-sni", po::bool_switch(&c.options.no_sni), "send no SNI")
        ("tls-min", po::value(&c.options.tls.min_version), "lowest TLS version to offer: 1.0, 1.1, 1.2, 1.3")
        ("tls-max", po::value(&c.options.tls.max_version), "highest TLS version to offer")
        ("cert-warn-days", po::value(&c.expect.cert_warn_days)->default_value(30), "warning when the certificate expires within this many days")
        ("cert-crit-days", po::value(&c.expect.cert_crit_days)->default_value(7), "critical when the certificate expires within this many days")
        ("tls-versions", po::bool_switch(&c.options.tls_versions), "also try TLS 1.0, 1.1, 1.2 and 1.3 one by one (one connection each) and a handshake without SNI");
    po::options_description auth("Authentication (no password on the command line: ps would show it)", 100, 50);
    auth.add_options()
        ("user,u", po::value(&c.user), "user name to authenticate as")
        ("password-env", po::value(&c.password.env), "read the password from this environment variable")
        ("password-file", po::value(&c.password.file), "read the password from the first line of this file")
        ("password-stdin", po::bool_switch(&c.password.stdin_), "read the password from the first line of standard input")
        ("oauth-token-env", po::value(&c.token_env), "read an OAuth 2.0 access token (XOAUTH2, OAUTHBEARER) from this variable")
        ("oauth-token-file", po::value(&c.token_file), "read an OAuth 2.0 access token from this file")
        ("allow-insecure-auth", po::bool_switch(&c.options.allow_insecure_auth), "send credentials even without TLS or over TLS that did not verify")
        ("mechanisms", po::value(&g.mechanisms), "probe only these mechanisms (comma-separated)")
        ("show-username", po::bool_switch(&c.options.show_username), "show the user name in outputs (hidden by default)");
    po::options_description checks("Checks (monitoring: --format nagios; also evaluated in text and JSON)", 100, 50);
    checks.add_options()
        ("expect-auth", po::value(&g.expect_auth), "critical unless each of these mechanisms is recognised (or, with credentials, authenticates)")
        ("expect-starttls", po::bool_switch(&c.expect.starttls), "critical unless STARTTLS is offered and works")
        ("expect-tls-min", po::value(&c.expect.tls_min), "critical if the negotiated TLS version is older than this (1.2, 1.3)")
        ("warning", po::value<double>(), "warning if the whole run takes longer than this many seconds")
        ("critical", po::value<double>(), "critical if the whole run takes longer than this many seconds");
    po::options_description output("Output", 100, 50);
    output.add_options()
        ("format,f", po::value(&g.format)->default_value("text"), "text | json | ndjson (one report a line, as each target finishes) | nagios")
        ("output,o", po::value(&c.output_file), "write the report to this file instead of standard output")
        ("transcript", po::bool_switch(&c.transcript), "print the redacted session transcript on standard error")
        ("transcript-file", po::value(&c.transcript_file), "write the redacted transcript to this file")
        ("bundle", po::value(&c.bundle_dir), "write report.txt, report.json and transcript.txt into this directory (for a support ticket)")
        ("color", po::value(&c.color)->default_value("auto"), "auto | always | never (NO_COLOR is honoured)");
    po::options_description general("General", 100, 50);
    general.add_options()
        ("targets-file", po::value(&c.targets_file), "probe the targets in this file, one HOST[:PORT] a line (# comments; - = standard input)")
        ("jobs", po::value(&c.jobs)->default_value(4), "targets probed at once with several targets (--parallel is per target)")
        ("demo", po::bool_switch(&c.demo), "probe the built-in emulator (Azure ACS profile) on loopback: works offline")
        ("profile", po::value(&c.demo_profile), "with --demo: the server profile to emulate instead (a shipped name or a file)")
        ("help,h", "show this help")
        ("version", "show the version");
    // clang-format on
    po::options_description visible(100, 50);
    visible.add(connection)
        .add(proxy_options)
        .add(tls_options)
        .add(auth)
        .add(checks)
        .add(output)
        .add(general);
    return visible;
}

char const* const usage =
    "Usage: smtpprobe [options] HOST[:PORT]...\n"
    "       smtpprobe [options] --targets-file FILE|-\n"
    "       smtpprobe --demo [options]\n"
    "       smtpprobe emulate --profile FILE... [--listen HOST:PORT] [--count N] [--ca-out PEM]\n"
    "       smtpprobe explain CODE [ENHANCED]\n"
    "       smtpprobe exporter [--listen HOST:PORT] [--config FILE] [--allow-target P]...\n\n"
    "Probes an SMTP server's AUTH mechanisms before and after STARTTLS and reports which ones\n"
    "it recognises (334 vs 504) and, with credentials, which ones accept them.\n";

po::command_line_parser parser(int argc, char const* const* argv,
                               po::options_description const& options) {
    po::command_line_parser p(argc, argv);
    p.options(options).style(po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing);
    return p;
}

/// After a parse error: whether --format nagios was given, read with the same table.
bool nagios_requested(int argc, char const* const* argv) {
    Config probe;
    po::options_description const options = probe_options(probe);
    po::variables_map vm;
    try {
        po::store(parser(argc, argv, options).allow_unregistered().run(), vm);
        po::notify(vm);
    } catch (po::error const&) {
        return false;
    }
    return probe.given.format == "nagios";
}

} // namespace

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
        parse_emulate(args, command);
        return command;
    }

    Config& c = command.config;
    po::options_description const visible = probe_options(c);
    po::options_description hidden;
    hidden.add_options()("target", po::value(&c.given.targets), "HOST[:PORT]");
    po::positional_options_description positional;
    positional.add("target", -1);
    po::options_description all;
    all.add(visible).add(hidden);

    po::variables_map vm;
    try {
        po::store(parser(argc, argv, all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (po::error const& error) {
        throw UsageError(error.what(), nagios_requested(argc, argv));
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
    c.given.tls_given = !vm["tls"].defaulted();
    c.given.sni_given = vm.count("sni") != 0;
    c.user_given = vm.count("user") != 0;
    if (vm.count("warning"))
        c.given.warning = vm["warning"].as<double>();
    if (vm.count("critical"))
        c.given.critical = vm["critical"].as<double>();
    if (vm.count("proxy"))
        c.proxy = vm["proxy"].as<std::string>();
    if (vm.count("noproxy"))
        c.noproxy = vm["noproxy"].as<std::string>();
    try {
        validate(c);
    } catch (UsageError const& e) {
        throw UsageError(e.what(), c.given.format == "nagios");
    }
    return command;
}

} // namespace smtpprobe
