#include "request/prepare.hpp"

#include "emulator/server.hpp"
#include "net/tls.hpp"
#include "request/token_command.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <termios.h>
#include <unistd.h>

namespace smtpprobe {
namespace {

std::string without_line_end(std::string line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.pop_back();
    return line;
}

/// Reads a password from the terminal without echo (msmtp and swaks do the same).
std::optional<std::string> prompt_without_echo() {
    if (::isatty(0) != 1)
        return std::nullopt;
    // Not "Password for <user>": stderr may be captured into a ticket, and the user name is
    // shown only with --show-username.
    std::cerr << "Password (not echoed): " << std::flush;
    termios old_mode{};
    bool const restore = ::tcgetattr(0, &old_mode) == 0;
    if (restore) {
        termios quiet = old_mode;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(0, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (restore)
        ::tcsetattr(0, TCSANOW, &old_mode);
    std::cerr << "\n";
    return without_line_end(line);
}

/// The secrets, read once per prepare() (so once per scrape in the exporter). A token command
/// runs for at most the probe's --timeout. Its token goes nowhere but into the credentials,
/// which probe() registers with its redactor before its first output or connection.
std::optional<sasl::Credentials> read_credentials(ProbeRequest const& r,
                                                  PrepareContext const& context) {
    CredentialRequest const& k = r.credentials;
    if (!k.user)
        return std::nullopt;
    sasl::Credentials credentials;
    credentials.user = *k.user;
    bool const command = !k.token_command.empty();
    if (k.password.given())
        credentials.password = read_secret(k.password, "password", context);
    else if (!k.token.given() && !command && context.prompt_password)
        credentials.password = context.prompt_password().value_or("");
    if (k.token.given())
        credentials.token = read_secret(k.token, "token", context);
    if (command) {
        try {
            credentials.token = run_token_command(k.token_command, r.options.total_timeout);
        } catch (TokenCommandError const& e) {
            throw PrepareError(e.what());
        }
    }
    return credentials;
}

net::ProxySetting read_proxy(ProbeRequest const& r, PrepareContext const& context) {
    net::ProxySources sources;
    sources.proxy = r.proxy.url;
    sources.noproxy = r.proxy.noproxy;
    if (r.proxy.from_environment)
        sources.getenv = context.getenv;
    net::ProxySetting setting;
    try {
        setting = net::read_proxy_setting(sources);
    } catch (std::invalid_argument const& e) {
        throw PrepareError(e.what());
    }
    bool const password_given = r.proxy.password.given();
    if (password_given && !setting.proxy)
        throw PrepareError("--proxy-password-env/--proxy-password-file need a proxy (--proxy or "
                           "ALL_PROXY)");
    if (!setting.proxy)
        return setting;
    net::ProxySpec& proxy = *setting.proxy;
    if (password_given)
        proxy.password = read_secret(r.proxy.password, "proxy password", context);
    if (password_given && proxy.user.empty())
        throw PrepareError(
            "a proxy password needs a user in the proxy URL (socks5://USER@HOST:PORT)");
    if (!proxy.user.empty() && proxy.password.empty())
        throw PrepareError("the proxy user " + proxy.user +
                           " needs a password: --proxy-password-env or --proxy-password-file");
    if (r.options.all_addresses && proxy.proxy_resolves())
        throw PrepareError("--all-addresses needs the name's addresses here, but " +
                           std::string(net::to_string(proxy.scheme)) +
                           ":// has the proxy resolve it: use socks5:// (resolved here)");
    return setting;
}

/// --demo: the emulator on 127.0.0.1, and the request pointed at it.
std::shared_ptr<emulator::Server> start_demo(ProbeRequest& r, PrepareContext const& context) {
    emulator::Profile profile;
    try {
        profile = context.load_demo_profile(r.demo.profile);
    } catch (std::exception const& e) {
        throw PrepareError(e.what());
    }
    std::string const name = profile.name;
    bool const implicit = profile.tls == emulator::TlsMode::implicit;
    auto demo = std::make_shared<emulator::Server>(std::move(profile), emulator::ServerOptions{});
    demo->start();
    r.targets.hosts = {"127.0.0.1:" + std::to_string(demo->port())};
    r.options.tls.ca_pem = demo->ca_pem();
    r.options.tls.use_system_store = false;
    if (implicit && r.targets.tls == TlsMode::auto_)
        r.targets.tls = TlsMode::implicit;
    if (context.note)
        context.note("demo: probing the built-in emulator (profile " + name +
                     ") on 127.0.0.1:" + std::to_string(demo->port()));
    return demo;
}

} // namespace

PrepareContext system_context(std::function<emulator::Profile(std::string const&)> load_demo) {
    PrepareContext context;
    context.getenv = [](char const* name) -> std::optional<std::string> {
        char const* value = std::getenv(name);
        if (value == nullptr)
            return std::nullopt;
        return std::string(value);
    };
    context.read_stdin_line = [] {
        std::string line;
        std::getline(std::cin, line);
        return without_line_end(line);
    };
    context.prompt_password = prompt_without_echo;
    context.load_demo_profile = std::move(load_demo);
    context.note = [](std::string const& line) { std::cerr << "smtpprobe: " << line << "\n"; };
    return context;
}

std::string read_secret(SecretSource const& source, char const* what,
                        PrepareContext const& context) {
    switch (source.kind) {
    case SecretSource::Kind::env: {
        std::optional<std::string> value =
            context.getenv ? context.getenv(source.name.c_str()) : std::nullopt;
        if (!value)
            throw PrepareError(std::string("the ") + what + " variable " + source.name +
                               " is not set");
        return *value;
    }
    case SecretSource::Kind::file: {
        std::ifstream in(source.name);
        if (!in)
            throw PrepareError(std::string("cannot read the ") + what + " file " + source.name);
        std::string line;
        std::getline(in, line);
        return without_line_end(line);
    }
    case SecretSource::Kind::standard_input:
        if (!context.read_stdin_line)
            throw PrepareError(std::string("no standard input to read the ") + what + " from");
        return context.read_stdin_line();
    case SecretSource::Kind::none:
        break;
    }
    return {};
}

ProbeOptions PreparedRequest::options_for(Target const& target) const {
    ProbeOptions options = request_.options;
    net::ProxyChoice choice = net::choose_proxy(proxy_, target.host);
    options.connection.proxy = std::move(choice.proxy);
    options.connection.proxy_bypass_reason = std::move(choice.bypass_reason);
    return options;
}

namespace {

/// --data-file: the message --send sends, read once, as it is (data_payload() makes its line
/// endings CRLF and dot-stuffs it). Bounded: a test message, not a mailbox.
std::string read_data_file(std::string const& path) {
    constexpr std::uintmax_t max_bytes = 64 * 1024 * 1024;
    std::error_code ec;
    std::uintmax_t const size = std::filesystem::file_size(path, ec);
    if (!ec && size > max_bytes)
        throw PrepareError("--data-file: " + path + " is " + std::to_string(size) +
                           " bytes; a test message is at most 64 MiB");
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw PrepareError("--data-file: cannot read " + path);
    std::ostringstream content;
    content << file.rdbuf();
    if (file.bad())
        throw PrepareError("--data-file: cannot read " + path);
    return std::move(content).str();
}

} // namespace

PreparedRequest prepare(ProbeRequest request, PrepareContext const& context) {
    PreparedRequest prepared;
    if (!request.data_file.empty() && request.options.envelope)
        request.options.envelope->message = read_data_file(request.data_file);
    request.options.credentials = read_credentials(request, context);
    prepared.proxy_ = read_proxy(request, context);
    net::TlsClientOptions& tls = request.options.tls;
    tls.use_system_store = tls.ca_file.empty() && tls.ca_path.empty() && tls.ca_pem.empty();
    if (request.credentials.key_passphrase.given())
        tls.client_certificate.passphrase =
            read_secret(request.credentials.key_passphrase, "key passphrase", context);
    // A CA file or directory, or a client certificate, that does not load is the user's to
    // fix, before any target (the system store is not loaded here only to be loaded again by
    // the probe).
    if (!tls.ca_file.empty() || !tls.ca_path.empty() || tls.client_certificate.given()) {
        try {
            net::TlsClientContext check(tls);
        } catch (std::runtime_error const& e) {
            throw PrepareError(e.what());
        }
    }
    if (request.demo.on)
        prepared.demo_ = start_demo(request, context);
    prepared.request_ = std::move(request);
    return prepared;
}

} // namespace smtpprobe
