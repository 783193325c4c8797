#pragma once
// The exporter's configuration file (YAML, in the spirit of the blackbox exporter's
// blackbox.yml): probe modules, the targets that may be probed, and the concurrency bound.
// Credentials appear only by reference (an environment variable name or a file path); an
// inline secret is a configuration error. README "Exporter" documents every key.

#include "diagnose/evaluate.hpp"
#include "exporter/allow_list.hpp"
#include "report/report.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace smtpprobe::exporter {

/// Where a secret comes from: exactly one of env or file is set.
struct SecretReference {
    std::string env;  ///< environment variable name
    std::string file; ///< path; its first line is the secret
    bool given() const noexcept { return !env.empty() || !file.empty(); }
};

struct ModuleCredentials {
    std::string user;
    SecretReference password;
    SecretReference token; ///< OAuth 2.0 access token (XOAUTH2, OAUTHBEARER)
};

/// One probe module: what `smtpprobe HOST` would be told on its command line.
struct Module {
    std::string name;
    TlsMode tls = TlsMode::auto_;
    std::string ehlo_name = "smtpprobe.invalid";
    std::vector<std::string> mechanisms; ///< upper case; empty: catalogue plus advertised
    unsigned parallel = 4;
    std::chrono::milliseconds timeout{15'000}; ///< the whole probe (capped by the scrape timeout)
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds command_timeout{10'000};
    /// Subtracted from X-Prometheus-Scrape-Timeout-Seconds (the blackbox exporter's default).
    std::chrono::milliseconds timeout_offset{500};
    std::string ca_file; ///< empty: the exporter's --ca-file, else the system store
    bool insecure = false;
    std::string tls_min, tls_max;
    std::optional<std::string> sni;
    int cert_warn_days = 30;
    int cert_crit_days = 7;
    bool tls_versions = false;
    bool all_addresses = false; ///< every address of the name (per-address series)
    std::optional<ModuleCredentials> credentials;
    bool allow_insecure_auth = false;
    Expectations expect;
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
/// The configuration built from the command line alone (no --config): one "default" module.
Config default_config();

/// The configuration as YAML for the status page: no secret is in it by construction; the
/// user name is masked as in every other output.
std::string describe_config(Config const& config);

} // namespace smtpprobe::exporter
