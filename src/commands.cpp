#include "commands.hpp"

#include "credentials_input.hpp"
#include "diagnose/evaluate.hpp"
#include "diagnose/status_codes.hpp"
#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "engine/probe.hpp"
#include "net/interrupt.hpp"
#include "net/resolve.hpp"
#include "profile_search.hpp"
#include "report/render.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <poll.h>
#include <unistd.h>

namespace smtpprobe {

extern char const* const builtin_demo_profile;

namespace {

void write_output(std::string const& path, std::string const& text, char const* what) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text))
        throw UsageError(std::string("cannot write the ") + what + " to " + path);
}

/// Local configuration problems (unreadable CA file, bad TLS version) are usage errors.
void check_tls_settings(net::TlsClientOptions const& tls) {
    try {
        net::TlsClientContext check(tls);
    } catch (std::runtime_error const& e) {
        throw UsageError(e.what());
    }
}

/// --demo: the built-in emulator (or --profile's) on 127.0.0.1, and the target pointed at it.
std::unique_ptr<emulator::Server> start_demo(Config& c) {
    emulator::Profile profile;
    try {
        profile = c.demo_profile.empty()
                      ? emulator::parse_profile(nlohmann::json::parse(builtin_demo_profile),
                                                "built-in azure-acs profile")
                      : emulator::load_profile(resolve_profile(c.demo_profile));
    } catch (std::exception const& e) {
        throw UsageError(e.what());
    }
    std::string const name = profile.name;
    bool const implicit = profile.tls == emulator::TlsMode::implicit;
    auto demo = std::make_unique<emulator::Server>(std::move(profile), emulator::ServerOptions{});
    demo->start();
    c.target.host = "127.0.0.1";
    c.target.port = demo->port();
    c.options.tls.ca_pem = demo->ca_pem();
    c.options.tls.use_system_store = false;
    if (implicit && c.target.tls_mode == TlsMode::auto_)
        c.target.tls_mode = TlsMode::implicit;
    std::cerr << "smtpprobe: demo: probing the built-in emulator (profile " << name
              << ") on 127.0.0.1:" << demo->port() << "\n";
    return demo;
}

/// The report in the chosen format, the transcript and the bundle, all through the redactor.
void write_outputs(Config const& c, Report const& report, Verdict const& verdict,
                   TranscriptObserver const& observer) {
    Redactor const& redactor = observer.redactor();
    bool const to_terminal = c.output_file.empty() && ::isatty(1) == 1;
    bool const color = c.color == "always" ||
                       (c.color == "auto" && to_terminal && std::getenv("NO_COLOR") == nullptr);
    std::string const text =
        redactor.redact(c.format == Format::json     ? render_json(report, verdict)
                        : c.format == Format::nagios ? render_nagios(report, verdict)
                                                     : render_text(report, verdict, {color}));
    if (c.transcript || !c.transcript_file.empty()) {
        std::string const lines = observer.transcript().render(redactor);
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
        write_output(c.bundle_dir + "/transcript.txt", observer.transcript().render(redactor),
                     "transcript");
        std::cerr
            << "smtpprobe: wrote " << c.bundle_dir << "/report.txt, report.json and "
            << "transcript.txt (secrets redacted; the user name too unless --show-username)\n";
    }
    if (c.output_file.empty())
        std::cout << text << std::flush;
    else
        write_output(c.output_file, text, "report");
}

} // namespace

int run_probe_command(Config& c) {
    std::unique_ptr<emulator::Server> demo;
    try {
        load_credentials(c);
        check_tls_settings(c.options.tls);
        if (c.demo)
            demo = start_demo(c);
        resolve_proxy(c); // after --demo has set the target: NO_PROXY may name it
    } catch (UsageError const& e) {
        throw UsageError(e.what(), c.format == Format::nagios);
    }
    TranscriptObserver observer(c.transcript || !c.transcript_file.empty() ||
                                !c.bundle_dir.empty());
    Report const report = probe(c.target, c.options, observer);
    if (demo)
        demo->stop();
    Verdict const verdict = evaluate(report, c.expect);
    write_outputs(c, report, verdict, observer);
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
        profile = emulator::load_profile(resolve_profile(command.profile_path));
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

} // namespace smtpprobe
