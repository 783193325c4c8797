#include "request/request.hpp"

#include "net/host_port.hpp"
#include "net/tls.hpp"
#include "sasl/mechanisms.hpp"
#include "smtp/ascii.hpp"

#include <algorithm>
#include <chrono>

namespace smtpprobe {
namespace {

struct SettingName {
    Setting setting;
    std::string_view option; ///< the command line
    std::string_view key;    ///< an exporter module; empty: the module has no such key
};

// The one table of names: a setting's option and its module key.
constexpr SettingName setting_names[] = {
    {Setting::targets, "target", "target"},
    {Setting::demo, "--demo", ""},
    {Setting::demo_profile, "--profile", ""},
    {Setting::jobs, "--jobs", ""},
    {Setting::format, "--format", ""},
    {Setting::transcript, "--transcript", ""},
    {Setting::color, "--color", ""},
    {Setting::tls, "--tls", "tls"},
    {Setting::sni, "--sni", "sni"},
    {Setting::no_sni, "--no-sni", "no_sni"},
    {Setting::ehlo_name, "--ehlo-name", "ehlo_name"},
    {Setting::connect_timeout, "--connect-timeout", "connect_timeout"},
    {Setting::command_timeout, "--command-timeout", "command_timeout"},
    {Setting::banner_wait, "--banner-wait", "banner_wait"},
    {Setting::timeout, "--timeout", "timeout"},
    {Setting::parallel, "--parallel", "parallel"},
    {Setting::source, "--source", "source"},
    {Setting::tls_min, "--tls-min", "tls_min"},
    {Setting::tls_max, "--tls-max", "tls_max"},
    {Setting::cert_warn_days, "--cert-warn-days", "cert_warn_days"},
    {Setting::cert_crit_days, "--cert-crit-days", "cert_crit_days"},
    {Setting::user, "--user", "credentials.user"},
    {Setting::password, "--password-*", "credentials.password_*"},
    {Setting::token, "--oauth-token-*", "credentials.token_*"},
    {Setting::token_command, "--oauth-token-cmd", "credentials.oauth_token_cmd"},
    {Setting::gssapi_service, "--gssapi-service", "gssapi_service"},
    {Setting::cert, "--cert", "cert"},
    {Setting::key, "--key", "key"},
    {Setting::key_passphrase, "--key-passphrase-*", "key_passphrase_*"},
    {Setting::authzid, "--authzid", "authzid"},
    {Setting::mechanisms, "--mechanisms", "mechanisms"},
    {Setting::expect_auth, "--expect-auth", "expect.auth"},
    {Setting::expect_tls_min, "--expect-tls-min", "expect.tls_min"},
    {Setting::warning, "--warning", "expect.warning"},
    {Setting::critical, "--critical", "expect.critical"},
    {Setting::proxy_password, "--proxy-password-*", "proxy_password_*"},
    // The message against the extensions (issue 20, developer M)
    {Setting::size, "--size", "size"},
    {Setting::requiretls, "--requiretls", "requiretls"},
    // The envelope (issue 20)
    {Setting::mail_from, "--mail-from", "mail_from"},
    {Setting::rcpt, "--rcpt", "rcpt"},
    {Setting::expect_sender_accepted, "--expect-sender-accepted", "expect.sender_accepted"},
    {Setting::expect_rcpt_accepted, "--expect-rcpt-accepted", "expect.rcpt_accepted"},
    // Beyond AUTH (S): no module key; an exporter never sends bare line endings or mail.
    {Setting::line_endings, "--line-endings", ""},
    // --send (S): no module key; an exporter never sends mail (config.cpp says so).
    {Setting::send, "--send", ""},
    {Setting::data_file, "--data-file", ""},
};

constexpr std::chrono::milliseconds max_seconds{86'400'000};
constexpr int max_cert_days = 3650;

class Checker {
public:
    explicit Checker(Reader reader) : reader_(reader) {}

    [[noreturn]] void fail(Setting setting, std::string const& message) const {
        throw RequestError(setting, reader_, message);
    }
    std::string name(Setting setting) const { return std::string(setting_name(setting, reader_)); }

    void duration(Setting setting, std::chrono::milliseconds value) const {
        if (value.count() <= 0 || value > max_seconds)
            fail(setting, "must be more than 0 and at most 86400 seconds");
    }
    void seconds(Setting setting, std::optional<double> value) const {
        if (value && (!(*value > 0) || *value > 86400))
            fail(setting, "must be more than 0 and at most 86400 seconds");
    }
    void tls_version(Setting setting, std::string const& version) const {
        if (!version.empty() && !net::is_tls_version(version))
            fail(setting, "TLS versions are 1.0, 1.1, 1.2 or 1.3 (got \"" + version + "\")");
    }
    void mechanisms(Setting setting, std::vector<std::string> const& names) const {
        for (std::string const& m : names)
            if (!sasl::valid_mechanism_name(m))
                fail(setting, "\"" + m + "\" is not a SASL mechanism name (RFC 4422 §3.1)");
    }

private:
    Reader reader_;
};

void check_targets(ProbeRequest const& r, Checker const& c, Reader reader) {
    bool const listed = !r.targets.hosts.empty() || !r.targets.file.empty();
    if (r.demo.on && listed)
        c.fail(Setting::demo, "probes the built-in emulator; give no HOST with it");
    if (reader == Reader::command_line && !r.demo.on && !listed)
        c.fail(Setting::targets,
               "no HOST given (try \"smtpprobe --demo\" or \"smtpprobe --help\")");
    if (!r.demo.profile.empty() && !r.demo.on)
        c.fail(Setting::demo_profile, "goes with --demo (or use \"smtpprobe emulate --profile\")");
    // 128 jobs of at most 5 connections each stay well inside the usual 1024 descriptors.
    if (r.targets.jobs < 1 || r.targets.jobs > 128)
        c.fail(Setting::jobs, "must be between 1 and 128");
    if (r.several_targets() && r.outputs.format == Format::nagios)
        c.fail(Setting::format, "nagios checks one target (got " +
                                    (r.targets.file.empty() ? std::to_string(r.targets.hosts.size())
                                                            : std::string("a targets file")) +
                                    ")");
    Outputs const& o = r.outputs;
    if (r.several_targets() &&
        (o.transcript || !o.transcript_file.empty() || !o.bundle_dir.empty()))
        c.fail(Setting::transcript, "--transcript, --transcript-file and --bundle take one target");
    if (r.targets.sni && r.options.no_sni)
        c.fail(Setting::sni, "excludes " + c.name(Setting::no_sni));
}

void check_options(ProbeOptions const& e, Checker const& c) {
    if (e.ehlo_name.empty() ||
        e.ehlo_name.find_first_of(std::string(" \t\r\n\0", 5)) != std::string::npos)
        c.fail(Setting::ehlo_name, "must be one word (no space, TAB, CR, LF or NUL)");
    c.duration(Setting::connect_timeout, e.connect_timeout);
    c.duration(Setting::command_timeout, e.command_timeout);
    c.duration(Setting::banner_wait, e.banner_wait);
    c.duration(Setting::timeout, e.total_timeout);
    if (e.parallel < 1 || e.parallel > 16)
        c.fail(Setting::parallel, "must be between 1 and 16");
    // Parallel connections from one local port to one server port would collide.
    if (e.connection.source && e.connection.source->port != 0 && e.parallel != 1)
        c.fail(Setting::source, "ADDR:PORT needs " + c.name(Setting::parallel) +
                                    " 1 (connections at once would all need that one local port)");
    c.tls_version(Setting::tls_min, e.tls.min_version);
    c.tls_version(Setting::tls_max, e.tls.max_version);
    c.mechanisms(Setting::mechanisms, e.mechanisms);
    // A GSS host-based service name: "SERVICE" or "SERVICE@HOST", both parts non-empty.
    std::string const& g = e.gssapi_service;
    std::size_t const at = g.find('@');
    bool const one_word = g.find_first_of(std::string(" \t\r\n\0", 5)) == std::string::npos;
    bool const host_part =
        at == std::string::npos || (at + 1 < g.size() && g.find('@', at + 1) == std::string::npos);
    if (!g.empty() && (!one_word || at == 0 || !host_part))
        c.fail(Setting::gssapi_service, "is SERVICE or SERVICE@HOST (e.g. smtp@mail.example.com)");
    // RFC 1870's size-value is at most 20 digits; a message over 1 TiB is a typo.
    if (e.message_size && (*e.message_size == 0 || *e.message_size > (1ULL << 40)))
        c.fail(Setting::size, "must be between 1 and 1099511627776 bytes");
}

void check_expectations(Expectations const& x, Checker const& c) {
    c.mechanisms(Setting::expect_auth, x.auth);
    if (!x.tls_min.empty() && !net::is_tls_version(x.tls_min))
        c.fail(Setting::expect_tls_min, "is 1.0, 1.1, 1.2 or 1.3 (got \"" + x.tls_min + "\")");
    c.seconds(Setting::warning, x.warning_s);
    c.seconds(Setting::critical, x.critical_s);
    if (x.warning_s && x.critical_s && *x.warning_s > *x.critical_s)
        c.fail(Setting::warning, "must not exceed " + c.name(Setting::critical));
    for (auto [days, setting] : {std::pair{x.cert_warn_days, Setting::cert_warn_days},
                                 std::pair{x.cert_crit_days, Setting::cert_crit_days}})
        if (days < 0 || days > max_cert_days)
            c.fail(setting, "must be between 0 and 3650 days");
    if (x.cert_crit_days > x.cert_warn_days)
        c.fail(Setting::cert_crit_days, "must not exceed " + c.name(Setting::cert_warn_days));
}

void check_credentials(ProbeRequest const& r, Checker const& c) {
    CredentialRequest const& k = r.credentials;
    bool const command = !k.token_command.empty();
    if (!k.user && (k.password.given() || k.token.given() || command))
        c.fail(Setting::user, "a password or token needs a user");
    if (command && k.token.given())
        c.fail(Setting::token_command, "is one of the token's sources: give " +
                                           c.name(Setting::token_command) + " or " +
                                           c.name(Setting::token) + ", not both");
    if (k.token_command.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
        c.fail(Setting::token_command, "must be one line (no CR, LF or NUL)");
    // Without the environment (an exporter module), a proxy password without a proxy is known
    // to be wrong before any probe.
    if (r.proxy.password.given() && !r.proxy.from_environment &&
        (!r.proxy.url || r.proxy.url->empty()))
        c.fail(Setting::proxy_password, "needs a proxy URL with a user");
    if (k.password.kind == SecretSource::Kind::standard_input && r.targets.file == "-")
        c.fail(Setting::password, "--password-stdin and --targets-file - both read standard input");
    if (k.user && k.user->find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
        c.fail(Setting::user, "must not contain CR, LF or NUL");
    net::ClientCertificate const& cert = r.options.tls.client_certificate;
    if (!cert.key_file.empty() && !cert.given())
        c.fail(Setting::key, "needs " + c.name(Setting::cert) + " (the certificate it belongs to)");
    if (k.key_passphrase.given() && !cert.given())
        c.fail(Setting::key_passphrase, "needs " + c.name(Setting::cert) + " and " +
                                            c.name(Setting::key) + " (an encrypted key)");
    if (k.key_passphrase.kind == SecretSource::Kind::standard_input &&
        (k.password.kind == SecretSource::Kind::standard_input || r.targets.file == "-"))
        c.fail(Setting::key_passphrase, "standard input is read for something else already");
    if (cert.given() && r.targets.tls == TlsMode::none)
        c.fail(Setting::cert, "is offered in the TLS handshake, and " + c.name(Setting::tls) +
                                  " none has no handshake");
    std::string const& authzid = r.options.authzid;
    if (authzid.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
        c.fail(Setting::authzid, "must not contain CR, LF or NUL");
    if (authzid.size() > 255)
        c.fail(Setting::authzid, "must be at most 255 bytes");
}

/// An envelope address as given: local@domain, no <>, space or control character (the
/// command would carry them onto the wire); "<>" alone is the null sender (--mail-from only).
bool envelope_address(std::string const& a, bool null_allowed) {
    if (null_allowed && a == "<>")
        return true;
    return !a.empty() && a.size() <= 254 && std::none_of(a.begin(), a.end(), [](char ch) {
        auto const c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7f || c == ' ' || c == '<' || c == '>';
    });
}

void check_envelope(ProbeRequest const& r, Checker const& c) {
    std::optional<probes::EnvelopeRequest> const& e = r.options.envelope;
    if (e && e->mail_from.empty() && !e->rcpt.empty())
        c.fail(Setting::rcpt,
               "needs " + c.name(Setting::mail_from) + " (the envelope starts with MAIL FROM)");
    if (e && !envelope_address(e->mail_from, true))
        c.fail(Setting::mail_from, "is an address (local@domain, without <>, spaces or control "
                                   "characters), or <> for the null sender");
    if (e)
        for (std::string const& rcpt : e->rcpt)
            if (!envelope_address(rcpt, false))
                c.fail(Setting::rcpt, "\"" + escape_controls(rcpt) +
                                          "\" is not an address (local@domain, without <>, "
                                          "spaces or control characters)");
    if (e && e->rcpt.size() > 100)
        c.fail(Setting::rcpt, "at most 100 recipients (RFC 5321 §4.5.3.1.8's minimum)");
    if (r.expect.sender_accepted && !e)
        c.fail(Setting::expect_sender_accepted, "needs " + c.name(Setting::mail_from));
    if (r.expect.rcpt_accepted && (!e || e->rcpt.empty()))
        c.fail(Setting::expect_rcpt_accepted, "needs " + c.name(Setting::rcpt));
}

} // namespace

std::optional<ColorChoice> parse_color_choice(std::string_view text) noexcept {
    if (text == "auto")
        return ColorChoice::auto_;
    if (text == "always")
        return ColorChoice::always;
    if (text == "never")
        return ColorChoice::never;
    return std::nullopt;
}

bool ProbeRequest::several_targets() const noexcept {
    return targets.hosts.size() > 1 || !targets.file.empty() || outputs.format == Format::ndjson;
}

Expectations ProbeRequest::expectations() const {
    Expectations e = expect;
    e.nagios = outputs.format == Format::nagios;
    return e;
}

std::string_view setting_name(Setting setting, Reader reader) noexcept {
    for (SettingName const& n : setting_names)
        if (n.setting == setting)
            return reader == Reader::exporter_module && !n.key.empty() ? n.key : n.option;
    return "setting";
}

RequestError::RequestError(Setting setting, Reader reader, std::string const& message)
    : std::runtime_error(std::string(setting_name(setting, reader)) + ": " + message),
      setting_(setting), message_(message) {}

// What goes beyond AUTH by request only (issue 20 items 4, 5): a one-off diagnosis, never a
// monitoring check. Bare line endings repeated every few minutes get the prober's address
// penalised by some servers (Postfix logs each one; fail2ban-style rules act on them).
void check_by_request(ProbeRequest const& r, Checker const& c, Reader reader) {
    if (!r.options.line_endings)
        return;
    if (reader == Reader::exporter_module)
        c.fail(Setting::line_endings, "an exporter module never sends bare line endings");
    if (r.outputs.format == Format::nagios)
        c.fail(Setting::line_endings,
               "a one-off check, not for monitoring: run it without --format nagios");
}

// --send: the only option that sends mail. One message, from one run, to one server: never
// from a monitoring check (every scrape or check interval would send one), never once per
// target or per address.
void check_send(ProbeRequest const& r, Checker const& c, Reader reader) {
    std::optional<probes::EnvelopeRequest> const& e = r.options.envelope;
    bool const send = e && e->send;
    if (!r.data_file.empty() && !send)
        c.fail(Setting::data_file, "needs " + c.name(Setting::send) + " (it is the message " +
                                       c.name(Setting::send) + " sends)");
    if (!send)
        return;
    if (reader == Reader::exporter_module)
        c.fail(Setting::send, "an exporter module never sends mail");
    if (r.outputs.format == Format::nagios)
        c.fail(Setting::send,
               "sends a real message, not for monitoring: run it without --format nagios");
    if (e->mail_from.empty() || e->rcpt.empty())
        c.fail(Setting::send, "needs " + c.name(Setting::mail_from) + " and at least one " +
                                  c.name(Setting::rcpt) +
                                  " (the message goes from that sender to those recipients)");
    if (e->mail_from == "<>" && r.data_file.empty())
        c.fail(Setting::send, "with the null sender <>, give the message with " +
                                  c.name(Setting::data_file) +
                                  " (the message smtpprobe builds needs a From address)");
    if (r.several_targets())
        c.fail(Setting::send, "sends one message to one server: give one target (not several, "
                              "--targets-file or --format ndjson)");
    if (r.options.all_addresses)
        c.fail(Setting::send, "would send one message per address with --all-addresses: give "
                              "the one address to send through as the target");
}

void check(ProbeRequest const& request, Reader reader) {
    Checker const c(reader);
    check_targets(request, c, reader);
    check_options(request.options, c);
    check_expectations(request.expect, c);
    check_credentials(request, c);
    check_send(request, c, reader);
    check_envelope(request, c);
    check_by_request(request, c, reader);
}

Target make_target(std::string host, unsigned short port, TlsMode tls,
                   std::optional<std::string> sni) {
    Target t;
    t.host = std::move(host);
    t.port = port != 0 ? port : tls == TlsMode::implicit ? 465 : 587;
    t.tls_mode = tls == TlsMode::auto_ && t.port == 465 ? TlsMode::implicit : tls;
    t.sni = std::move(sni);
    return t;
}

Target parse_target(std::string_view text, ProbeRequest const& request) {
    net::HostPort address;
    try {
        address = net::parse_host_port(text);
    } catch (std::invalid_argument const& e) {
        throw RequestError(Setting::targets, Reader::command_line, e.what());
    }
    return make_target(std::move(address.host), address.port, request.targets.tls,
                       request.targets.sni);
}

std::vector<std::string> split_mechanism_list(std::string_view text) {
    std::vector<std::string> out;
    std::string item;
    for (char c : text) {
        if (c == ',' || c == ' ') {
            if (!item.empty())
                out.push_back(smtp::to_upper(item));
            item.clear();
        } else {
            item += c;
        }
    }
    if (!item.empty())
        out.push_back(smtp::to_upper(item));
    return out;
}

} // namespace smtpprobe
