// The exporter's configuration file: the shipped sample parses, and every kind of bad file is
// refused with a message naming the file and the key.

#include "exporter/config.hpp"

#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

using namespace smtpprobe;
using namespace smtpprobe::exporter;

namespace {

std::string error_of(std::string const& yaml) {
    try {
        parse_config(yaml, "test.yml");
    } catch (ConfigError const& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("the shipped sample configuration parses", "[exporter][config]") {
    ::setenv("SMTPPROBE_MONITOR_PASSWORD", "pw-everything-1", 1);
    Config const c = load_config(test::source_path("samples/exporter/smtpprobe.yml"));
    ::unsetenv("SMTPPROBE_MONITOR_PASSWORD");
    REQUIRE(c.modules.size() == 4);
    CHECK(c.max_concurrent_probes == 8);
    Module const& s = c.modules.at("submission");
    CHECK(s.request.targets.tls == TlsMode::starttls);
    CHECK(s.request.options.total_timeout == std::chrono::seconds(20));
    CHECK(s.timeout_offset == std::chrono::milliseconds(500));
    CHECK(s.request.expect.auth == std::vector<std::string>{"LOGIN"});
    CHECK(s.request.expect.starttls);
    CHECK(s.request.expect.tls_min == "1.2");
    CHECK(s.request.expect.cert_crit_days == 14);
    CHECK(s.request.options.all_addresses);
    CHECK_FALSE(c.modules.at("default").request.options.all_addresses);
    Module const& login = c.modules.at("submission_login");
    REQUIRE(login.request.credentials.user);
    CHECK(login.request.credentials.password ==
          SecretSource{SecretSource::Kind::env, "SMTPPROBE_MONITOR_PASSWORD"});
    CHECK(login.request.options.mechanisms == std::vector<std::string>{"LOGIN", "PLAIN"});
    CHECK(c.modules.at("smtps").request.targets.tls == TlsMode::implicit);
    CHECK(c.allow_targets.rules().size() == 4);
}

TEST_CASE("the configuration shown on the status page masks the user", "[exporter][config]") {
    ::setenv("SMTPPROBE_TEST_PW", "pw-everything-1", 1);
    Config const c =
        parse_config("modules:\n  m:\n    credentials:\n      user: someone@example.com\n"
                     "      password_env: SMTPPROBE_TEST_PW\n",
                     "test.yml");
    ::unsetenv("SMTPPROBE_TEST_PW");
    std::string const shown = describe_config(c);
    test::record_output("exporter-config.txt", shown);
    CHECK(shown.find("someone") == std::string::npos);
    CHECK(shown.find("<hidden, 19 characters>") != std::string::npos);
    CHECK(shown.find("password_env: SMTPPROBE_TEST_PW") != std::string::npos);
    CHECK(shown.find("pw-everything-1") == std::string::npos);
}

TEST_CASE("durations, defaults and limits", "[exporter][config]") {
    Config const c = parse_config("max_concurrent_probes: 3\nmodules:\n  default:\n  quick:\n"
                                  "    timeout: 2500ms\n    connect_timeout: 1\n"
                                  "    command_timeout: 1m\n",
                                  "t");
    CHECK(c.max_concurrent_probes == 3);
    CHECK(c.max_queued_probes == 3); // defaults to max_concurrent_probes
    CHECK(c.modules.at("default").request.options.total_timeout == std::chrono::seconds(15));
    CHECK(c.modules.at("quick").request.options.total_timeout == std::chrono::milliseconds(2500));
    CHECK(c.modules.at("quick").request.options.connect_timeout == std::chrono::seconds(1));
    CHECK(c.modules.at("quick").request.options.command_timeout == std::chrono::minutes(1));
    CHECK(c.allow_targets.empty());
}

TEST_CASE("bad configurations are refused with the key that is wrong", "[exporter][config]") {
    struct Case {
        char const* yaml;
        char const* message;
    };
    Case const cases[] = {
        {"", "test.yml: empty file"},
        {"modules: [unclosed", "not valid YAML"},
        {"- a\n- b\n", "expected a mapping"},
        {"modules: {}\n", "modules: at least one module"},
        {"modulez:\n  default:\n", "modulez: unknown key"},
        {"modules:\n  m:\n    tls: sometimes\n", "modules.m.tls: expected auto, starttls"},
        {"modules:\n  m:\n    timout: 5s\n", "modules.m.timout: unknown key"},
        {"modules:\n  m:\n    timeout: soon\n", "modules.m.timeout: expected a duration"},
        {"modules:\n  m:\n    timeout: 0s\n", "modules.m.timeout: expected a duration"},
        {"modules:\n  m:\n    timeout: 2h\n", "modules.m.timeout: expected a duration"},
        {"modules:\n  m:\n    parallel: 40\n", "modules.m.parallel: must be between 1 and 16"},
        {"modules:\n  m:\n    mechanisms: [PLAIN, \"BAD MECH\"]\n", "is not a SASL mechanism"},
        {"modules:\n  m:\n    tls_min: 1.2\n", ""}, // a YAML float reads as the string "1.2"
        {"modules:\n  m:\n    tls_min: \"1.4\"\n",
         "modules.m.tls_min: TLS versions are 1.0, 1.1, 1.2 or 1.3"},
        {"modules:\n  m:\n    ca_file: /nonexistent/ca.pem\n", "cannot read /nonexistent/ca.pem"},
        {"modules:\n  m:\n    credentials:\n      user: u\n      password: hunter22\n",
         "modules.m.credentials.password: secrets are never written in the configuration"},
        {"modules:\n  m:\n    credentials:\n      user: u\n      token: abc\n",
         "credentials.token: secrets are never written"},
        {"modules:\n  m:\n    credentials:\n      user: u\n",
         "credentials need password_env, password_file"},
        {"modules:\n  m:\n    credentials:\n      password_env: X\n", "credentials need a user"},
        {"modules:\n  m:\n    credentials:\n      user: u\n      password_env: "
         "SMTPPROBE_SURELY_UNSET_VARIABLE\n",
         "the variable SMTPPROBE_SURELY_UNSET_VARIABLE is not set"},
        {"modules:\n  m:\n    credentials:\n      user: u\n      password_file: /nonexistent/pw\n",
         "cannot read /nonexistent/pw"},
        {"modules:\n  m:\n    cert_warn_days: 5\n    cert_crit_days: 10\n",
         "modules.m.cert_crit_days: must not exceed cert_warn_days"},
        {"modules:\n  m:\n    expect:\n      auth: LOGIN\n", "expected a list of SASL"},
        {"modules:\n  m:\n    expect:\n      tls: true\n", "modules.m.expect.tls: unknown key"},
        {"modules:\n  \"bad name\":\n", "module names are 1 to 64"},
        {"max_concurrent_probes: 0\nmodules:\n  m:\n", "max_concurrent_probes: expected a whole"},
        {"max_concurrent_probes: 40\nmax_queued_probes: 40\nmodules:\n  m:\n",
         "must not exceed 48"},
        {"allow_targets: [\"smtp.example.com\"]\nmodules:\n  m:\n", "expected HOST:PORTS"},
        {"allow_targets: [\"bad_host!:25\"]\nmodules:\n  m:\n", "the host must be a name"},
        {"allow_targets: [\"10.0.0.0/33:25\"]\nmodules:\n  m:\n", "prefix must be 0 to 32"},
        {"allow_targets: \"smtp.example.com:25\"\nmodules:\n  m:\n",
         "allow_targets: expected a list"},
        {"modules:\n  m:\n    insecure: maybe\n", "modules.m.insecure: expected true or false"},
        {"modules:\n  m:\n    all_addresses: all\n",
         "modules.m.all_addresses: expected true or false"},
        {"modules:\n  m:\n    ehlo_name: \"\"\n", "modules.m.ehlo_name: must be one word"},
        {"modules:\n  m:\n    proxy: socks5://u:hunter22@127.0.0.1:1080\n",
         "modules.m.proxy: the proxy URL contains a password"},
        {"modules:\n  m:\n    proxy: ftp://127.0.0.1:21\n",
         "modules.m.proxy: unknown proxy scheme \"ftp\""},
        {"modules:\n  m:\n    proxy_password_file: /etc/hostname\n",
         "modules.m.proxy_password_*: needs a proxy URL with a user"},
        {"modules:\n  m:\n    ehlo_name: \"a\\tb\"\n", "modules.m.ehlo_name: must be one word"},
        {"modules:\n  m:\n    cert_warn_days: 4000\n",
         "modules.m.cert_warn_days: must be between 0 and 3650 days"},
        {"modules:\n  m:\n    source: mail.example\n", "modules.m.source: --source takes"},
        {"modules:\n  m:\n    sni: a.example\n    no_sni: true\n",
         "modules.m.sni: excludes no_sni"},
        {"modules:\n  m:\n    expect:\n      warning: 5s\n      critical: 2s\n",
         "modules.m.expect.warning: must not exceed expect.critical"},
    };
    for (Case const& c : cases) {
        INFO(c.yaml);
        std::string const error = error_of(c.yaml);
        if (std::string(c.message).empty()) {
            CHECK(error.empty());
            continue;
        }
        CHECK(error.starts_with("test.yml: "));
        CHECK(error.find(c.message) != std::string::npos);
        CHECK(error.find("hunter22") == std::string::npos);
    }
}

TEST_CASE("a configuration file that cannot be read is an error naming it", "[exporter][config]") {
    CHECK_THROWS_WITH(load_config("/nonexistent/smtpprobe.yml"),
                      Catch::Contains("/nonexistent/smtpprobe.yml: cannot open"));
}
