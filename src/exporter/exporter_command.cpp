#include "exporter/exporter_command.hpp"

#include "diagnose/evaluate.hpp"
#include "exporter/server.hpp"
#include "net/interrupt.hpp"
#include "net/resolve.hpp"

#include <boost/program_options.hpp>

#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <pthread.h>

namespace po = boost::program_options;

namespace smtpprobe::exporter {
namespace {

int usage_error(std::string const& message) {
    std::cerr << "smtpprobe: error: exporter: " << message << "\n"
              << "Try \"smtpprobe exporter --help\".\n";
    return exit_code::usage;
}

/// Blocks SIGHUP in this thread and in every thread started after it, so that only the
/// sigtimedwait() below sees it.
sigset_t block_sighup() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

} // namespace

int run_exporter_command(std::vector<std::string> const& args) {
    ServerOptions options;
    std::string listen = "127.0.0.1:9125";
    // clang-format off
    po::options_description table("Options", 100, 50);
    table.add_options()
        ("listen", po::value(&listen)->default_value(listen), "address and port to serve HTTP on (loopback unless told otherwise)")
        ("config", po::value(&options.config_path), "configuration file (YAML: modules, allow_targets, max_concurrent_probes)")
        ("allow-target", po::value(&options.allow_targets)->composing(), "also allow this target pattern, e.g. smtp.example.com:587, *.example.org:25, 10.0.0.0/8:* (repeatable)")
        ("ca-file", po::value(&options.ca_file), "trust these CA certificates (PEM) in modules without ca_file")
        ("help,h", "show this help");
    // clang-format on
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args)
                      .options(table)
                      .style(po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (po::error const& e) {
        return usage_error(e.what());
    }
    if (vm.count("help")) {
        std::cout << "Usage: smtpprobe exporter [--listen HOST:PORT] [--config FILE] "
                     "[--allow-target PATTERN]... [--ca-file PEM]\n\n"
                     "A Prometheus exporter in the multi-target form: GET "
                     "/probe?target=HOST:PORT&module=NAME\nprobes one server; /metrics has the "
                     "exporter's own metrics; SIGHUP or POST /-/reload\nreloads the "
                     "configuration.\n\n"
                  << table;
        return exit_code::ok;
    }
    std::string why;
    std::optional<TargetAddress> address = parse_target(listen, why);
    if (!address || address->port == 0)
        return usage_error("--listen wants HOST:PORT (got \"" + listen + "\")" +
                           (address ? "" : ": " + why));
    options.listen_host = address->host;
    options.port = address->port;
    if (!options.ca_file.empty() && !std::ifstream(options.ca_file))
        return usage_error("cannot read the --ca-file " + options.ca_file);

    Config config;
    try {
        config = options.config_path.empty() ? default_config() : load_config(options.config_path);
    } catch (ConfigError const& e) {
        return usage_error(std::string("configuration: ") + e.what());
    }

    sigset_t const hup = block_sighup();
    std::unique_ptr<Server> server;
    try {
        server = std::make_unique<Server>(std::move(config), options);
    } catch (ConfigError const& e) {
        return usage_error(e.what());
    } catch (std::runtime_error const& e) {
        std::cerr << "smtpprobe: error: exporter: " << e.what() << "\n";
        return exit_code::internal;
    }
    if (!net::is_loopback(options.listen_host))
        std::cerr << "smtpprobe: warning: exporter: listening on " << options.listen_host
                  << ", which other hosts may reach; /probe connects to any target in "
                     "allow_targets for whoever can reach this port\n";
    if (server->config()->allow_targets.empty())
        std::cerr << "smtpprobe: warning: exporter: allow_targets is empty, so every /probe is "
                     "refused (403); add allow_targets to the config or --allow-target\n";
    server->start();
    std::cerr << "smtpprobe exporter: listening on "
              << TargetAddress{options.listen_host, server->port(), address->is_ip}.text() << "\n"
              << std::flush;

    timespec const tick{0, 250'000'000};
    while (!net::interrupted()) {
        if (::sigtimedwait(&hup, nullptr, &tick) == SIGHUP) {
            std::string error;
            server->reload(error);
        }
    }
    std::cerr << "smtpprobe exporter: stopping\n";
    server->stop();
    return exit_code::ok;
}

} // namespace smtpprobe::exporter
