#pragma once
// prepare(): a checked ProbeRequest becomes a PreparedRequest, the only thing run_one() takes.
// It reads the secrets (variable, file, standard input, or a prompt without echo), reads the
// proxy setting once (--proxy / ALL_PROXY, --noproxy / NO_PROXY, the proxy's password), checks
// the TLS settings, and starts the --demo emulator and points the request at it. Nothing
// writes the request afterwards. The outside world comes in through PrepareContext, so tests
// give their own environment.

#include "emulator/profile.hpp"
#include "net/proxy_spec.hpp"
#include "request/request.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace smtpprobe {

namespace emulator {
class Server;
}

/// What prepare() may read and start.
struct PrepareContext {
    std::function<std::optional<std::string>(char const* name)> getenv;
    /// The first line of standard input (--password-stdin, --targets-file -).
    std::function<std::string()> read_stdin_line;
    /// A password typed at a terminal without echo; nullopt when there is no terminal.
    std::function<std::optional<std::string>()> prompt_password;
    /// The --demo profile: the built-in one for an empty name, else a shipped name or a file.
    std::function<emulator::Profile(std::string const& name)> load_demo_profile;
    /// A line for the person at the terminal ("demo: probing ...").
    std::function<void(std::string const& line)> note;
};

/// The real environment, standard input and terminal. `load_demo_profile` is the front end's
/// (the built-in profiles are compiled into the binary).
PrepareContext system_context(std::function<emulator::Profile(std::string const&)> load_demo);

/// Something prepare() could not do: a secret it cannot read, a bad proxy, a CA file that does
/// not load, a demo profile that does not parse. what() says which and why.
struct PrepareError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class PreparedRequest {
public:
    ProbeRequest const& request() const noexcept { return request_; }
    /// A HOST[:PORT] of the request (or of its targets file) as a Target.
    Target target(std::string_view text) const { return parse_target(text, request_); }
    /// The options for one target: the credentials, and the proxy chosen for its host as curl
    /// would (NO_PROXY may bypass it).
    ProbeOptions options_for(Target const& target) const;
    Expectations expectations() const { return request_.expectations(); }

private:
    friend PreparedRequest prepare(ProbeRequest request, PrepareContext const& context);
    ProbeRequest request_;
    net::ProxySetting proxy_;
    std::shared_ptr<emulator::Server> demo_; ///< runs as long as a copy of the request lives
};

/// Throws PrepareError.
PreparedRequest prepare(ProbeRequest request, PrepareContext const& context);

/// Reads one secret from its source. Throws PrepareError naming the source, never the value.
std::string read_secret(SecretSource const& source, char const* what,
                        PrepareContext const& context);

} // namespace smtpprobe
