#include "commands.hpp"

#include "batch.hpp"
#include "credentials_input.hpp"
#include "diagnose/evaluate.hpp"
#include "diagnose/status_codes.hpp"
#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "engine/probe.hpp"
#include "net/interrupt.hpp"
#include "net/resolve.hpp"
#include "profile_search.hpp"
#include "render/render.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <poll.h>
#include <unistd.h>
#include <vector>

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

int run_batch_command(Config& c) {
    std::ifstream file;
    std::istream* list = nullptr;
    try {
        load_credentials(c);
        check_tls_settings(c.options.tls);
        if (c.targets_file == "-") {
            list = &std::cin;
        } else if (!c.targets_file.empty()) {
            file.open(c.targets_file);
            if (!file)
                throw UsageError("cannot read the targets file " + c.targets_file);
            list = &file;
        }
    } catch (UsageError const& e) {
        throw UsageError(e.what(), c.format == Format::nagios);
    }
    std::ofstream output;
    if (!c.output_file.empty()) {
        output.open(c.output_file, std::ios::binary | std::ios::trunc);
        if (!output)
            throw UsageError("cannot write the report to " + c.output_file);
    }
    int bad = exit_code::ok;
    TargetSource targets(c, list, [&bad](std::string const& message) {
        std::cerr << "smtpprobe: error: " << message << "\n";
        bad = exit_code::usage;
    });
    int const worst = run_batch(c, targets, c.output_file.empty() ? std::cout : output);
    return worse_exit_code(worst, bad);
}

int run_probe_command(Config& c) {
    if (c.batch)
        return run_batch_command(c);
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
    std::vector<emulator::Profile> profiles;
    for (std::string const& path : command.profile_paths) {
        try {
            profiles.push_back(emulator::load_profile(resolve_profile(path)));
        } catch (std::exception const& e) {
            throw UsageError(e.what());
        }
    }
    std::pair<std::string, unsigned short> listen = split_host_port(command.listen);
    if (listen.second == 0 && profiles.size() > 1)
        throw UsageError("several profiles need a fixed first port in --listen");
    if (listen.second + profiles.size() * command.count - 1 > 65535)
        throw UsageError("--listen's port plus the ports needed goes beyond 65535");
    if (!net::is_loopback(listen.first))
        std::cerr << "smtpprobe: warning: listening on " << listen.first
                  << ", which other hosts may reach; the emulator is a test server\n";
    // One server per profile, each on `count` consecutive ports after the previous one's.
    std::vector<std::unique_ptr<emulator::Server>> servers;
    std::string ca_pems;
    for (emulator::Profile& profile : profiles) {
        emulator::ServerOptions options;
        options.listen_host = listen.first;
        options.port =
            listen.second == 0
                ? 0
                : static_cast<unsigned short>(listen.second + servers.size() * command.count);
        options.port_count = command.count;
        options.max_connections = command.max_connections;
        options.certificate = emulator::parse_certificate_kind(command.certificate);
        servers.push_back(std::make_unique<emulator::Server>(std::move(profile), options));
        ca_pems += servers.back()->ca_pem();
    }
    if (!command.ca_out.empty())
        write_output(command.ca_out, ca_pems, "CA certificate");
    for (std::size_t i = 0; i < servers.size(); ++i) {
        servers[i]->start();
        std::vector<unsigned short> const ports = servers[i]->ports();
        std::cerr << "smtpprobe: emulating " << servers[i]->profile().name << " on " << listen.first
                  << ":" << ports.front();
        if (ports.size() > 1)
            std::cerr << " to " << ports.back() << " (" << ports.size() << " ports)";
        std::cerr << (i + 1 < servers.size() ? "\n"
                      : command.ca_out.empty()
                          ? "; Ctrl-C stops\n"
                          : "; CA certificate in " + command.ca_out + "; Ctrl-C stops\n");
    }
    // Runs until SIGINT/SIGTERM: that is what this command is for.
    pollfd fd{net::interrupt_fd(), POLLIN, 0};
    while (!net::interrupted())
        ::poll(&fd, 1, 1000);
    std::size_t connections = 0;
    for (std::unique_ptr<emulator::Server> const& server : servers) {
        server->stop();
        connections += server->connections_accepted();
    }
    std::cerr << "smtpprobe: emulator stopped after " << connections << " connection(s)\n";
    return exit_code::ok;
}

} // namespace smtpprobe
