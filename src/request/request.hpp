#pragma once
// One request for every front end (ARCHITECTURE §12). Two readers make a ProbeRequest: the
// command line (cli.cpp, the option table) and an exporter module (exporter/config.cpp, the
// YAML keys). Both go through the one check() below; prepare() (request/prepare.hpp) then
// resolves credentials, the proxy and the demo emulator, and run_one() (request/run.hpp)
// probes, evaluates, renders and redacts. A front end decides nothing on the side.
//
// Adding a probe option: a field here (or in ProbeOptions / Expectations), a row in
// setting_names (its option and its YAML key), a line in each reader, its rule in check(), and
// the drift test's setting for it (README "Adding an option").

#include "diagnose/evaluate.hpp"
#include "engine/probe.hpp"
#include "render/render.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe {

enum class ColorChoice { auto_, always, never };
std::optional<ColorChoice> parse_color_choice(std::string_view text) noexcept;

/// Where a secret comes from; never the secret itself.
struct SecretSource {
    enum class Kind { none, env, file, standard_input };
    Kind kind = Kind::none;
    std::string name; ///< the variable (env) or the path (file)

    bool given() const noexcept { return kind != Kind::none; }
    bool operator==(SecretSource const&) const = default;
};

struct CredentialRequest {
    std::optional<std::string> user; ///< --user / credentials.user
    SecretSource password;
    SecretSource token; ///< OAuth 2.0 access token (XOAUTH2, OAUTHBEARER)
    /// --oauth-token-cmd / credentials.oauth_token_cmd: a shell command whose first output
    /// line is the token (msmtp's passwordeval), run by prepare(); instead of `token`.
    std::string token_command;
    /// The passphrase of the client key (--key, options.tls.client_certificate): read by
    /// prepare() into options.tls.client_certificate.passphrase.
    SecretSource key_passphrase;
};

struct ProxyRequest {
    std::optional<std::string> url;     ///< --proxy; "" = none, not even from the environment
    std::optional<std::string> noproxy; ///< --noproxy: replaces NO_PROXY
    SecretSource password;              ///< the proxy user's password
    /// ALL_PROXY and NO_PROXY are honoured (the command line, as curl); an exporter module
    /// uses only what its configuration says.
    bool from_environment = true;
};

/// What is probed: HOST[:PORT] words, a file of them, and how each word becomes a Target.
struct TargetRequest {
    std::vector<std::string> hosts; ///< HOST[:PORT] as given
    std::string file;               ///< --targets-file; "-" = standard input
    unsigned jobs = 4;              ///< targets probed at once
    TlsMode tls = TlsMode::auto_;
    std::optional<std::string> sni;
};

struct DemoRequest {
    bool on = false;     ///< --demo: probe the built-in emulator on loopback
    std::string profile; ///< --profile; empty: the built-in azure-acs
};

struct Outputs {
    Format format = Format::text;
    std::string file;            ///< --output; empty: standard output
    bool transcript = false;     ///< on standard error
    std::string transcript_file; ///< --transcript-file
    std::string bundle_dir;      ///< --bundle: report.txt, report.json, transcript.txt
    ColorChoice color = ColorChoice::auto_;
};

struct ProbeRequest {
    TargetRequest targets;
    DemoRequest demo;
    /// How each target is probed. credentials and connection.proxy stay empty here: prepare()
    /// fills them from `credentials` and `proxy`.
    ProbeOptions options;
    CredentialRequest credentials;
    ProxyRequest proxy;
    Expectations expect; ///< nagios is derived from the format (expectations())
    Outputs outputs;
    /// --data-file: the message --send sends, as given; prepare() reads it into
    /// options.envelope->message. Empty: the engine builds a test message.
    std::string data_file;

    /// Several targets, a targets file, or NDJSON: reports are streamed one per target.
    bool several_targets() const noexcept;
    /// `expect` as evaluate() takes it.
    Expectations expectations() const;
};

/// Every setting check() can refuse, named once for each reader.
enum class Setting {
    targets,
    demo,
    demo_profile,
    jobs,
    format,
    transcript,
    color,
    tls,
    sni,
    no_sni,
    ehlo_name,
    connect_timeout,
    command_timeout,
    banner_wait,
    timeout,
    parallel,
    source,
    tls_min,
    tls_max,
    cert_warn_days,
    cert_crit_days,
    user,
    password,
    token,
    token_command,
    gssapi_service,
    cert,
    key,
    key_passphrase,
    authzid,
    mechanisms,
    expect_auth,
    expect_tls_min,
    warning,
    critical,
    proxy_password,
    // The message against the extensions (issue 20, developer M)
    size,
    requiretls,
    // The envelope (issue 20)
    mail_from,
    rcpt,
    expect_sender_accepted,
    expect_rcpt_accepted,
    // Beyond AUTH, by request only (S): command line only, never in nagios or the exporter.
    line_endings,
    // --send (issue 20 item 4): command line only, one target, never nagios or the exporter.
    send,
    data_file,
};

enum class Reader { command_line, exporter_module };

/// The option ("--ehlo-name") or the module key ("ehlo_name", "expect.tls_min") of a setting.
std::string_view setting_name(Setting setting, Reader reader) noexcept;

/// A value check() refuses. what() is "NAME: message" in the reader's words.
class RequestError : public std::runtime_error {
public:
    RequestError(Setting setting, Reader reader, std::string const& message);
    Setting setting() const noexcept { return setting_; }
    /// The message without the setting's name (the exporter puts the module's path first).
    std::string const& message() const noexcept { return message_; }

private:
    Setting setting_;
    std::string message_;
};

/// The one validator of both readers: ranges, values and the settings against each other.
/// Throws RequestError naming the setting as `reader` calls it.
void check(ProbeRequest const& request, Reader reader);

/// The one implicit-TLS rule (RFC 8314 §3.3): a port without a number is 587, or 465 for
/// implicit TLS; auto on port 465 means implicit TLS.
Target make_target(std::string host, unsigned short port, TlsMode tls,
                   std::optional<std::string> sni);

/// A HOST[:PORT] word of the request as a Target. Throws RequestError (Setting::targets).
Target parse_target(std::string_view text, ProbeRequest const& request);

/// "a,b c" -> {"A", "B", "C"}: mechanism lists as both readers take them.
std::vector<std::string> split_mechanism_list(std::string_view text);

} // namespace smtpprobe
