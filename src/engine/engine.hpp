#pragma once
// Runs one probe of a server: resolve, open sessions concurrently, fill the AUTH matrix,
// diagnose. The only place that catches std::system_error from a conversation.

#include "net/resolve.hpp"
#include "net/tls.hpp"
#include "report/report.hpp"
#include "sasl/sasl.hpp"
#include "session/redactor.hpp"
#include "session/transcript.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe {

struct EngineOptions {
    std::string host;
    unsigned short port = 587;
    TlsMode tls_mode = TlsMode::auto_;
    net::Family family = net::Family::any;
    std::string ehlo_name = "smtpprobe.invalid";
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds command_timeout{10'000};
    std::chrono::milliseconds total_timeout{60'000};
    unsigned parallel = 4; ///< connections at once; 1 = strictly sequential
    std::optional<sasl::Credentials> credentials;
    bool allow_insecure_auth = false;
    bool show_username = false;
    net::TlsClientOptions tls;
    std::optional<std::string> sni; ///< overrides the host name as SNI and as the name checked
    bool no_sni = false;
    int cert_warn_days = 30; ///< certificate expiry thresholds for findings and checks
    int cert_crit_days = 7;
    /// Also try TLS 1.0, 1.1, 1.2 and 1.3 one by one, each on its own connection, plus one
    /// handshake without SNI (probes/tls_versions.hpp).
    bool tls_versions = false;
    /// Probe only these mechanisms (upper case); empty = the catalogue plus all advertised.
    std::vector<std::string> mechanisms;
};

/// Runs the whole probe. Never throws for anything the server or network does; a
/// std::runtime_error escapes only for local problems (e.g. an unreadable CA file).
/// `transcript` may be null. Secrets are registered in `redactor` before any I/O.
Report run_probe(EngineOptions const& options, Transcript* transcript, Redactor& redactor);

/// Exit codes (README "Exit codes").
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int problems = 1;   ///< completed; at least one finding of severity error
inline constexpr int no_session = 2; ///< no session reached the point where AUTH is probed
inline constexpr int usage = 64;     ///< EX_USAGE
inline constexpr int internal = 70;  ///< EX_SOFTWARE
inline constexpr int interrupted = 130;
} // namespace exit_code

/// Registers the secrets of `credentials` (and the user unless `show_username`) in `redactor`
/// and returns the user as the report may show it.
std::string register_secrets(sasl::Credentials const& credentials, bool show_username,
                             Redactor& redactor);

} // namespace smtpprobe
