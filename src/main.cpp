// smtpprobe: parse the command line, run the command it names, return its exit code.
// The steps of a probe are in commands.cpp: credentials, probe(), evaluate(), outputs.

#include "cli.hpp"
#include "commands.hpp"
#include "diagnose/evaluate.hpp"
#include "exporter/exporter_command.hpp"
#include "net/interrupt.hpp"
#include "version.hpp"

#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace smtpprobe {
namespace {

void print_error(std::string_view message) {
    bool const color = ::isatty(2) == 1 && std::getenv("NO_COLOR") == nullptr;
    std::cerr << (color ? "\033[1;31msmtpprobe: error:\033[0m " : "smtpprobe: error: ") << message
              << "\n";
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
            std::cout << version_text();
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
        if (e.nagios()) {
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
