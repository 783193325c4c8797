// The one request pipeline (ARCHITECTURE §12): the two readers of a ProbeRequest (the command
// line and an exporter module) agree setting by setting (the drift test), both go through the
// one check() with one error style, and prepare() resolves credentials and the proxy per
// target from the environment it is given.

#include "cli.hpp"
#include "exporter/config.hpp"
#include "request/prepare.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace smtpprobe;
using nlohmann::json;

namespace {

json secret(SecretSource const& s) {
    return {{"kind", static_cast<int>(s.kind)}, {"name", s.name}};
}

/// Every field of a request that a reader can set, as JSON, so that two requests can be
/// compared and their difference printed.
json describe(ProbeRequest const& r) {
    ProbeOptions const& o = r.options;
    Expectations const& x = r.expect;
    json out;
    out["targets"] = {{"hosts", r.targets.hosts},
                      {"file", r.targets.file},
                      {"jobs", r.targets.jobs},
                      {"tls", std::string(to_string(r.targets.tls))},
                      {"sni", r.targets.sni.value_or("<none>")}};
    out["options"] = {
        {"ehlo_name", o.ehlo_name},
        {"family", static_cast<int>(o.connection.family)},
        {"source", o.connection.source ? o.connection.source->display() : "<none>"},
        {"connect_timeout", o.connect_timeout.count()},
        {"command_timeout", o.command_timeout.count()},
        {"total_timeout", o.total_timeout.count()},
        {"banner_wait", o.banner_wait.count()},
        {"parallel", o.parallel},
        {"allow_insecure_auth", o.allow_insecure_auth},
        {"show_username", o.show_username},
        {"tls",
         {{"ca_file", o.tls.ca_file},
          {"ca_path", o.tls.ca_path},
          {"insecure", o.tls.insecure},
          {"min", o.tls.min_version},
          {"max", o.tls.max_version},
          {"cert", o.tls.client_certificate.cert_file},
          {"key", o.tls.client_certificate.key_file}}},
        {"authzid", o.authzid},
        {"no_sni", o.no_sni},
        {"tls_versions", o.tls_versions},
        {"line_endings", o.line_endings},
        {"auth_before_tls", o.auth_before_tls},
        {"all_addresses", o.all_addresses},
        {"max_addresses", o.max_addresses},
        {"mechanisms", o.mechanisms},
        {"gssapi_service", o.gssapi_service},
        {"message_size", o.message_size ? std::to_string(*o.message_size) : "<none>"},
        {"requiretls", o.requiretls},
    };
    // The envelope (issue 20)
    out["envelope"] = o.envelope
                          ? json{{"mail_from", o.envelope->mail_from},
                                 {"rcpt", o.envelope->rcpt},
                                 // --send (S): the command line only; a module cannot set it.
                                 {"send", o.envelope->send},
                                 {"message", o.envelope->message.value_or("<none>")}}
                          : json("<none>");
    out["data_file"] = r.data_file;
    out["credentials"] = {{"user", r.credentials.user.value_or("<none>")},
                          {"password", secret(r.credentials.password)},
                          {"token", secret(r.credentials.token)},
                          {"token_command", r.credentials.token_command},
                          {"key_passphrase", secret(r.credentials.key_passphrase)}};
    out["proxy"] = {{"url", r.proxy.url.value_or("<none>")},
                    {"noproxy", r.proxy.noproxy.value_or("<none>")},
                    {"password", secret(r.proxy.password)}};
    out["expect"] = {{"auth", x.auth},
                     {"starttls", x.starttls},
                     {"tls_min", x.tls_min},
                     {"warning", x.warning_s ? *x.warning_s : -1.0},
                     {"critical", x.critical_s ? *x.critical_s : -1.0},
                     {"cert_warn_days", x.cert_warn_days},
                     {"cert_crit_days", x.cert_crit_days},
                     {"sender_accepted", x.sender_accepted},
                     {"rcpt_accepted", x.rcpt_accepted}};
    return out;
}

ProbeRequest from_command_line(std::vector<std::string> words) {
    words.insert(words.begin(), "smtpprobe");
    words.push_back("mail.example");
    std::vector<char const*> argv;
    for (std::string const& w : words)
        argv.push_back(w.c_str());
    return read_command_line(static_cast<int>(argv.size()), argv.data()).request;
}

ProbeRequest from_module(std::string const& body) {
    std::string yaml = "modules:\n  m:\n";
    if (!body.empty())
        yaml += "    " + body + "\n";
    return exporter::parse_config(yaml, "drift.yml").modules.at("m").request;
}

std::string error_of(std::function<void()> const& read) {
    try {
        read();
    } catch (std::exception const& e) {
        return e.what();
    }
    return "(accepted)";
}

/// A setting as each reader spells it.
struct Spelling {
    std::vector<std::string> module_keys; ///< the module keys it covers
    std::vector<std::string> options;     ///< the command line's words
    std::string yaml;                     ///< the module's lines (indented 4)
};

} // namespace

TEST_CASE("drift: every setting both readers take gives the same request", "[unit][request]") {
    ::setenv("SMTPPROBE_DRIFT_SECRET", "drift-secret-1", 1);
    std::string const ca = std::string(SMTPPROBE_SOURCE_DIR) + "/samples/exporter/smtpprobe.yml";
    // Values differ from both readers' defaults, so that each shows up as a change.
    std::vector<Spelling> const spellings = {
        {{"tls"}, {"--tls", "starttls"}, "tls: starttls"},
        {{"ehlo_name"}, {"--ehlo-name", "probe.example"}, "ehlo_name: probe.example"},
        {{"mechanisms"}, {"--mechanisms", "plain,Login"}, "mechanisms: [plain, Login]"},
        {{"parallel"}, {"--parallel", "2"}, "parallel: 2"},
        {{"timeout"}, {"--timeout", "12"}, "timeout: 12s"},
        {{"connect_timeout"}, {"--connect-timeout", "3"}, "connect_timeout: 3s"},
        {{"command_timeout"}, {"--command-timeout", "4.5"}, "command_timeout: 4500ms"},
        {{"banner_wait"}, {"--banner-wait", "2"}, "banner_wait: 2s"},
        {{"gssapi_service"},
         {"--gssapi-service", "smtp@mx.example"},
         "gssapi_service: smtp@mx.example"},
        {{"source"}, {"--source", "127.0.0.2"}, "source: 127.0.0.2"},
        {{"proxy"}, {"--proxy", "socks5://127.0.0.1:1080"}, "proxy: socks5://127.0.0.1:1080"},
        {{"noproxy"}, {"--noproxy", "example.com"}, "noproxy: example.com"},
        {{"proxy_password_env"},
         {"--proxy", "socks5://u@127.0.0.1:1080", "--proxy-password-env", "SMTPPROBE_DRIFT_SECRET"},
         "proxy: socks5://u@127.0.0.1:1080\n    proxy_password_env: SMTPPROBE_DRIFT_SECRET"},
        {{"proxy_password_file"},
         {"--proxy", "socks5://u@127.0.0.1:1080", "--proxy-password-file", ca},
         "proxy: socks5://u@127.0.0.1:1080\n    proxy_password_file: " + ca},
        {{"ca_file"}, {"--ca-file", ca}, "ca_file: " + ca},
        {{"ca_path"}, {"--ca-path", "/etc/ssl/certs"}, "ca_path: /etc/ssl/certs"},
        {{"insecure"}, {"--insecure"}, "insecure: true"},
        {{"tls_min"}, {"--tls-min", "1.2"}, "tls_min: \"1.2\""},
        {{"tls_max"}, {"--tls-max", "1.2"}, "tls_max: \"1.2\""},
        {{"sni"}, {"--sni", "mx.example"}, "sni: mx.example"},
        {{"no_sni"}, {"--no-sni"}, "no_sni: true"},
        {{"cert_warn_days"}, {"--cert-warn-days", "40"}, "cert_warn_days: 40"},
        {{"cert_crit_days"}, {"--cert-crit-days", "3"}, "cert_crit_days: 3"},
        {{"tls_versions"}, {"--tls-versions"}, "tls_versions: true"},
        {{"all_addresses"}, {"--all-addresses"}, "all_addresses: true"},
        // The message against the extensions (issue 20, developer M)
        {{"size"}, {"--size", "2048"}, "size: 2048"},
        {{"requiretls"}, {"--requiretls"}, "requiretls: true"},
        {{"allow_insecure_auth"}, {"--allow-insecure-auth"}, "allow_insecure_auth: true"},
        {{"cert"}, {"--cert", ca}, "cert: " + ca},
        {{"cert", "key"}, {"--cert", ca, "--key", ca}, "cert: " + ca + "\n    key: " + ca},
        {{"key_passphrase_env"},
         {"--cert", ca, "--key-passphrase-env", "SMTPPROBE_DRIFT_SECRET"},
         "cert: " + ca + "\n    key_passphrase_env: SMTPPROBE_DRIFT_SECRET"},
        {{"key_passphrase_file"},
         {"--cert", ca, "--key-passphrase-file", ca},
         "cert: " + ca + "\n    key_passphrase_file: " + ca},
        {{"authzid"}, {"--authzid", "postmaster@example.test"}, "authzid: postmaster@example.test"},
        {{"credentials"},
         {"--user", "alice@example.test", "--password-env", "SMTPPROBE_DRIFT_SECRET"},
         "credentials: {user: alice@example.test, password_env: SMTPPROBE_DRIFT_SECRET}"},
        {{"credentials"},
         {"--user", "alice@example.test", "--oauth-token-file", ca},
         "credentials: {user: alice@example.test, token_file: " + ca + "}"},
        {{"credentials"},
         {"--user", "alice@example.test", "--oauth-token-cmd", "printf '%s\\n' tok"},
         "credentials: {user: alice@example.test, oauth_token_cmd: \"printf '%s\\\\n' tok\"}"},
        {{"expect"}, {"--expect-auth", "login,plain"}, "expect: {auth: [login, plain]}"},
        {{"expect"}, {"--expect-starttls"}, "expect: {starttls: true}"},
        {{"expect"}, {"--expect-tls-min", "1.3"}, "expect: {tls_min: \"1.3\"}"},
        {{"expect"},
         {"--warning", "5", "--critical", "9.5"},
         "expect: {warning: 5s, critical: 9500ms}"},
        // The envelope (issue 20)
        {{"mail_from"}, {"--mail-from", "a@example.test"}, "mail_from: a@example.test"},
        {{"mail_from"}, {"--mail-from", "<>"}, "mail_from: \"<>\""},
        {{"mail_from", "rcpt"},
         {"--mail-from", "a@example.test", "--rcpt", "b@example.test", "--rcpt", "c@example.org"},
         "mail_from: a@example.test\n    rcpt: [b@example.test, c@example.org]"},
        {{"mail_from", "rcpt"},
         {"--mail-from", "a@example.test", "--rcpt", "b@example.test"},
         "mail_from: a@example.test\n    rcpt: b@example.test"},
        {{"expect"},
         {"--mail-from", "a@example.test", "--rcpt", "b@example.test", "--expect-sender-accepted",
          "--expect-rcpt-accepted"},
         "mail_from: a@example.test\n    rcpt: [b@example.test]\n"
         "    expect: {sender_accepted: true, rcpt_accepted: true}"},
    };
    json const cli_default = describe(from_command_line({}));
    json const module_default = describe(from_module(""));
    std::set<std::string> covered;
    for (Spelling const& s : spellings) {
        std::string words;
        for (std::string const& w : s.options)
            words += w + " ";
        INFO("command line: " << words << "\nmodule: " << s.yaml);
        json const cli_change = json::diff(cli_default, describe(from_command_line(s.options)));
        json const module_change = json::diff(module_default, describe(from_module(s.yaml)));
        INFO("command line changes " << cli_change.dump() << "\nmodule changes "
                                     << module_change.dump());
        CHECK_FALSE(cli_change.empty());
        CHECK(cli_change == module_change);
        covered.insert(s.module_keys.begin(), s.module_keys.end());
    }
    ::unsetenv("SMTPPROBE_DRIFT_SECRET");
    // A module key added without a case here fails: every key either has a command-line twin
    // above or is the exporter's own.
    std::set<std::string> const exporter_only = {"timeout_offset"};
    for (std::string_view key : exporter::module_keys()) {
        INFO("module key " << key);
        CHECK((covered.count(std::string(key)) == 1 || exporter_only.count(std::string(key)) == 1));
    }
}

TEST_CASE("one check(), one error style: the option or the module key, then the reason",
          "[unit][request]") {
    struct Case {
        std::vector<std::string> options;
        std::string yaml;
        std::string cli_error;
        std::string module_error;
    };
    std::string const ca = std::string(SMTPPROBE_SOURCE_DIR) + "/samples/exporter/smtpprobe.yml";
    std::vector<Case> const cases = {
        {{"--ehlo-name", ""},
         "ehlo_name: \"\"",
         "--ehlo-name: must be one word",
         "modules.m.ehlo_name: must be one word"},
        {{"--ehlo-name", "a\tb"},
         "ehlo_name: \"a\\tb\"",
         "--ehlo-name: must be one word",
         "modules.m.ehlo_name: must be one word"},
        {{"--parallel", "17"},
         "parallel: 17",
         "--parallel: must be between 1 and 16",
         "modules.m.parallel: must be between 1 and 16"},
        {{"--tls-min", "1.4"},
         "tls_min: \"1.4\"",
         "--tls-min: TLS versions are",
         "modules.m.tls_min: TLS versions are"},
        {{"--mechanisms", "BAD/MECH"},
         "mechanisms: [\"BAD/MECH\"]",
         "--mechanisms: \"BAD/MECH\" is not a SASL mechanism name",
         "modules.m.mechanisms: \"BAD/MECH\" is not a SASL mechanism name"},
        {{"--cert-warn-days", "5", "--cert-crit-days", "6"},
         "cert_warn_days: 5\n    cert_crit_days: 6",
         "--cert-crit-days: must not exceed --cert-warn-days",
         "modules.m.cert_crit_days: must not exceed cert_warn_days"},
        {{"--source", "127.0.0.2:2000"},
         "source: 127.0.0.2:2000",
         "--source: ADDR:PORT needs --parallel 1",
         "modules.m.source: ADDR:PORT needs parallel 1"},
        {{"--sni", "a.example", "--no-sni"},
         "sni: a.example\n    no_sni: true",
         "--sni: excludes --no-sni",
         "modules.m.sni: excludes no_sni"},
        {{"--gssapi-service", "smtp@"},
         "gssapi_service: \"smtp@\"",
         "--gssapi-service: is SERVICE or SERVICE@HOST",
         "modules.m.gssapi_service: is SERVICE or SERVICE@HOST"},
        {{"--gssapi-service", "smtp@a@b"},
         "gssapi_service: \"smtp@a@b\"",
         "--gssapi-service: is SERVICE or SERVICE@HOST",
         "modules.m.gssapi_service: is SERVICE or SERVICE@HOST"},
        {{"--warning", "9", "--critical", "5"},
         "expect: {warning: 9s, critical: 5s}",
         "--warning: must not exceed --critical",
         "modules.m.expect.warning: must not exceed expect.critical"},
        {{"--key", ca},
         "key: " + ca,
         "--key: needs --cert (the certificate it belongs to)",
         "modules.m.key: needs cert (the certificate it belongs to)"},
        {{"--key-passphrase-file", ca},
         "key_passphrase_file: " + ca,
         "--key-passphrase-*: needs --cert and --key",
         "modules.m.key_passphrase_*: needs cert and key"},
        {{"--cert", ca, "--tls", "none"},
         "cert: " + ca + "\n    tls: none",
         "--cert: is offered in the TLS handshake, and --tls none has no handshake",
         "modules.m.cert: is offered in the TLS handshake, and tls none has no handshake"},
        {{"--authzid", std::string(256, 'a')},
         "authzid: " + std::string(256, 'a'),
         "--authzid: must be at most 255 bytes",
         "modules.m.authzid: must be at most 255 bytes"},
        // The message against the extensions (issue 20, M): the exporter's reader refuses the
        // number itself, in its own words.
        {{"--size", "0"},
         "size: 0",
         "--size: must be between 1 and 1099511627776 bytes",
         "modules.m.size: expected a whole number from 1 to 1099511627776"},
        {{"--size", "1099511627777"},
         "size: 1099511627777",
         "--size: must be between 1 and 1099511627776 bytes",
         "modules.m.size: expected a whole number from 1 to 1099511627776"},
        // The envelope (issue 20)
        {{"--rcpt", "b@example.test"},
         "rcpt: [b@example.test]",
         "--rcpt: needs --mail-from",
         "modules.m.rcpt: needs mail_from"},
        {{"--mail-from", "a@example.test>\r\nDATA"},
         "mail_from: \"a@example.test>\\r\\nDATA\"",
         "--mail-from: is an address",
         "modules.m.mail_from: is an address"},
        {{"--mail-from", ""},
         "mail_from: \"\"",
         "--mail-from: is an address",
         "modules.m.mail_from: is an address"},
        {{"--mail-from", "a@example.test", "--rcpt", "<b@example.test>"},
         "mail_from: a@example.test\n    rcpt: [\"<b@example.test>\"]",
         "--rcpt: \"<b@example.test>\" is not an address",
         "modules.m.rcpt: \"<b@example.test>\" is not an address"},
        {{"--expect-sender-accepted"},
         "expect: {sender_accepted: true}",
         "--expect-sender-accepted: needs --mail-from",
         "modules.m.expect.sender_accepted: needs mail_from"},
        {{"--mail-from", "a@example.test", "--expect-rcpt-accepted"},
         "mail_from: a@example.test\n    expect: {rcpt_accepted: true}",
         "--expect-rcpt-accepted: needs --rcpt",
         "modules.m.expect.rcpt_accepted: needs rcpt"},
        {{"--user", "u", "--oauth-token-file", ca, "--oauth-token-cmd", "true"},
         "credentials: {user: u, token_file: " + ca + ", oauth_token_cmd: \"true\"}",
         "--oauth-token-cmd: is one of the token's sources: give --oauth-token-cmd or "
         "--oauth-token-*, not both",
         "modules.m.credentials.oauth_token_cmd: is one of the token's sources: give "
         "credentials.oauth_token_cmd or credentials.token_*, not both"},
    };
    for (Case const& c : cases) {
        INFO(c.yaml);
        std::string const cli = error_of([&] { from_command_line(c.options); });
        std::string const module = error_of([&] { from_module(c.yaml); });
        CHECK(cli.starts_with(c.cli_error));
        CHECK(module.starts_with("drift.yml: " + c.module_error));
    }
}

// Beyond AUTH, by request only (S): command line only, never in nagios or the exporter.
TEST_CASE("line endings option: the command line only, and never in nagios mode",
          "[unit][request]") {
    CHECK(from_command_line({"--line-endings"}).options.line_endings);
    CHECK_FALSE(from_command_line({}).options.line_endings);
    CHECK(error_of([] {
              from_command_line({"--line-endings", "--format", "nagios"});
          }) ==
          "--line-endings: a one-off check, not for monitoring: run it without --format nagios");
    CHECK(error_of([] { from_module("line_endings: true"); }).find("unknown key") !=
          std::string::npos);
    ProbeRequest r;
    r.options.line_endings = true;
    CHECK(error_of([&] { check(r, Reader::exporter_module); }) ==
          "--line-endings: an exporter module never sends bare line endings");
}

// The fleet benchmark's --jobs 128 (issue 21): 128 jobs of at most 5 connections each stay
// inside the usual 1024 descriptors.
TEST_CASE("jobs option: from 1 to 128", "[unit][request]") {
    CHECK(from_command_line({"--jobs", "128"}).targets.jobs == 128);
    CHECK(from_command_line({"--jobs", "1"}).targets.jobs == 1);
    CHECK(error_of([] {
              from_command_line({"--jobs", "129"});
          }) == "--jobs: must be between 1 and 128");
    CHECK(error_of([] {
              from_command_line({"--jobs", "0"});
          }) == "--jobs: must be between 1 and 128");
}

// --send (S): the only option that sends mail. The command line only, one target, never in
// nagios mode or an exporter module.
TEST_CASE("send option: the command line only, one message to one target", "[unit][request]") {
    std::string const file = std::string(SMTPPROBE_SOURCE_DIR) + "/samples/exporter/smtpprobe.yml";
    ProbeRequest const r = from_command_line({"--mail-from", "a@example.test", "--rcpt",
                                              "b@example.test", "--send", "--data-file", file});
    REQUIRE(r.options.envelope);
    CHECK(r.options.envelope->send);
    CHECK(r.data_file == file);
    CHECK_FALSE(r.options.envelope->message); // read by prepare()
    CHECK_FALSE(from_command_line({"--mail-from", "a@example.test"}).options.envelope->send);
    std::vector<std::string> const send = {"--mail-from", "a@example.test", "--rcpt",
                                           "b@example.test", "--send"};
    auto with = [&](std::vector<std::string> more) {
        std::vector<std::string> words = send;
        words.insert(words.end(), more.begin(), more.end());
        return error_of([&] { from_command_line(words); });
    };
    CHECK(with({}) == "(accepted)");
    CHECK(error_of([] { from_command_line({"--send"}); }) ==
          "--send: needs --mail-from and at least one --rcpt (the message goes from that sender "
          "to those recipients)");
    CHECK(error_of([] {
              from_command_line({"--mail-from", "a@example.test", "--send"});
          }).starts_with("--send: needs --mail-from and at least one --rcpt"));
    CHECK(error_of([] {
              from_command_line({"--data-file", "x.eml"});
          }) == "--data-file: needs --send (it is the message --send sends)");
    CHECK(with({"--format", "nagios"}) ==
          "--send: sends a real message, not for monitoring: run it without --format nagios");
    CHECK(with({"--format", "ndjson"}).starts_with("--send: sends one message to one server"));
    CHECK(with({"second.example"}).starts_with("--send: sends one message to one server"));
    CHECK(with({"--all-addresses"}).starts_with("--send: would send one message per address"));
    CHECK(error_of([] {
              from_command_line({"--mail-from", "<>", "--rcpt", "b@example.test", "--send"});
          }).starts_with("--send: with the null sender <>, give the message with --data-file"));
    // nagios: UNKNOWN, not exit 64 (the usage error carries the mode).
    try {
        std::vector<std::string> words = send;
        words.insert(words.end(), {"--format", "nagios"});
        from_command_line(words);
        FAIL("accepted");
    } catch (UsageError const& e) {
        CHECK(e.nagios());
    }
    // An exporter module has no key for it, and says why.
    for (char const* yaml : {"send: true", "data_file: /tmp/x.eml"})
        CHECK(error_of([&] {
                  from_module(std::string("mail_from: a@example.test\n    ") + yaml);
              }).find("an exporter module never sends mail") != std::string::npos);
    ProbeRequest m;
    m.options.envelope.emplace();
    m.options.envelope->mail_from = "a@example.test";
    m.options.envelope->rcpt = {"b@example.test"};
    m.options.envelope->send = true;
    CHECK(error_of([&] { check(m, Reader::exporter_module); }) ==
          "--send: an exporter module never sends mail");
}

TEST_CASE("send option: prepare() reads --data-file as it is, and refuses one it cannot read",
          "[unit][request]") {
    std::string const path = std::string(SMTPPROBE_SOURCE_DIR) + "/samples/exporter/smtpprobe.yml";
    ProbeRequest r = from_command_line({"--mail-from", "a@example.test", "--rcpt", "b@example.test",
                                        "--send", "--data-file", path});
    PrepareContext context;
    context.getenv = [](char const*) { return std::nullopt; };
    PreparedRequest const prepared = prepare(r, context);
    std::ifstream file(path, std::ios::binary);
    std::string const want((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    REQUIRE(prepared.request().options.envelope->message);
    CHECK(*prepared.request().options.envelope->message == want);
    r.data_file = path + ".missing";
    CHECK(error_of([&] { prepare(r, context); }) ==
          "--data-file: cannot read " + path + ".missing");
}

TEST_CASE("the implicit-TLS rule is one rule", "[unit][request]") {
    CHECK(make_target("h", 0, TlsMode::auto_, {}).port == 587);
    CHECK(make_target("h", 0, TlsMode::implicit, {}).port == 465);
    CHECK(make_target("h", 465, TlsMode::auto_, {}).tls_mode == TlsMode::implicit);
    CHECK(make_target("h", 465, TlsMode::starttls, {}).tls_mode == TlsMode::starttls);
    CHECK(make_target("h", 587, TlsMode::auto_, {}).tls_mode == TlsMode::auto_);
    ProbeRequest r;
    Target const t = parse_target("[2001:db8::1]:465", r);
    CHECK(t.host == "2001:db8::1");
    CHECK(t.tls_mode == TlsMode::implicit);
    CHECK_THROWS_WITH(parse_target("mail.example:99999", r),
                      "target: \"mail.example:99999\": the port must be a number from 1 to "
                      "65535");
}

TEST_CASE("prepare(): the proxy is chosen per target from the environment it is given",
          "[unit][request]") {
    std::map<std::string, std::string> env = {{"ALL_PROXY", "socks5://127.0.0.1:1"},
                                              {"NO_PROXY", "direct.example"}};
    PrepareContext context;
    context.getenv = [&env](char const* name) -> std::optional<std::string> {
        auto const it = env.find(name);
        if (it == env.end())
            return std::nullopt;
        return it->second;
    };
    ProbeRequest request;
    request.targets.hosts = {"a.example", "b.example", "direct.example"};
    PreparedRequest const prepared = prepare(request, context);
    for (char const* host : {"a.example", "b.example"}) {
        INFO(host);
        ProbeOptions const o = prepared.options_for(prepared.target(host));
        REQUIRE(o.connection.proxy);
        CHECK(o.connection.proxy->display() == "socks5://127.0.0.1:1");
        CHECK(o.connection.proxy->environment_variable == "ALL_PROXY");
    }
    ProbeOptions const direct = prepared.options_for(prepared.target("direct.example"));
    CHECK_FALSE(direct.connection.proxy);
    CHECK(direct.connection.proxy_bypass_reason.find("NO_PROXY matches direct.example") == 0);

    // An exporter module does not take the proxy from the environment.
    request.proxy.from_environment = false;
    CHECK_FALSE(
        prepare(request, context).options_for(prepared.target("a.example")).connection.proxy);

    // A bad proxy URL is refused before any target, naming where it came from.
    env["ALL_PROXY"] = "ftp://p:21";
    request.proxy.from_environment = true;
    CHECK_THROWS_WITH(prepare(request, context),
                      Catch::StartsWith("ALL_PROXY: unknown proxy scheme \"ftp\""));
}

TEST_CASE("prepare(): secrets from their sources, never in a message", "[unit][request]") {
    PrepareContext context;
    context.getenv = [](char const* name) -> std::optional<std::string> {
        if (std::string(name) == "PW")
            return "s3cret-value";
        return std::nullopt;
    };
    context.read_stdin_line = [] { return std::string("from-stdin"); };
    ProbeRequest request;
    request.targets.hosts = {"a.example"};
    request.credentials.user = "alice";
    request.credentials.password = {SecretSource::Kind::env, "PW"};
    CHECK(prepare(request, context).request().options.credentials->password == "s3cret-value");
    request.credentials.password = {SecretSource::Kind::standard_input, ""};
    CHECK(prepare(request, context).request().options.credentials->password == "from-stdin");
    request.credentials.password = {SecretSource::Kind::env, "UNSET_PW"};
    CHECK_THROWS_WITH(prepare(request, context), "the password variable UNSET_PW is not set");
    request.credentials.password = {SecretSource::Kind::file, "/nonexistent/pw"};
    CHECK_THROWS_WITH(prepare(request, context), "cannot read the password file /nonexistent/pw");
}
