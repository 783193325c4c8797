// The built binary, run as a user would: exit codes, --demo, JSON, explain, and no secret in
// any output stream.

#include "smtp/base64.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>
#include <unistd.h>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {
std::string const binary = SMTPPROBE_BINARY;
}

TEST_CASE("the demo prints the seed matrix and exits 0", "[cli][demo]") {
    CommandResult r = run_command(binary + " --demo");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Only LOGIN is accepted, and only after STARTTLS; clients that send AUTH "
                     "PLAIN get 504 5.7.4") != std::string::npos);
    CHECK(r.out.find("334 \"Username:\"") != std::string::npos);
    CHECK(r.out.find("\033[") == std::string::npos); // not a terminal: no colour
}

TEST_CASE("the demo works with every --format, NDJSON included", "[cli][demo]") {
    // NDJSON once printed nothing: it meant several targets, and that path never started the
    // emulator (issue 17). Every format now goes through prepare() and run_one().
    CommandResult ndjson = run_command(binary + " --demo --format ndjson");
    CHECK(ndjson.exit_code == 0);
    REQUIRE(std::count(ndjson.out.begin(), ndjson.out.end(), '\n') == 1);
    nlohmann::json const line = nlohmann::json::parse(ndjson.out);
    CHECK(line["session_established"] == true);
    CHECK(line["server"]["auth_mechanisms"]["after_tls"] == nlohmann::json::array({"LOGIN"}));
    CommandResult json = run_command(binary + " --demo --format json");
    CHECK(json.exit_code == 0);
    CHECK(nlohmann::json::parse(json.out)["session_established"] == true);
    CommandResult nagios = run_command(binary + " --demo --format nagios");
    CHECK(nagios.exit_code == 0);
    CHECK(nagios.out.starts_with("SMTPPROBE OK - SMTP session with TLS"));
    CommandResult text = run_command(binary + " --demo --format text");
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("Only LOGIN is accepted") != std::string::npos);
}

TEST_CASE("several targets and a dead proxy: every report names it, exit 2", "[cli][proxy]") {
    // The batch once connected directly and reported the servers as reached (issue 17).
    Emulated a = Emulated::sample("azure-acs");
    std::string const dead = "socks5://127.0.0.1:" + std::to_string(closed_loopback_port());
    std::string const targets = " 127.0.0.1:" + std::to_string(a.server().port()) +
                                " 127.0.0.1:" + std::to_string(a.server().port());
    for (std::string const& how :
         {"env -u ALL_PROXY -u all_proxy " + binary + " --proxy " + dead + " --format ndjson" +
              targets,
          "env ALL_PROXY=" + dead + " " + binary + " --format ndjson" + targets}) {
        INFO(how);
        CommandResult r = run_command(how);
        CHECK(r.exit_code == 2);
        std::istringstream lines(r.out);
        std::string line;
        int reports = 0;
        while (std::getline(lines, line)) {
            nlohmann::json const report = nlohmann::json::parse(line);
            CHECK(report["session_established"] == false);
            CHECK(report["fatal_error"]["detail"].get<std::string>().starts_with("proxy " + dead));
            ++reports;
        }
        CHECK(reports == 2);
    }
    CHECK(a.server().connections_accepted() == 0);
}

TEST_CASE("an empty or spaced EHLO name is refused as by an exporter module", "[cli][usage]") {
    for (char const* name : {"''", "'a b'", "\"$(printf 'a\\tb')\""}) {
        INFO(name);
        CommandResult r = run_command(binary + " --ehlo-name " + name + " example.test");
        CHECK(r.exit_code == 64);
        CHECK(r.err.find("smtpprobe: error: --ehlo-name: must be one word") == 0);
    }
}

TEST_CASE("the demo as JSON gives a matrix a script can read", "[cli][demo][json]") {
    CommandResult r = run_command(binary + " --demo --format json");
    REQUIRE(r.exit_code == 0);
    nlohmann::json doc = nlohmann::json::parse(r.out);
    CHECK(doc["schema_version"] == 2);
    CHECK(doc["server"]["auth_mechanisms"]["before_tls"].empty());
    CHECK(doc["server"]["auth_mechanisms"]["after_tls"] == nlohmann::json::array({"LOGIN"}));
    std::map<std::string, nlohmann::json> rows;
    for (nlohmann::json const& m : doc["mechanisms"])
        rows[m["name"]] = m;
    CHECK(rows["LOGIN"]["advertised_after_tls"] == true);
    CHECK(rows["LOGIN"]["advertised_before_tls"] == false);
    CHECK(rows["LOGIN"]["recognition"]["status"] == "recognised");
    CHECK(rows["LOGIN"]["recognition"]["reply"]["code"] == 334);
    for (char const* name : {"PLAIN", "CRAM-MD5", "XOAUTH2"}) {
        nlohmann::json const& reply = rows[name]["recognition"]["reply"];
        CHECK(rows[name]["recognition"]["status"] == "not_supported");
        CHECK(reply["code"] == 504);
        CHECK(reply["enhanced"] == "5.7.4");
        CHECK(reply["text"] == "Unrecognized authentication type");
    }
    CHECK(doc["server"]["auth_before_tls"]["reply"]["code"] == 530);
    CHECK(doc["exit_code"] == 0);
}

TEST_CASE("credentials from the environment authenticate and never appear in any output",
          "[cli][auth][redact]") {
    std::string const user =
        "acs-demo.00000000-0000-0000-0000-000000000001.00000000-0000-0000-0000-000000000002";
    std::string const password = "demo-secret-never-printed";
    CommandResult r =
        run_command("env SMTP_PASSWORD=" + password + " " + binary + " --demo --user " + user +
                    " --password-env SMTP_PASSWORD --format json --transcript");
    CHECK(r.exit_code == 0);
    nlohmann::json doc = nlohmann::json::parse(r.out);
    for (nlohmann::json const& m : doc["mechanisms"])
        if (m["name"] == "LOGIN")
            CHECK(m["authentication"]["status"] == "accepted");
    for (std::string const& secret : {password, user}) {
        for (std::string const& form : {secret, smtp::base64_encode(secret),
                                        smtp::base64_encode(std::string(1, '\0') + secret)}) {
            CHECK(r.out.find(form) == std::string::npos);
            CHECK(r.err.find(form) == std::string::npos);
        }
    }
    CHECK(r.err.find(" ~> <redacted") != std::string::npos); // the transcript shows a marker
}

TEST_CASE("a wrong password read from stdin exits 1", "[cli][auth]") {
    CommandResult r =
        run_command(binary + " --demo --user someone --password-stdin", "not-the-password\n");
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("rejected") != std::string::npos);
    CHECK(r.out.find("not-the-password") == std::string::npos);
}

TEST_CASE("usage errors exit 64 with one clear message", "[cli][usage]") {
    for (std::string const& args :
         {std::string("--password secret example.test"), std::string("--format xml --demo"),
          std::string("--tls sometimes example.test"), std::string(""),
          std::string("example.test:99999"), std::string("--parallel 0 example.test"),
          std::string("--password-env X example.test"), std::string("--demo example.test"),
          std::string("--timeout -1 example.test"), std::string("--ca-file /nonexistent --demo"),
          std::string("--mechanisms 'PLAIN LOGIN?' --demo"), std::string("explain nonsense"),
          std::string("--all-addresses --proxy socks5h://127.0.0.1:1 example.test")}) {
        INFO(args);
        CommandResult r = run_command(binary + " " + args);
        CHECK(r.exit_code == 64);
        CHECK(r.err.find("smtpprobe: error: ") == 0);
        CHECK(r.out.empty());
        CHECK(r.err.find("secret") == std::string::npos);
    }
}

TEST_CASE("help and version exit 0", "[cli]") {
    CommandResult help = run_command(binary + " --help");
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("--password-env") != std::string::npos);
    CommandResult version = run_command(binary + " --version");
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("smtpprobe " SMTPPROBE_VERSION "\ngit revision: ", 0) == 0);
    // The OpenSSL the binary runs with, as the library reports it.
    CHECK(version.out.find("\nOpenSSL: " + std::string(OpenSSL_version(OPENSSL_VERSION))) !=
          std::string::npos);
    CHECK(version.out.find("\nbuild type: ") != std::string::npos);
}

TEST_CASE("explain prints meanings with their sources", "[cli][explain]") {
    CommandResult r = run_command(binary + " explain 504 5.7.4");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("RFC") != std::string::npos);
    CHECK(r.out.find("5.7.4") != std::string::npos);
    CommandResult vendor = run_command(binary + " explain 5.7.139");
    CHECK(vendor.exit_code == 0);
    CHECK(vendor.out.find("Microsoft") != std::string::npos);
}

TEST_CASE("nothing listening exits 2 and still prints a report", "[cli][connect]") {
    CommandResult r = run_command(binary + " 127.0.0.1:1 --connect-timeout 2");
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("No SMTP session could be established") != std::string::npos);
}

TEST_CASE("SIGINT during a probe prints the partial report and exits 130", "[cli][interrupt]") {
    // The emulator (in-process, on an ephemeral port) delays every EHLO by 30 s; the probe is
    // interrupted after 0.7 s.
    Emulated slow(emulator::load_profile(source_path("tests/cli/slow-ehlo.json")));
    std::string const port = std::to_string(slow.server().port());
    CommandResult r = run_command("sh -c '" + binary + " 127.0.0.1:" + port +
                                  " --tls none --timeout 30 & P=$!; sleep 0.7; kill -INT $P; "
                                  "wait $P; echo exit=$?'");
    CHECK(r.out.find("exit=130") != std::string::npos);
    CHECK(r.out.find("smtpprobe 0.1.0") != std::string::npos);
}

TEST_CASE("nagios mode: a missing mechanism is CRITICAL with the server's reply", "[cli][nagios]") {
    CommandResult r = run_command(binary + " --demo --format nagios --expect-auth PLAIN");
    CHECK(r.exit_code == 2);
    std::string const first = r.out.substr(0, r.out.find('\n'));
    CHECK(first.rfind("SMTPPROBE CRITICAL - ", 0) == 0);
    CHECK(first.find("PLAIN") != std::string::npos);
    CHECK(first.find("504 5.7.4") != std::string::npos);
    // Plugin guidelines §2.6: 'label'=value[UOM];[warn];[crit];[min];[max], space-separated.
    std::string const perf = first.substr(first.find(" | ") + 3);
    std::regex const item(
        R"(^'?[A-Za-z_][A-Za-z0-9_ ]*'?=-?[0-9.]+(s|ms|us|%|B|KB|MB|TB|c)?(;[0-9.]*){0,4}$)");
    std::istringstream words(perf);
    std::string word;
    int items = 0;
    while (words >> word) {
        INFO(word);
        CHECK(std::regex_match(word, item));
        ++items;
    }
    CHECK(items >= 7);
}

TEST_CASE("nagios mode: an offered mechanism is OK: bad arguments are UNKNOWN", "[cli][nagios]") {
    CommandResult ok = run_command(binary + " --demo --format nagios --expect-auth LOGIN");
    CHECK(ok.exit_code == 0);
    CHECK(ok.out.rfind("SMTPPROBE OK - ", 0) == 0);
    CommandResult bad = run_command(binary + " --format nagios --expect-tls-min 2.0 x.test");
    CHECK(bad.exit_code == 3);
    CHECK(bad.out.rfind("SMTPPROBE UNKNOWN - ", 0) == 0);
    CommandResult slow = run_command(binary + " --demo --format nagios --critical 0.000001");
    CHECK(slow.exit_code == 2);
    CHECK(slow.out.find("total=") != std::string::npos);
}

TEST_CASE("expectations appear as checks in JSON and make text/JSON exit 1 when they fail",
          "[cli][checks]") {
    CommandResult r = run_command(binary + " --demo --format json --expect-auth PLAIN,LOGIN "
                                           "--expect-starttls --expect-tls-min 1.2");
    CHECK(r.exit_code == 1);
    nlohmann::json doc = nlohmann::json::parse(r.out);
    std::map<std::string, std::string> status;
    for (nlohmann::json const& c : doc["checks"])
        status[c["id"]] = c["status"];
    CHECK(status["auth.PLAIN"] == "CRITICAL");
    CHECK(status["auth.LOGIN"] == "OK");
    CHECK(status["starttls"] == "OK");
    CHECK(status["tls_min"] == "OK");
}

TEST_CASE("the transcript shows the whole session and no secret: a bundle writes four files",
          "[cli][transcript]") {
    std::string const dir = "/tmp/smtpprobe-bundle-test-" + std::to_string(::getpid());
    CommandResult r = run_command(
        "env SMTP_PASSWORD=demo-secret-never-printed " + binary +
        " --demo --parallel 1 --user acs-demo.00000000-0000-0000-0000-000000000001."
        "00000000-0000-0000-0000-000000000002 --password-env SMTP_PASSWORD --transcript --bundle " +
        dir);
    CHECK(r.exit_code == 0);
    for (char const* line : {" -> EHLO", " -> STARTTLS", "=== TLS started", " ~> AUTH LOGIN",
                             "<~  334 VXNlcm5hbWU6", " ~> <redacted: ", "<~  235 2.7.0"})
        CHECK(r.err.find(line) != std::string::npos);
    for (char const* file : {"/report.txt", "/report.json", "/report.html", "/transcript.txt"}) {
        std::ifstream in(dir + file);
        std::stringstream content;
        content << in.rdbuf();
        INFO(file);
        CHECK(content.str().size() > 100);
        CHECK(content.str().find("demo-secret-never-printed") == std::string::npos);
        CHECK(content.str().find(smtp::base64_encode("demo-secret-never-printed")) ==
              std::string::npos);
        record_output(std::string("bundle") + file, content.str());
        if (std::string_view(file) == "/report.html") {
            CHECK(content.str().starts_with("<!DOCTYPE html>"));
            CHECK(content.str().find("Content-Security-Policy") != std::string::npos);
        }
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("nagios mode: --expect-tls-min also judges the versions --tls-versions found",
          "[cli][nagios][tls]") {
    CommandResult r =
        run_command(binary + " --demo --profile " + source_path("samples/servers/legacy-tls.json") +
                    " --tls-versions --format nagios --expect-tls-min 1.2");
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("also accepts TLS 1.0 and TLS 1.1") != std::string::npos);
}

TEST_CASE("the demo takes a built-in --profile by name or a file", "[cli][demo]") {
    // From a directory without samples/: the profile is built in.
    CommandResult r = run_command("sh -c 'cd / && exec " + binary +
                                  " --demo --profile exchange-legacy --format json'");
    CHECK(r.exit_code == 0);
    nlohmann::json const report = nlohmann::json::parse(r.out);
    CHECK(report["server"]["banner"]["text"].get<std::string>().find("exch.example.test") == 0);
    CHECK(report["ntlm"].is_object()); // the NTLM information probe ran against it
    CommandResult bad = run_command(binary + " --demo --profile no-such-profile");
    CHECK(bad.exit_code == 64);
    CHECK(bad.err.find("no profile named \"no-such-profile\"") != std::string::npos);
    CHECK(bad.err.find("a file path works too") != std::string::npos);
}

namespace {

/// Masks what changes from run to run: ports, times, dates, fingerprints, durations, and the
/// line breaks that the widths of those move.
std::string mask_volatile(std::string text) {
    struct Rule {
        char const* pattern;
        char const* replacement;
    };
    static Rule const rules[] = {
        {R"(\[\s*\d+ ms\])", "[T ms]"},
        {R"(\d+(\.\d+)? ms)", "T ms"},
        {R"(port \d+)", "port P"},
        {R"(127\.0\.0\.1:\d+)", "127.0.0.1:P"},
        {R"("port": \d+)", "\"port\": P"},
        {R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", "DATE"},
        {R"(([0-9A-F]{2}:){31}[0-9A-F]{2})", "FINGERPRINT"},
        {R"(=\d+\.\d+s)", "=Ts"},
        {R"(": \d+\.\d+)", "\": T"},
    };
    for (Rule const& rule : rules)
        text = std::regex_replace(text, std::regex(rule.pattern), rule.replacement);
    // A time with one more digit moves where the text report wraps its Timing paragraph.
    return std::regex_replace(text, std::regex(R"(\s+)"), " ");
}

std::string read_file(std::string const& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("the sample reports in samples/reports are what the tool prints today",
          "[cli][samples]") {
    // If this fails after an intended change of output: scripts/regen-samples.sh, then review.
    std::string const dir = source_path("samples/reports/");
    CommandResult text = run_command(binary + " --demo --parallel 1 --color never");
    CHECK(mask_volatile(text.out) == mask_volatile(read_file(dir + "azure-acs.txt")));
    CommandResult json = run_command(binary + " --demo --parallel 1 --format json");
    CHECK(mask_volatile(json.out) == mask_volatile(read_file(dir + "azure-acs.json")));
    CommandResult nagios =
        run_command(binary + " --demo --parallel 1 --format nagios --expect-auth PLAIN");
    CHECK(mask_volatile(nagios.out) == mask_volatile(read_file(dir + "azure-acs-nagios.txt")));
    std::string const transcript = "/tmp/smtpprobe-sample-" + std::to_string(::getpid());
    CommandResult login = run_command(
        "env SMTP_PASSWORD=demo-secret-never-printed " + binary +
        " --demo --parallel 1 --user acs-demo.00000000-0000-0000-0000-000000000001."
        "00000000-0000-0000-0000-000000000002 --password-env SMTP_PASSWORD --color never "
        "--transcript-file " +
        transcript);
    CHECK(mask_volatile(login.out) == mask_volatile(read_file(dir + "azure-acs-login.txt")));
    CHECK(mask_volatile(read_file(transcript)) ==
          mask_volatile(read_file(dir + "azure-acs-login-transcript.txt")));
    std::filesystem::remove(transcript);
    CommandResult postfix = run_command(binary + " --demo --parallel 1 --color never --profile " +
                                        source_path("samples/servers/postfix-submission.json"));
    CHECK(mask_volatile(postfix.out) == mask_volatile(read_file(dir + "postfix-submission.txt")));
}

TEST_CASE("on a terminal the password is prompted for without echo", "[cli][auth][tty]") {
    // script(1) gives the binary a pseudo-terminal; the password is typed after the prompt.
    CommandResult r = run_command(
        "sh -c '(sleep 1; echo demo-secret-never-printed) | script -qec \"" + binary +
        " --demo --user acs-demo.00000000-0000-0000-0000-000000000001."
        "00000000-0000-0000-0000-000000000002 --format nagios --expect-auth LOGIN\" /dev/null'");
    CHECK(r.out.find("Password (not echoed):") != std::string::npos);
    CHECK(r.out.find("LOGIN authenticates") != std::string::npos);
    CHECK(r.out.find("demo-secret-never-printed") == std::string::npos);
    CHECK(r.out.find("acs-demo") == std::string::npos);
}

TEST_CASE("emulate: several profiles on consecutive ports, one certificate kind for all",
          "[cli][emulate]") {
    // Four consecutive free ports: plaintext on the first two, implicit-tls on the other two,
    // all with expired certificates. The probes start once the emulator says it listens.
    unsigned const base = free_loopback_ports(4);
    auto port = [&](unsigned k) { return std::to_string(base + k); };
    std::string const dir = "/tmp/smtpprobe-emulate-test-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    CommandResult r = run_command(
        "sh -c '" + binary + " emulate --profile " + source_path("samples/servers/plaintext.json") +
        " --profile " + source_path("samples/servers/implicit-tls.json") +
        " --count 2 --listen 127.0.0.1:" + port(0) + " --certificate expired --ca-out " + dir +
        "/ca.pem 2>" + dir + "/emulate.log & E=$!; i=0; until grep -q Ctrl-C " + dir +
        "/emulate.log || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done; " + binary +
        " 127.0.0.1:" + port(1) + " --tls none --format json >" + dir + "/plain.json; " + binary +
        " 127.0.0.1:" + port(3) + " --tls implicit --ca-file " + dir + "/ca.pem --format json >" +
        dir + "/implicit.json; kill -TERM $E; wait $E; echo emulate=$?'");
    std::ifstream log(dir + "/emulate.log");
    std::string const text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    CHECK(r.out.find("emulate=0") != std::string::npos);
    CHECK(text.find("emulating plaintext on 127.0.0.1:" + port(0) + " to " + port(1) +
                    " (2 ports)\n") != std::string::npos);
    CHECK(text.find("emulating implicit-tls on 127.0.0.1:" + port(2) + " to " + port(3) +
                    " (2 ports); CA certificate in " + dir + "/ca.pem; Ctrl-C stops") !=
          std::string::npos);
    std::ifstream plain(dir + "/plain.json");
    nlohmann::json const plain_doc = nlohmann::json::parse(plain);
    CHECK(
        plain_doc["server"]["banner"]["text"].get<std::string>().starts_with("plain.example.test"));
    std::ifstream implicit(dir + "/implicit.json");
    nlohmann::json const implicit_doc = nlohmann::json::parse(implicit);
    CHECK(implicit_doc["server"]["tls"]["verify_code"] == 10); // certificate has expired
    std::filesystem::remove_all(dir);
}

TEST_CASE("emulate: bad --count, --certificate and --max-connections are usage errors",
          "[cli][emulate]") {
    std::string const profile = " --profile " + source_path("samples/servers/plaintext.json");
    for (char const* bad :
         {" --count 0", " --count 1025", " --certificate stale", " --max-connections 0"}) {
        INFO(bad);
        CommandResult r = run_command(binary + " emulate" + profile + bad);
        CHECK(r.exit_code == 64);
    }
}

TEST_CASE("the demo with --mail-from and credentials: ACS's sender refusal, named, with the fix",
          "[cli][demo][envelope]") {
    std::string const user =
        "acs-demo.00000000-0000-0000-0000-000000000001.00000000-0000-0000-0000-000000000002";
    CommandResult r = run_command(
        "env SMTPPROBE_DEMO_PW=demo-secret-never-printed " + binary + " --demo --user " + user +
        " --password-env SMTPPROBE_DEMO_PW"
        " --mail-from someone@not-connected.example --rcpt x@example.org");
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("\nEnvelope (connection ") != std::string::npos);
    CHECK(r.out.find("550 5.1.7 The specified sender domain has not been linked.") !=
          std::string::npos);
    CHECK(r.out.find("Azure Communication Services refuses this sender") != std::string::npos);
    CHECK(r.out.find("fix: Connect the domain to the resource") != std::string::npos);
    CHECK(r.out.find("The sender <someone@not-connected.example> was refused (550 5.1.7)") !=
          std::string::npos);
    CHECK(r.out.find("demo-secret-never-printed") == std::string::npos);
    CHECK(r.out.find("RCPT TO") == std::string::npos); // MAIL was refused: no RCPT sent
}
