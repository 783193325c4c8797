#include "cli.hpp"

#include "emulator/cert.hpp"
#include "net/connect.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace po = boost::program_options;

namespace smtpprobe {
namespace {

void read_emulate(std::vector<std::string> const& args, Invocation& command) {
    command.kind = Invocation::Kind::emulate;
    EmulateArguments& e = command.emulate;
    // clang-format off
    po::options_description emulate(100, 50);
    emulate.add_options()
        ("profile", po::value(&e.profile_paths)->required()->composing(), "server profile: a shipped name (azure-acs) or a JSON file; repeat for several, on the ports after the previous one's")
        ("listen", po::value(&e.listen)->default_value("127.0.0.1:2525"), "address and first port to listen on (loopback by default)")
        ("count", po::value(&e.count)->default_value(1), "serve each profile on this many consecutive ports (1 to 1024)")
        ("certificate", po::value(&e.certificate), "valid, expired, self-signed or wrong-host (default: the profile's \"certificate\", else valid)")
        ("max-connections", po::value(&e.max_connections)->default_value(64), "connections served at once per profile; more get 421 (1 to 10000)")
        ("ca-out", po::value(&e.ca_out), "write the emulator's CA certificates (PEM, one per profile) here, for clients to trust")
        ("client-cert-out", po::value(&e.client_cert_out), "write a client certificate and its key (PEM) here that profiles with request_client_certificate accept (--cert FILE; EXTERNAL)")
        ("help,h", "show this help");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                      .options(emulate)
                      .run(),
                  vm);
        if (vm.count("help")) {
            command.kind = Invocation::Kind::help;
            std::ostringstream text;
            text << "Usage: smtpprobe emulate --profile FILE [--profile FILE...] [--listen "
                    "HOST:PORT] [--count N] [--certificate KIND] [--ca-out PEM] "
                    "[--client-cert-out PEM]\n\n"
                    "Runs a local SMTP server that behaves like the profile's provider (Ctrl-C "
                    "stops it).\n\n"
                 << emulate;
            command.help_text = text.str();
            return;
        }
        po::notify(vm);
    } catch (po::error const& error) {
        throw UsageError(error.what());
    }
    if (e.count < 1 || e.count > 1024)
        throw UsageError("--count: must be between 1 and 1024");
    if (e.max_connections < 1 || e.max_connections > 10000)
        throw UsageError("--max-connections: must be between 1 and 10000");
    if (!e.certificate.empty() && !emulator::parse_certificate_kind(e.certificate))
        throw UsageError(
            "--certificate: must be valid, expired, self-signed or wrong-host, not \"" +
            e.certificate + "\"");
}

/// What the table reads that is not yet the request's type: words to convert, and the
/// settings that take several options (the password's three sources).
struct CommandLineValues {
    std::vector<std::string> targets;
    std::string tls = "auto", format = "text", color = "auto", mechanisms, expect_auth, sni;
    double connect_timeout = 10, command_timeout = 10, total_timeout = 60, banner_wait = 3;
    bool ipv4 = false, ipv6 = false, password_stdin = false;
    std::string source, user, password_env, password_file, token_env, token_file;
    std::string token_command;
    std::string proxy_password_env, proxy_password_file;
    std::string key_passphrase_env, key_passphrase_file;
    std::uint64_t size = 0; ///< --size, when given
    std::string mail_from;
    std::vector<std::string> rcpt;
    bool send = false;
};

/// The probe's option table, bound to the request `r` where the types agree, else to `v`.
po::options_description probe_options(ProbeRequest& r, CommandLineValues& v) {
    ProbeOptions& o = r.options;
    Expectations& x = r.expect;
    // The option table: one option per line, its description is the --help text.
    // clang-format off
    po::options_description connection("Connection", 100, 50);
    connection.add_options()
        ("ehlo-name", po::value(&o.ehlo_name)->default_value(o.ehlo_name), "name sent with EHLO/HELO")
        ("ipv4,4", po::bool_switch(&v.ipv4), "use IPv4 addresses only")
        ("ipv6,6", po::bool_switch(&v.ipv6), "use IPv6 addresses only")
        ("connect-timeout", po::value(&v.connect_timeout)->default_value(10), "seconds to wait for each address to accept, and for the proxy handshake")
        ("command-timeout", po::value(&v.command_timeout)->default_value(10), "seconds to wait for each reply and for the TLS handshake")
        ("banner-wait", po::value(&v.banner_wait)->default_value(3), "with --tls auto: seconds without a banner before trying TLS on a fresh connection (implicit TLS on any port)")
        ("timeout", po::value(&v.total_timeout)->default_value(60), "seconds for the whole run")
        ("parallel", po::value(&o.parallel)->default_value(4), "connections at once (1 = strictly sequential)")
        ("all-addresses", po::bool_switch(&o.all_addresses), "probe every A/AAAA address of the name on its own (at most 16, 4 at once) and report how they differ")
        ("source", po::value(&v.source), "bind every connection to this local address (ADDR, or ADDR:PORT with --parallel 1)");
    po::options_description proxy_options("Proxy (curl's rules: ALL_PROXY/all_proxy and NO_PROXY/no_proxy are honoured)", 100, 50);
    proxy_options.add_options()
        ("proxy", po::value<std::string>(), "socks5://HOST[:PORT] (resolve here), socks5h://... (the proxy resolves), http://HOST:PORT (CONNECT); USER@ before HOST to authenticate; \"\" for none")
        ("noproxy", po::value<std::string>(), "comma-separated hosts, domains or networks to reach directly (\"*\": all); replaces NO_PROXY")
        ("proxy-password-env", po::value(&v.proxy_password_env), "read the proxy password from this environment variable")
        ("proxy-password-file", po::value(&v.proxy_password_file), "read the proxy password from the first line of this file");
    po::options_description tls_options("TLS", 100, 50);
    tls_options.add_options()
        ("tls", po::value(&v.tls)->default_value("auto"), "auto (STARTTLS when offered; implicit on port 465) | starttls | implicit | none")
        ("ca-file", po::value(&o.tls.ca_file), "trust these CA certificates (PEM) instead of the system store")
        ("ca-path", po::value(&o.tls.ca_path), "trust the CA certificates in this hashed directory")
        ("insecure", po::bool_switch(&o.tls.insecure), "carry on although the certificate does not verify, and say so (credentials still need --allow-insecure-auth)")
        ("sni", po::value(&v.sni), "server name to send in SNI and to check the certificate against (default: the host name)")
        ("no-sni", po::bool_switch(&o.no_sni), "send no SNI")
        ("tls-min", po::value(&o.tls.min_version), "lowest TLS version to offer: 1.0, 1.1, 1.2, 1.3")
        ("tls-max", po::value(&o.tls.max_version), "highest TLS version to offer")
        ("cert-warn-days", po::value(&x.cert_warn_days)->default_value(30), "warning when the certificate expires within this many days")
        ("cert-crit-days", po::value(&x.cert_crit_days)->default_value(7), "critical when the certificate expires within this many days")
        ("tls-versions", po::bool_switch(&o.tls_versions), "also try TLS 1.0, 1.1, 1.2 and 1.3 one by one (one connection each) and a handshake without SNI")
        ("cert", po::value(&o.tls.client_certificate.cert_file), "client certificate (PEM; intermediates may follow) offered when the server asks for one; EXTERNAL uses it")
        ("key", po::value(&o.tls.client_certificate.key_file), "the client certificate's private key (PEM; default: the --cert file)")
        ("key-passphrase-env", po::value(&v.key_passphrase_env), "read the passphrase of an encrypted --key from this environment variable")
        ("key-passphrase-file", po::value(&v.key_passphrase_file), "read the passphrase of an encrypted --key from the first line of this file");
    po::options_description auth("Authentication (no password on the command line: ps would show it)", 100, 50);
    auth.add_options()
        ("user,u", po::value(&v.user), "user name to authenticate as")
        ("password-env", po::value(&v.password_env), "read the password from this environment variable")
        ("password-file", po::value(&v.password_file), "read the password from the first line of this file")
        ("password-stdin", po::bool_switch(&v.password_stdin), "read the password from the first line of standard input")
        ("oauth-token-env", po::value(&v.token_env), "read an OAuth 2.0 access token (XOAUTH2, OAUTHBEARER) from this variable")
        ("oauth-token-file", po::value(&v.token_file), "read an OAuth 2.0 access token from this file")
        ("oauth-token-cmd", po::value(&r.credentials.token_command), "run CMD (/bin/sh -c) and use the first line it prints as the OAuth 2.0 access token")
        ("gssapi-service", po::value(&o.gssapi_service), "GSSAPI service principal, SERVICE or SERVICE@HOST (default: smtp@ the target's host name)")
        ("authzid", po::value(&o.authzid), "authorisation identity to ask for (EXTERNAL; also PLAIN, SCRAM, DIGEST-MD5)")
        ("allow-insecure-auth", po::bool_switch(&o.allow_insecure_auth), "send credentials even without TLS or over TLS that did not verify")
        ("mechanisms", po::value(&v.mechanisms), "probe only these mechanisms (comma-separated)")
        ("show-username", po::bool_switch(&o.show_username), "show the user name in outputs (hidden by default)");
    po::options_description checks("Checks (monitoring: --format nagios; also evaluated in text and JSON)", 100, 50);
    checks.add_options()
        ("expect-auth", po::value(&v.expect_auth), "critical unless each of these mechanisms is recognised (or, with credentials, authenticates)")
        ("expect-starttls", po::bool_switch(&x.starttls), "critical unless STARTTLS is offered and works")
        ("expect-tls-min", po::value(&x.tls_min), "critical if the negotiated TLS version is older than this (1.2, 1.3)")
        ("warning", po::value<double>(), "warning if the whole run takes longer than this many seconds")
        ("critical", po::value<double>(), "critical if the whole run takes longer than this many seconds");
    // The message against the extensions (issue 20, developer M)
    po::options_description message("Message (checked against the server's extensions; nothing is sent)", 100, 50);
    message.add_options()
        ("size", po::value(&v.size), "the size in bytes of the message you mean to send: a finding when it is over the advertised SIZE (RFC 1870)")
        ("requiretls", po::bool_switch(&o.requiretls), "the message is to be sent with REQUIRETLS (RFC 8689): a finding when the server does not advertise it");
    po::options_description envelope("Envelope (after the matrix, authenticated when credentials work: MAIL FROM, RCPT TO, RSET, QUIT; never DATA)", 100, 50);
    envelope.add_options()
        ("mail-from", po::value(&v.mail_from), "send MAIL FROM with this sender (<> for the null sender) and report the reply, its meaning and the fix")
        ("rcpt", po::value(&v.rcpt)->composing(), "send RCPT TO with this recipient (repeatable; needs --mail-from)")
        ("expect-sender-accepted", po::bool_switch(&x.sender_accepted), "critical unless MAIL FROM gets 2xx")
        ("expect-rcpt-accepted", po::bool_switch(&x.rcpt_accepted), "critical unless every RCPT TO gets 2xx");
    po::options_description sending("Beyond AUTH, by request only (never in --format nagios or the exporter)", 100, 50);
    sending.add_options()
        ("line-endings", po::bool_switch(&o.line_endings), "on a connection of its own, send NOOP ended by a bare LF and by a bare CR and say whether the server rejects them, takes them as line ends, or waits (the safe part of an SMTP smuggling check; sends no mail)")
        ("send", po::bool_switch(&v.send), "send one test message after the envelope (needs --mail-from and --rcpt; one target): DATA, the message, its queue id; the only option that sends mail")
        ("data-file", po::value(&r.data_file), "with --send: send this file as the message (headers and body, as given; line endings sent as CRLF, dot-stuffed) instead of a built one");
    po::options_description output("Output", 100, 50);
    output.add_options()
        ("format,f", po::value(&v.format)->default_value("text"), "text | json | ndjson (one report a line, as each target finishes) | nagios | html (one self-contained page)")
        ("output,o", po::value(&r.outputs.file), "write the report to this file instead of standard output")
        ("transcript", po::bool_switch(&r.outputs.transcript), "print the redacted session transcript on standard error")
        ("transcript-file", po::value(&r.outputs.transcript_file), "write the redacted transcript to this file")
        ("bundle", po::value(&r.outputs.bundle_dir), "write report.txt, report.json, report.html and transcript.txt into this directory (for a support ticket)")
        ("color", po::value(&v.color)->default_value("auto"), "auto | always | never (NO_COLOR is honoured)");
    po::options_description general("General", 100, 50);
    general.add_options()
        ("targets-file", po::value(&r.targets.file), "probe the targets in this file, one HOST[:PORT] a line (# comments; - = standard input)")
        ("jobs", po::value(&r.targets.jobs)->default_value(4), "targets probed at once with several targets (--parallel is per target)")
        ("demo", po::bool_switch(&r.demo.on), "probe the built-in emulator (Azure ACS profile) on loopback: works offline")
        ("profile", po::value(&r.demo.profile), "with --demo: the server profile to emulate instead (a shipped name or a file)")
        ("help,h", "show this help")
        ("version", "show the version");
    // clang-format on
    po::options_description visible(100, 50);
    visible.add(connection)
        .add(proxy_options)
        .add(tls_options)
        .add(auth)
        .add(checks)
        .add(message)
        .add(envelope)
        .add(sending)
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
    ProbeRequest probe;
    CommandLineValues values;
    po::options_description const options = probe_options(probe, values);
    po::variables_map vm;
    try {
        po::store(parser(argc, argv, options).allow_unregistered().run(), vm);
        po::notify(vm);
    } catch (po::error const&) {
        return false;
    }
    return values.format == "nagios";
}

/// Seconds as given, in milliseconds; a value out of range stays out of range for check().
std::chrono::milliseconds milliseconds(double seconds) {
    if (std::isnan(seconds) || seconds <= 0)
        return std::chrono::milliseconds(-1);
    return std::chrono::milliseconds(static_cast<long long>(std::min(seconds, 1e9) * 1000.0));
}

/// At most one of a secret's options: the source it names.
SecretSource secret_source(Setting setting, std::string const& env, std::string const& file,
                           bool standard_input, char const* options) {
    int const given = (env.empty() ? 0 : 1) + (file.empty() ? 0 : 1) + (standard_input ? 1 : 0);
    if (given > 1)
        throw RequestError(setting, Reader::command_line,
                           std::string("give at most one of ") + options);
    if (!env.empty())
        return {SecretSource::Kind::env, env};
    if (!file.empty())
        return {SecretSource::Kind::file, file};
    if (standard_input)
        return {SecretSource::Kind::standard_input, ""};
    return {};
}

/// The values the table could not bind directly, turned into the request's types.
void convert(CommandLineValues const& v, po::variables_map const& vm, ProbeRequest& r) {
    auto fail = [](Setting setting, std::string const& message) {
        throw RequestError(setting, Reader::command_line, message);
    };
    r.targets.hosts = v.targets;
    if (vm.count("mail-from") || !v.rcpt.empty() || v.send) {
        probes::EnvelopeRequest& e = r.options.envelope.emplace();
        e.mail_from = v.mail_from;
        e.rcpt = v.rcpt;
        e.send = v.send;
    }
    std::optional<TlsMode> const tls = parse_tls_mode(v.tls);
    if (!tls)
        fail(Setting::tls, "must be auto, starttls, implicit or none (got \"" + v.tls + "\")");
    r.targets.tls = *tls;
    if (vm.count("sni"))
        r.targets.sni = v.sni;
    std::optional<Format> const format = parse_format(v.format);
    if (!format)
        fail(Setting::format,
             "must be text, json, ndjson, nagios or html (got \"" + v.format + "\")");
    r.outputs.format = *format;
    std::optional<ColorChoice> const color = parse_color_choice(v.color);
    if (!color)
        fail(Setting::color, "must be auto, always or never (got \"" + v.color + "\")");
    r.outputs.color = *color;
    if (v.ipv4 && v.ipv6)
        throw UsageError("-4 and -6 exclude each other");
    r.options.connection.family = v.ipv4   ? net::Family::ipv4
                                  : v.ipv6 ? net::Family::ipv6
                                           : net::Family::any;
    if (!v.source.empty()) {
        try {
            r.options.connection.source = net::parse_source(v.source);
        } catch (std::invalid_argument const& e) {
            throw UsageError(e.what());
        }
    }
    r.options.connect_timeout = milliseconds(v.connect_timeout);
    r.options.command_timeout = milliseconds(v.command_timeout);
    r.options.banner_wait = milliseconds(v.banner_wait);
    r.options.total_timeout = milliseconds(v.total_timeout);
    r.options.mechanisms = split_mechanism_list(v.mechanisms);
    if (vm.count("size"))
        r.options.message_size = v.size;
    r.expect.auth = split_mechanism_list(v.expect_auth);
    if (vm.count("warning"))
        r.expect.warning_s = vm["warning"].as<double>();
    if (vm.count("critical"))
        r.expect.critical_s = vm["critical"].as<double>();
    if (vm.count("user"))
        r.credentials.user = v.user;
    r.credentials.password =
        secret_source(Setting::password, v.password_env, v.password_file, v.password_stdin,
                      "--password-env, --password-file, --password-stdin");
    r.credentials.token = secret_source(Setting::token, v.token_env, v.token_file, false,
                                        "--oauth-token-env, --oauth-token-file");
    r.credentials.key_passphrase =
        secret_source(Setting::key_passphrase, v.key_passphrase_env, v.key_passphrase_file, false,
                      "--key-passphrase-env, --key-passphrase-file");
    if (vm.count("proxy"))
        r.proxy.url = vm["proxy"].as<std::string>();
    if (vm.count("noproxy"))
        r.proxy.noproxy = vm["noproxy"].as<std::string>();
    r.proxy.password =
        secret_source(Setting::proxy_password, v.proxy_password_env, v.proxy_password_file, false,
                      "--proxy-password-env, --proxy-password-file");
}

} // namespace

Invocation read_command_line(int argc, char const* const* argv) {
    Invocation command;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args.front() == "explain") {
        command.kind = Invocation::Kind::explain;
        command.arguments.assign(args.begin() + 1, args.end());
        if (command.arguments.empty())
            throw UsageError("explain needs a code, e.g. \"smtpprobe explain 504 5.7.4\"");
        return command;
    }
    if (!args.empty() && args.front() == "exporter") {
        command.kind = Invocation::Kind::exporter;
        command.arguments.assign(args.begin() + 1, args.end());
        return command;
    }
    if (!args.empty() && args.front() == "emulate") {
        read_emulate(args, command);
        return command;
    }

    ProbeRequest& r = command.request;
    CommandLineValues values;
    po::options_description const visible = probe_options(r, values);
    po::options_description hidden;
    hidden.add_options()("target", po::value(&values.targets), "HOST[:PORT]");
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
        command.kind = Invocation::Kind::help;
        std::ostringstream text;
        text << usage << "\n" << visible;
        command.help_text = text.str();
        return command;
    }
    if (vm.count("version")) {
        command.kind = Invocation::Kind::version;
        return command;
    }
    try {
        convert(values, vm, r);
        check(r, Reader::command_line);
    } catch (std::runtime_error const& e) {
        throw UsageError(e.what(), values.format == "nagios");
    }
    return command;
}

} // namespace smtpprobe
