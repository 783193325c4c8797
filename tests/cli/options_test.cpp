// Options of the built binary that reach the report or are refused as usage errors: the TLS
// checks (--tls-versions, --cert-warn-days, --cert-crit-days) and the proxy and source options.

#include "support/client_certificate.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
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

namespace {

/// Every object of an NDJSON or JSON output whose EXTERNAL row authenticated, and whose TLS
/// says the server asked for the certificate and got `subject`.
int external_accepted_with(std::string const& out, std::string const& subject) {
    int count = 0;
    std::vector<Json> docs;
    if (Json const whole = Json::parse(out, nullptr, false); !whole.is_discarded()) {
        docs.push_back(whole); // --format json: one document over many lines
    } else {
        std::istringstream lines(out); // NDJSON: one a line
        for (std::string line; std::getline(lines, line);)
            if (!line.empty() && line.front() == '{')
                docs.push_back(Json::parse(line));
    }
    for (Json const& doc : docs) {
        Json const& tls = doc["server"]["tls"];
        bool accepted = false;
        for (Json const& m : doc["mechanisms"])
            if (m["name"] == "EXTERNAL")
                accepted = m["authentication"]["status"] == "accepted";
        if (accepted && tls["client_certificate_requested"] == true &&
            tls["client_certificate"]["subject"] == subject)
            ++count;
    }
    return count;
}

} // namespace

TEST_CASE("the options --cert/--key reach the single target, the batch (NDJSON) and --demo: the "
          "passphrase comes from a variable and shows nowhere",
          "[cli][external]") {
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    ClientFiles files(*server.server().client_pki());
    std::string const ca = files.write("server-ca.pem", server.server().ca_pem());
    std::string const target = "127.0.0.1:" + std::to_string(server.server().port());
    std::string const subject = "CN=smtpprobe emulator client,O=smtpprobe emulator";
    std::string const common = " --tls starttls --ca-file " + ca + " --mechanisms EXTERNAL";
    std::string const binary = SMTPPROBE_BINARY;

    CommandResult single = run_command(binary + " " + target + common + " --cert " + files.cert +
                                       " --key " + files.key + " -f json");
    INFO(single.err);
    CHECK(single.exit_code == exit_code::ok);
    CHECK(external_accepted_with(single.out, subject) == 1);

    CommandResult batch = run_command(binary + " " + target + " " + target + common + " --cert " +
                                      files.cert + " --key " + files.key + " -f ndjson");
    CHECK(external_accepted_with(batch.out, subject) == 2);

    CommandResult encrypted = run_command(
        std::string("env SMTPPROBE_TEST_KEY_PASSPHRASE=") + client_key_passphrase + " " + binary +
        " " + target + common + " --cert " + files.cert + " --key " + files.encrypted_key +
        " --key-passphrase-env SMTPPROBE_TEST_KEY_PASSPHRASE -f json --transcript");
    CHECK(external_accepted_with(encrypted.out, subject) == 1);
    CHECK((encrypted.out + encrypted.err).find(client_key_passphrase) == std::string::npos);

    // --demo: its own emulator, whose client CA this certificate is not from: offered, and
    // EXTERNAL refused.
    std::string const profile =
        files.write("client-certificate.json", client_certificate_profile().dump());
    CommandResult demo = run_command(binary + " --demo --profile " + profile + " --cert " +
                                     files.cert + " --key " + files.key + " -f json");
    Json const doc = Json::parse(demo.out);
    CHECK(doc["server"]["tls"]["client_certificate"]["subject"] == subject);
    CHECK(doc["server"]["tls"]["client_certificate_requested"] == true);
    for (Json const& m : doc["mechanisms"])
        if (m["name"] == "EXTERNAL")
            CHECK(m["authentication"]["reply"]["code"] == 535);

    // Without a certificate: the row cannot be tried, and the text says why.
    CommandResult none = run_command(binary + " " + target + common);
    CHECK(none.out.find("EXTERNAL: cannot try (no client certificate: --cert/--key)") ==
          std::string::npos); // no credentials at all: recognition only
    CHECK(none.out.find("requested by the server; none offered (--cert/--key)") !=
          std::string::npos);
}

TEST_CASE("a client certificate or key that does not load is a usage error (exit 64) that "
          "says which and why",
          "[cli][external]") {
    ClientFiles mine(stranger_pki());
    ClientFiles other(stranger_pki());
    std::string const text = mine.write("notes.txt", "not a certificate\n");
    std::string const run =
        std::string("env SMTPPROBE_TEST_KEY_PASSPHRASE=wrong-one ") + SMTPPROBE_BINARY + " --demo ";
    struct Case {
        std::string args;
        std::string message;
    };
    std::vector<Case> const cases{
        {"--cert /nonexistent/client.pem --key " + mine.key,
         "cannot read the client certificate file /nonexistent/client.pem"},
        {"--cert " + text + " --key " + mine.key, "holds no PEM certificate"},
        {"--cert " + mine.cert + " --key " + text, "holds no PEM private key"},
        {"--cert " + mine.cert + " --key " + other.key,
         "does not belong to the certificate " + mine.cert},
        {"--cert " + mine.cert + " --key " + mine.encrypted_key,
         "is encrypted and no passphrase was given"},
        {"--cert " + mine.cert + " --key " + mine.encrypted_key +
             " --key-passphrase-env SMTPPROBE_TEST_KEY_PASSPHRASE",
         "the passphrase does not decrypt the client key " + mine.encrypted_key},
        {"--cert " + mine.cert + " --key-passphrase " + client_key_passphrase,
         "unrecognised option '--key-passphrase'"},
        {"--key " + mine.key, "--key: needs --cert"},
    };
    for (Case const& c : cases) {
        INFO(c.args);
        CommandResult r = run_command(run + c.args);
        CHECK(r.exit_code == exit_code::usage);
        CHECK(r.err.find(c.message) != std::string::npos);
        CHECK(r.out.empty());
        INFO(r.err);
    }
}
