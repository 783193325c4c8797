#pragma once
// The exporter's configuration file (YAML, in the spirit of the blackbox exporter's
// blackbox.yml): probe modules, the targets that may be probed, and the concurrency bound.
// Credentials appear only by reference (an environment variable name or a file path); an
// inline secret is a configuration error. README "Exporter" documents every key.

#include "exporter/allow_list.hpp"
#include "request/request.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::exporter {

/// One probe module: what `smtpprobe HOST` would be told on its command line, as the same
/// ProbeRequest (no target: the scrape's URL gives it), read from the module's keys and checked
/// by the same check().
struct Module {
    std::string name;
    ProbeRequest request = module_defaults();
    /// Subtracted from X-Prometheus-Scrape-Timeout-Seconds (the blackbox exporter's default).
    std::chrono::milliseconds timeout_offset{500};

    /// A module's defaults where they differ from the command line's: a 15 s probe, a 5 s
    /// connect timeout, and no proxy from the exporter's environment.
    static ProbeRequest module_defaults();
};

struct Config {
    std::map<std::string, Module> modules; ///< by name; "default" is used without &module=
    AllowList allow_targets;
    unsigned max_concurrent_probes = 8;
    /// Probes that may wait for a slot at once; beyond that a probe is answered as failed.
    unsigned max_queued_probes = 8;
};

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Upper bounds that keep the HTTP worker pool ahead of the probes (see Server).
inline constexpr unsigned max_probe_slots = 48;

/// Parses YAML text. Throws ConfigError naming the file (`origin`) and the key. Checks that
/// every credential reference resolves (the variable is set, the file is readable) without
/// keeping the secret.
Config parse_config(std::string const& yaml, std::string const& origin);
/// Reads and parses a file.
Config load_config(std::string const& path);
/// Every key a module may have. The drift test reads each one the command line has too, with
/// both readers, and compares the requests.
std::span<std::string_view const> module_keys() noexcept;

/// The configuration built from the command line alone (no --config): one "default" module.
Config default_config();

/// The configuration as YAML for the status page: no secret is in it by construction; the
/// user name is masked as in every other output.
std::string describe_config(Config const& config);

} // namespace smtpprobe::exporter
