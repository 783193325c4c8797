// Options of the built binary that reach the report or are refused as usage errors: the TLS
// checks (--tls-versions, --cert-warn-days, --cert-crit-days) and the proxy and source options.

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

TEST_CASE("the command line: --tls-versions, --cert-warn-days and --cert-crit-days reach the "
          "report",
          "[cli][tls]") {
    std::string const base = std::string(SMTPPROBE_BINARY) + " --demo --profile " +
                             source_path("samples/servers/legacy-tls.json") +
                             " --mechanisms PLAIN --tls-versions -f json";
    CommandResult warned = run_command(base + " --cert-warn-days 400 --cert-crit-days 100");
    INFO(warned.err);
    CHECK(warned.exit_code == exit_code::ok);
    Json const doc = Json::parse(warned.out);
    CHECK(doc["certificate_thresholds"]["warn_days"] == 400);
    REQUIRE(doc["server"]["tls_versions"].size() == 4);
    CHECK(doc["server"]["tls_versions"][3]["accepted"] == false);
    CHECK(doc["findings"].dump().find("tls.cert_expiring") != std::string::npos);

    CommandResult critical = run_command(base + " --cert-warn-days 500 --cert-crit-days 400");
    CHECK(critical.exit_code == exit_code::problems);

    CommandResult help = run_command(std::string(SMTPPROBE_BINARY) + " --help");
    CHECK(help.out.find("--tls-versions") != std::string::npos);
}

TEST_CASE("proxy and source options: usage errors name what is wrong (exit 64)", "[cli][proxy]") {
    std::string const binary = SMTPPROBE_BINARY;
    struct Case {
        std::string args;
        std::string message;
    };
    std::vector<Case> const cases{
        {"--demo --source 127.0.0.2:2999",
         "--source: ADDR:PORT needs --parallel 1 (connections at once would all need that one "
         "local port)"},
        {"--demo --source mail.example", "--source takes a local IP address (optionally :PORT)"},
        {"--demo --proxy socks5://u:pw@127.0.0.1:1",
         "--proxy: the proxy URL contains a password; command-line arguments are visible"},
        {"--demo --proxy ftp://127.0.0.1:1", "--proxy: unknown proxy scheme \"ftp\""},
        {"--demo --proxy socks5://u@127.0.0.1:1",
         "the proxy user u needs a password: --proxy-password-env or --proxy-password-file"},
        {"--demo --proxy-password-env HOME", "need a proxy (--proxy or ALL_PROXY)"},
        {"--demo --proxy socks5://127.0.0.1:1 --proxy-password-env HOME",
         "a proxy password needs a user in the proxy URL"},
    };
    for (Case const& c : cases) {
        INFO(c.args);
        CommandResult r = run_command("env -u ALL_PROXY -u all_proxy " + binary + " " + c.args);
        CHECK(r.exit_code == exit_code::usage);
        CHECK(r.err.find(c.message) != std::string::npos);
    }
    CommandResult env = run_command("env ALL_PROXY=gopher://x " + binary + " --demo");
    CHECK(env.exit_code == exit_code::usage);
    CHECK(env.err.find("ALL_PROXY: unknown proxy scheme \"gopher\"") != std::string::npos);
}
