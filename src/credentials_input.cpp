#include "credentials_input.hpp"

#include "net/proxy_spec.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace smtpprobe {
namespace {

std::string first_line(std::istream& in) {
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.pop_back();
    return line;
}

std::string read_secret_file(std::string const& path, char const* what) {
    std::ifstream in(path);
    if (!in)
        throw UsageError(std::string("cannot read the ") + what + " file " + path);
    return first_line(in);
}

std::string read_secret_env(std::string const& name, char const* what) {
    char const* value = std::getenv(name.c_str());
    if (value == nullptr)
        throw UsageError(std::string("the ") + what + " variable " + name + " is not set");
    return value;
}

/// Reads a password from the terminal without echo (msmtp and swaks do the same).
std::string prompt_password() {
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
    std::string password = first_line(std::cin);
    if (restore)
        ::tcsetattr(0, TCSANOW, &old_mode);
    std::cerr << "\n";
    return password;
}

} // namespace

void load_credentials(Config& c) {
    if (!c.user_given)
        return;
    sasl::Credentials credentials;
    credentials.user = c.user;
    if (!c.password.env.empty())
        credentials.password = read_secret_env(c.password.env, "password");
    else if (!c.password.file.empty())
        credentials.password = read_secret_file(c.password.file, "password");
    else if (c.password.stdin_)
        credentials.password = first_line(std::cin);
    else if (c.token_env.empty() && c.token_file.empty() && ::isatty(0) == 1)
        credentials.password = prompt_password();
    if (!c.token_env.empty())
        credentials.token = read_secret_env(c.token_env, "token");
    else if (!c.token_file.empty())
        credentials.token = read_secret_file(c.token_file, "token");
    c.options.credentials = std::move(credentials);
}

void resolve_proxy(Config& c) {
    net::ProxySources sources;
    sources.proxy = c.proxy;
    sources.noproxy = c.noproxy;
    sources.getenv = [](char const* name) -> std::optional<std::string> {
        char const* value = std::getenv(name);
        if (value == nullptr)
            return std::nullopt;
        return std::string(value);
    };
    net::ProxyChoice choice;
    try {
        choice = net::choose_proxy(sources, c.target.host);
    } catch (std::invalid_argument const& e) {
        throw UsageError(e.what());
    }
    bool const password_given = !c.proxy_password.env.empty() || !c.proxy_password.file.empty();
    if (password_given && !choice.proxy && choice.bypass_reason.empty())
        throw UsageError("--proxy-password-env/--proxy-password-file need a proxy (--proxy or "
                         "ALL_PROXY)");
    c.options.connection.proxy_bypass_reason = choice.bypass_reason;
    if (!choice.proxy)
        return;
    net::ProxySpec& proxy = *choice.proxy;
    if (!c.proxy_password.env.empty())
        proxy.password = read_secret_env(c.proxy_password.env, "proxy password");
    else if (!c.proxy_password.file.empty())
        proxy.password = read_secret_file(c.proxy_password.file, "proxy password");
    if (password_given && proxy.user.empty())
        throw UsageError(
            "a proxy password needs a user in the proxy URL (socks5://USER@HOST:PORT)");
    if (!proxy.user.empty() && proxy.password.empty())
        throw UsageError("the proxy user " + proxy.user +
                         " needs a password: --proxy-password-env or --proxy-password-file");
    if (c.options.all_addresses && proxy.proxy_resolves())
        throw UsageError("--all-addresses needs the name's addresses here, but " +
                         std::string(net::to_string(proxy.scheme)) +
                         ":// has the proxy resolve it: use socks5:// (resolved here)");
    c.options.connection.proxy = std::move(proxy);
}

} // namespace smtpprobe
