#pragma once
// The command line: one Boost.Program_options table (its descriptions are the --help text)
// read into an Invocation. For a probe, that is a ProbeRequest, checked by the one check()
// (request/request.hpp) that exporter modules go through too.

#include "request/request.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace smtpprobe {

/// `smtpprobe emulate ...`.
struct EmulateArguments {
    std::vector<std::string> profile_paths;
    std::string listen = "127.0.0.1:2525";
    std::string ca_out;
    /// --client-cert-out: a client certificate and its key (one PEM file) that the profiles
    /// asking for client certificates accept (EXTERNAL).
    std::string client_cert_out;
    unsigned count = 1;            ///< ports per profile, consecutive from --listen's
    std::string certificate;       ///< "valid", "expired", ...; empty: each profile's own
    unsigned max_connections = 64; ///< per profile, across its ports
};

/// What the command line asked for.
struct Invocation {
    enum class Kind { probe, help, version, emulate, explain, exporter } kind = Kind::probe;
    ProbeRequest request; ///< probe
    std::string help_text;
    EmulateArguments emulate;
    /// The words after the subcommand: explain's codes, or the exporter's own arguments
    /// (src/exporter reads them).
    std::vector<std::string> arguments;
};

/// Reads argv into an Invocation and check()s its request. Throws UsageError with a message
/// for anything wrong (exit 64, or UNKNOWN with --format nagios).
Invocation read_command_line(int argc, char const* const* argv);

struct UsageError : std::runtime_error {
    explicit UsageError(std::string const& message, bool nagios = false)
        : std::runtime_error(message), nagios_(nagios) {}
    /// --format nagios was asked for: report UNKNOWN (Monitoring Plugins guidelines).
    bool nagios() const noexcept { return nagios_; }

private:
    bool nagios_;
};

} // namespace smtpprobe
