#pragma once
// The command line: one Boost.Program_options table (its descriptions are the --help text)
// binds into Config::given; validate() checks the options against each other and turns them
// into the typed fields.

#include "diagnose/evaluate.hpp"
#include "engine/probe.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace smtpprobe {

enum class Format { text, json, ndjson, nagios };

struct PasswordSource {
    std::string env;  ///< --password-env VAR
    std::string file; ///< --password-file PATH
    bool stdin_ = false;
};

struct Config {
    Target target;
    ProbeOptions options;
    Format format = Format::text;
    std::string output_file;     ///< --output: the report goes there instead of stdout
    bool transcript = false;     ///< --transcript: on stderr
    std::string transcript_file; ///< --transcript-file
    std::string bundle_dir;      ///< --bundle: text, JSON and transcript for a ticket
    Expectations expect;         ///< --expect-*, --warning, --critical, --cert-*-days
    std::string color = "auto";  ///< auto | always | never
    bool demo = false;
    std::string demo_profile; ///< --profile with --demo; empty = built-in azure-acs
    std::string targets_file; ///< --targets-file: one HOST[:PORT] a line; "-" = stdin
    unsigned jobs = 4;        ///< --jobs: targets probed at once
    bool batch = false;       ///< several targets, a targets file, or NDJSON (batch.hpp)

    std::string user;
    bool user_given = false;
    PasswordSource password;
    std::string token_env, token_file;

    /// --proxy (an empty string: none, not even from ALL_PROXY), --noproxy; the choice is
    /// made once the target is known (resolve_proxy in credentials_input.hpp).
    std::optional<std::string> proxy, noproxy;
    PasswordSource proxy_password; ///< --proxy-password-env / --proxy-password-file

    /// What the command line said where validate() has to check or convert it.
    struct Given {
        std::vector<std::string> targets; ///< HOST[:PORT] ...
        std::string tls = "auto", format = "text", mechanisms, expect_auth, sni;
        double connect_timeout = 10, command_timeout = 10, total_timeout = 60, banner_wait = 3;
        std::optional<double> warning, critical;
        bool ipv4 = false, ipv6 = false;
        bool tls_given = false; ///< --tls was on the command line (not the default)
        bool sni_given = false;
        std::string source; ///< --source ADDR[:PORT]
    } given;
};

/// What the command line asked for.
struct Command {
    enum class Kind { probe, help, version, emulate, explain, exporter } kind = Kind::probe;
    Config config;
    std::string help_text;
    // emulate
    std::vector<std::string> profile_paths;
    std::string listen = "127.0.0.1:2525";
    std::string ca_out;
    unsigned count = 1;            ///< ports per profile, consecutive from --listen's
    std::string certificate;       ///< "valid", "expired", ...; empty: each profile's own
    unsigned max_connections = 64; ///< per profile, across its ports
    // explain; exporter: the words after the subcommand (src/exporter parses them)
    std::vector<std::string> codes;
};

/// Parses argv into a Command, then validate()s its Config. Throws UsageError with a message
/// for anything wrong (exit 64, or UNKNOWN with --format nagios).
Command parse_command_line(int argc, char const* const* argv);

/// The cross-option checks, and Config::given turned into the typed fields. Throws UsageError.
void validate(Config& config);

/// "HOST[:PORT]" as a Target under the given --tls and --sni (port 587, or 465 and implicit
/// TLS). Throws UsageError.
Target parse_target(std::string const& text, Config::Given const& given);

struct UsageError : std::runtime_error {
    explicit UsageError(std::string const& message, bool nagios = false)
        : std::runtime_error(message), nagios_(nagios) {}
    /// --format nagios was asked for: report UNKNOWN (Monitoring Plugins guidelines).
    bool nagios() const noexcept { return nagios_; }

private:
    bool nagios_;
};

/// "host", "host:587", "[2001:db8::1]:587", "2001:db8::1" -> host and port (0 if absent).
std::pair<std::string, unsigned short> split_host_port(std::string const& text);

} // namespace smtpprobe
