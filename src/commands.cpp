#include "commands.hpp"

#include "batch.hpp"
#include "diagnose/evaluate.hpp"
#include "diagnose/status_codes.hpp"
#include "emulator/cert.hpp"
#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "engine/probe.hpp"
#include "net/host_port.hpp"
#include "net/interrupt.hpp"
#include "net/resolve.hpp"
#include "profile_search.hpp"
#include "request/run.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
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

emulator::Profile load_demo_profile(std::string const& name) {
    return name.empty() ? emulator::parse_profile(nlohmann::json::parse(builtin_demo_profile),
                                                  "built-in azure-acs profile")
                        : emulator::load_profile(resolve_profile(name));
}

/// One target's outputs: the report in the chosen format (standard output or --output), the
/// transcript and the bundle.
class CommandLineSink : public ResultSink {
public:
    explicit CommandLineSink(Outputs const& outputs) : o_(outputs) {}

    bool wants_transcript() const override {
        return o_.transcript || !o_.transcript_file.empty() || !o_.bundle_dir.empty() ||
               o_.format == Format::html; // the page folds the transcript in
    }

    void write(Target const&, ProbeResult const& result) override {
        bool const to_terminal = o_.file.empty() && ::isatty(1) == 1;
        bool const color =
            o_.color == ColorChoice::always ||
            (o_.color == ColorChoice::auto_ && to_terminal && std::getenv("NO_COLOR") == nullptr);
        std::string const text = result.rendered(o_.format, {color});
        if (wants_transcript()) {
            std::string const lines = result.transcript();
            if (o_.transcript)
                std::cerr << lines;
            if (!o_.transcript_file.empty())
                write_output(o_.transcript_file, lines, "transcript");
            if (!o_.bundle_dir.empty())
                write_bundle(result, lines);
        }
        if (o_.file.empty())
            std::cout << text << std::flush;
        else
            write_output(o_.file, text, "report");
    }

private:
    void write_bundle(ProbeResult const& result, std::string const& transcript) const {
        std::error_code ec;
        std::filesystem::create_directories(o_.bundle_dir, ec);
        write_output(o_.bundle_dir + "/report.txt", result.rendered(Format::text), "report");
        write_output(o_.bundle_dir + "/report.json", result.rendered(Format::json), "report");
        write_output(o_.bundle_dir + "/report.html", result.rendered(Format::html), "report");
        write_output(o_.bundle_dir + "/transcript.txt", transcript, "transcript");
        std::cerr
            << "smtpprobe: wrote " << o_.bundle_dir << "/report.txt, report.json, report.html and "
            << "transcript.txt (secrets redacted; the user name too unless --show-username)\n";
    }

    Outputs const& o_;
};

int run_several(PreparedRequest const& prepared) {
    ProbeRequest const& r = prepared.request();
    std::ifstream file;
    std::istream* list = nullptr;
    if (r.targets.file == "-") {
        list = &std::cin;
    } else if (!r.targets.file.empty()) {
        file.open(r.targets.file);
        if (!file)
            throw UsageError("--targets-file: cannot read " + r.targets.file);
        list = &file;
    }
    std::ofstream output;
    if (!r.outputs.file.empty()) {
        output.open(r.outputs.file, std::ios::binary | std::ios::trunc);
        if (!output)
            throw UsageError("--output: cannot write the report to " + r.outputs.file);
    }
    int bad = exit_code::ok;
    TargetSource targets(prepared, list, [&bad](std::string const& message) {
        std::cerr << "smtpprobe: error: " << message << "\n";
        bad = exit_code::usage;
    });
    int const worst = run_batch(prepared, targets, r.outputs.file.empty() ? std::cout : output);
    return worse_exit_code(worst, bad);
}

} // namespace

int run_probe_command(ProbeRequest const& request) {
    bool const nagios = request.outputs.format == Format::nagios;
    try {
        PreparedRequest const prepared = prepare(request, system_context(load_demo_profile));
        if (request.several_targets())
            return run_several(prepared);
        Target const target = prepared.target(prepared.request().targets.hosts.front());
        CommandLineSink sink(request.outputs);
        return run_one(prepared, target, sink);
    } catch (PrepareError const& e) {
        throw UsageError(e.what(), nagios);
    } catch (RequestError const& e) {
        throw UsageError(e.what(), nagios);
    } catch (UsageError const& e) {
        throw UsageError(e.what(), nagios);
    }
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

int run_emulate_command(EmulateArguments const& command) {
    std::vector<emulator::Profile> profiles;
    for (std::string const& path : command.profile_paths) {
        try {
            profiles.push_back(emulator::load_profile(resolve_profile(path)));
        } catch (std::exception const& e) {
            throw UsageError(e.what());
        }
    }
    net::HostPort listen;
    try {
        listen = net::parse_host_port(command.listen);
    } catch (std::invalid_argument const& e) {
        throw UsageError(std::string("--listen: ") + e.what());
    }
    if (listen.port == 0 && profiles.size() > 1)
        throw UsageError("--listen: several profiles need a fixed first port");
    if (listen.port + profiles.size() * command.count - 1 > 65535)
        throw UsageError("--listen: the port plus the ports needed goes beyond 65535");
    if (!net::is_loopback(listen.host))
        std::cerr << "smtpprobe: warning: listening on " << listen.host
                  << ", which other hosts may reach; the emulator is a test server\n";
    // One server per profile, each on `count` consecutive ports after the previous one's.
    std::vector<std::unique_ptr<emulator::Server>> servers;
    std::string ca_pems;
    // One client CA for every profile that asks for client certificates, so that the one
    // certificate written by --client-cert-out works with all of them.
    bool const asks = std::any_of(profiles.begin(), profiles.end(), [](emulator::Profile const& p) {
        return p.request_client_certificate;
    });
    if (!command.client_cert_out.empty() && !asks)
        throw UsageError("--client-cert-out: no profile has request_client_certificate");
    std::optional<emulator::Pki> const client =
        asks ? std::optional(emulator::make_pki(emulator::client_certificate_spec(
                   "smtpprobe emulator client",
                   "smtpprobe emulator client CA (not for production)")))
             : std::nullopt;
    for (emulator::Profile& profile : profiles) {
        emulator::ServerOptions options;
        options.listen_host = listen.host;
        options.port =
            listen.port == 0
                ? 0
                : static_cast<unsigned short>(listen.port + servers.size() * command.count);
        options.port_count = command.count;
        options.max_connections = command.max_connections;
        options.certificate = emulator::parse_certificate_kind(command.certificate);
        if (client)
            options.client_ca_pem = client->ca_pem;
        servers.push_back(std::make_unique<emulator::Server>(std::move(profile), options));
        ca_pems += servers.back()->ca_pem();
    }
    if (!command.ca_out.empty())
        write_output(command.ca_out, ca_pems, "CA certificate");
    if (client && !command.client_cert_out.empty()) {
        write_output(command.client_cert_out, client->cert_pem + client->key_pem,
                     "client certificate");
        std::error_code ignored; // a test key, but a private key: the owner's only
        std::filesystem::permissions(
            command.client_cert_out,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ignored);
    }
    for (std::size_t i = 0; i < servers.size(); ++i) {
        servers[i]->start();
        std::vector<unsigned short> const ports = servers[i]->ports();
        std::cerr << "smtpprobe: emulating " << servers[i]->profile().name << " on " << listen.host
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
