// smtpprobe: parse the command line, run the probe, print the report, return the exit code.

#include "cli.hpp"
#include "diagnose/evaluate.hpp"
#include "diagnose/status_codes.hpp"
#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "engine/probe.hpp"
#include "exporter/exporter_command.hpp"
#include "net/interrupt.hpp"
#include "net/resolve.hpp"
#include "report/render.hpp"
#include "session/redactor.hpp"
#include "session/transcript.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

namespace smtpprobe {

extern char const* const builtin_demo_profile;

namespace {

void print_error(std::string_view message) {
    bool const color = ::isatty(2) == 1 && std::getenv("NO_COLOR") == nullptr;
    std::cerr << (color ? "\033[1;31msmtpprobe: error:\033[0m " : "smtpprobe: error: ") << message
              << "\n";
}

std::string first_line(std::istream& in) {
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.pop_back();
    return line;
}

std::string read_secret_file(std::string const& path, char const* what) {
    std::ifstream in(path);
    if (!in)
        throw UsageError(std::string("cannot read the ") + what + " file " + path);
    return first_line(in);
}

std::string read_secret_env(std::string const& name, char const* what) {
    char const* value = std::getenv(name.c_str());
    if (value == nullptr)
        throw UsageError(std::string("the ") + what + " variable " + name + " is not set");
    return value;
}

/// Reads a password from the terminal without echo (msmtp and swaks do the same).
std::string prompt_password() {
    // Not "Password for <user>": stderr may be captured into a ticket, and the user name is
    // shown only with --show-username.
    std::cerr << "Password (not echoed): " << std::flush;
    termios old_mode{};
    bool const restore = ::tcgetattr(0, &old_mode) == 0;
    if (restore) {
        termios quiet = old_mode;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(0, TCSANOW, &quiet);
    }
    std::string password = first_line(std::cin);
    if (restore)
        ::tcsetattr(0, TCSANOW, &old_mode);
    std::cerr << "\n";
    return password;
}

void load_credentials(Config& c) {
    if (!c.user_given)
        return;
    sasl::Credentials credentials;
    credentials.user = c.user;
    if (!c.password.env.empty())
        credentials.password = read_secret_env(c.password.env, "password");
    else if (!c.password.file.empty())
        credentials.password = read_secret_file(c.password.file, "password");
    else if (c.password.stdin_)
        credentials.password = first_line(std::cin);
    else if (c.token_env.empty() && c.token_file.empty() && ::isatty(0) == 1)
        credentials.password = prompt_password();
    if (!c.token_env.empty())
        credentials.token = read_secret_env(c.token_env, "token");
    else if (!c.token_file.empty())
        credentials.token = read_secret_file(c.token_file, "token");
    c.options.credentials = std::move(credentials);
}

/// The proxy for this target, as curl would choose it (net::choose_proxy), with its password
/// from --proxy-password-env/-file. Bad URLs and missing passwords are usage errors.
void resolve_proxy(Config& c) {
    net::ProxySources sources;
    sources.proxy = c.proxy;
    sources.noproxy = c.noproxy;
    sources.getenv = [](char const* name) -> std::optional<std::string> {
        char const* value = std::getenv(name);
        if (value == nullptr)
            return std::nullopt;
        return std::string(value);
    };
    net::ProxyChoice choice;
    try {
        choice = net::choose_proxy(sources, c.target.host);
    } catch (std::invalid_argument const& e) {
        throw UsageError(e.what());
    }
    bool const password_given = !c.proxy_password.env.empty() || !c.proxy_password.file.empty();
    if (password_given && !choice.proxy && choice.bypass_reason.empty())
        throw UsageError("--proxy-password-env/--proxy-password-file need a proxy (--proxy or "
                         "ALL_PROXY)");
    c.options.connection.proxy_bypass_reason = choice.bypass_reason;
    if (!choice.proxy)
        return;
    net::ProxySpec& proxy = *choice.proxy;
    if (!c.proxy_password.env.empty())
        proxy.password = read_secret_env(c.proxy_password.env, "proxy password");
    else if (!c.proxy_password.file.empty())
        proxy.password = read_secret_file(c.proxy_password.file, "proxy password");
    if (password_given && proxy.user.empty())
        throw UsageError(
            "a proxy password needs a user in the proxy URL (socks5://USER@HOST:PORT)");
    if (!proxy.user.empty() && proxy.password.empty())
        throw UsageError("the proxy user " + proxy.user +
                         " needs a password: --proxy-password-env or --proxy-password-file");
    c.options.connection.proxy = std::move(proxy);
}

void write_output(std::string const& path, std::string const& text, char const* what) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text))
        throw UsageError(std::string("cannot write the ") + what + " to " + path);
}

int run_probe_command(Config& c) {
    load_credentials(c);
    // Local configuration problems (unreadable CA file, bad TLS version) are usage errors.
    try {
        net::TlsClientContext check(c.options.tls);
    } catch (std::runtime_error const& e) {
        throw UsageError(e.what());
    }
    if (!c.demo)
        resolve_proxy(c);
    std::unique_ptr<emulator::Server> demo;
    if (c.demo) {
        c.target.host = "127.0.0.1";
        resolve_proxy(c);
        emulator::Profile profile;
        try {
            profile = c.demo_profile.empty()
                          ? emulator::parse_profile(nlohmann::json::parse(builtin_demo_profile),
                                                    "built-in azure-acs profile")
                          : emulator::load_profile(c.demo_profile);
        } catch (std::exception const& e) {
            throw UsageError(e.what());
        }
        std::string const name = profile.name;
        bool const implicit = profile.tls == emulator::TlsMode::implicit;
        demo = std::make_unique<emulator::Server>(std::move(profile), emulator::ServerOptions{});
        demo->start();
        c.target.host = "127.0.0.1";
        c.target.port = demo->port();
        c.options.tls.ca_pem = demo->ca_pem();
        c.options.tls.use_system_store = false;
        if (implicit && c.target.tls_mode == TlsMode::auto_)
            c.target.tls_mode = TlsMode::implicit;
        std::cerr << "smtpprobe: demo: probing the built-in emulator (profile " << name
                  << ") on 127.0.0.1:" << demo->port() << "\n";
    }
    bool const want_transcript =
        c.transcript || !c.transcript_file.empty() || !c.bundle_dir.empty();
    TranscriptObserver observer(want_transcript);
    Report const report = probe(c.target, c.options, observer);
    if (demo)
        demo->stop();
    Verdict const verdict = evaluate(report, c.expect);
    Redactor const& redactor = observer.redactor();
    Transcript const& transcript = observer.transcript();

    bool const to_terminal = c.output_file.empty() && ::isatty(1) == 1;
    bool const color = c.color == "always" ||
                       (c.color == "auto" && to_terminal && std::getenv("NO_COLOR") == nullptr);
    std::string const text =
        redactor.redact(c.format == Format::json     ? render_json(report, verdict)
                        : c.format == Format::nagios ? render_nagios(report, verdict)
                                                     : render_text(report, verdict, {color}));
    if (want_transcript) {
        std::string const lines = transcript.render(redactor);
        if (c.transcript)
            std::cerr << lines;
        if (!c.transcript_file.empty())
            write_output(c.transcript_file, lines, "transcript");
    }
    if (!c.bundle_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(c.bundle_dir, ec);
        write_output(c.bundle_dir + "/report.txt", redactor.redact(render_text(report, verdict)),
                     "report");
        write_output(c.bundle_dir + "/report.json", redactor.redact(render_json(report, verdict)),
                     "report");
        write_output(c.bundle_dir + "/transcript.txt", transcript.render(redactor), "transcript");
        std::cerr
            << "smtpprobe: wrote " << c.bundle_dir << "/report.txt, report.json and "
            << "transcript.txt (secrets redacted; the user name too unless --show-username)\n";
    }
    if (c.output_file.empty())
        std::cout << text << std::flush;
    else
        write_output(c.output_file, text, "report");
    return verdict.exit_code;
}

int run_explain_command(std::vector<std::string> const& codes) {
    std::string query;
    for (std::string const& code : codes)
        query += (query.empty() ? "" : " ") + code;
    std::optional<diagnose::CodeQuery> parsed = diagnose::parse_code_query(query);
    if (!parsed)
        throw UsageError("\"" + query +
                         "\" is not a reply code (e.g. 504) or an enhanced status "
                         "code (e.g. 5.7.4)");
    for (diagnose::Meaning const& m : diagnose::explain(parsed->reply_code, parsed->enhanced)) {
        std::cout << m.subject << "  " << m.text << "\n";
        std::cout << std::string(m.subject.size() + 2, ' ') << "source: " << m.source << "\n";
        if (!m.advice.empty())
            std::cout << std::string(m.subject.size() + 2, ' ') << "what to do: " << m.advice
                      << "\n";
    }
    return exit_code::ok;
}

int run_emulate_command(Command const& command) {
    emulator::Profile profile;
    try {
        profile = emulator::load_profile(command.profile_path);
    } catch (std::exception const& e) {
        throw UsageError(e.what());
    }
    std::pair<std::string, unsigned short> listen = split_host_port(command.listen);
    emulator::ServerOptions options;
    options.listen_host = listen.first;
    options.port = listen.second;
    std::string const name = profile.name;
    if (!net::is_loopback(listen.first))
        std::cerr << "smtpprobe: warning: listening on " << listen.first
                  << ", which other hosts may reach; the emulator is a test server\n";
    emulator::Server server(std::move(profile), options);
    if (!command.ca_out.empty())
        write_output(command.ca_out, server.ca_pem(), "CA certificate");
    server.start();
    std::cerr << "smtpprobe: emulating " << name << " on " << listen.first << ":" << server.port()
              << (command.ca_out.empty() ? "" : "; CA certificate in " + command.ca_out)
              << "; Ctrl-C stops\n";
    // Runs until SIGINT/SIGTERM: that is what this command is for.
    pollfd fd{net::interrupt_fd(), POLLIN, 0};
    while (!net::interrupted())
        ::poll(&fd, 1, 1000);
    server.stop();
    std::cerr << "smtpprobe: emulator stopped after " << server.connections_accepted()
              << " connection(s)\n";
    return exit_code::ok;
}

} // namespace
} // namespace smtpprobe

int main(int argc, char** argv) {
    using namespace smtpprobe;
    net::install_interrupt_handler();
    try {
        Command command = parse_command_line(argc, argv);
        switch (command.kind) {
        case Command::Kind::help:
            std::cout << command.help_text;
            return exit_code::ok;
        case Command::Kind::version:
            std::cout << "smtpprobe " SMTPPROBE_VERSION "\n";
            return exit_code::ok;
        case Command::Kind::explain:
            return run_explain_command(command.codes);
        case Command::Kind::emulate:
            return run_emulate_command(command);
        case Command::Kind::exporter:
            return exporter::run_exporter_command(command.codes);
        case Command::Kind::probe:
            return run_probe_command(command.config);
        }
    } catch (UsageError const& e) {
        // Monitoring Plugins guidelines: a plugin given bad arguments returns UNKNOWN.
        bool nagios = false;
        for (int i = 1; i < argc; ++i) {
            std::string_view const arg = argv[i];
            nagios = nagios || arg == "--format=nagios" || arg == "-fnagios" ||
                     (i + 1 < argc && (arg == "--format" || arg == "-f") &&
                      std::string_view(argv[i + 1]) == "nagios");
        }
        if (nagios) {
            std::cout << "SMTPPROBE UNKNOWN - " << e.what() << "\n";
            return 3;
        }
        print_error(e.what());
        std::cerr << "Try \"smtpprobe --help\".\n";
        return exit_code::usage;
    } catch (std::system_error const& e) {
        print_error(e.what());
        return exit_code::internal;
    } catch (std::exception const& e) {
        print_error(std::string("internal error: ") + e.what());
        return exit_code::internal;
    }
    return exit_code::internal;
}
