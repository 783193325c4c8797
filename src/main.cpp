// smtpprobe: parse the command line, run the command it names, return its exit code.
// A probe is read into a ProbeRequest (cli.cpp) and run by commands.cpp through request/.

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
        Invocation const invocation = read_command_line(argc, argv);
        switch (invocation.kind) {
        case Invocation::Kind::help:
            std::cout << invocation.help_text;
            return exit_code::ok;
        case Invocation::Kind::version:
            std::cout << version_text();
            return exit_code::ok;
        case Invocation::Kind::explain:
            return run_explain_command(invocation.arguments);
        case Invocation::Kind::emulate:
            return run_emulate_command(invocation.emulate);
        case Invocation::Kind::exporter:
            return exporter::run_exporter_command(invocation.arguments);
        case Invocation::Kind::probe:
            return run_probe_command(invocation.request);
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
