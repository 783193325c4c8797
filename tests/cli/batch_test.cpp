// Many targets in one run (the built binary against in-process emulators on ephemeral
// ports): NDJSON validity, order independence, a dead target among live ones, a hostile slow
// one, SIGINT mid-batch, targets from a file, and nagios refusing several targets.

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

namespace {

std::string const binary = SMTPPROBE_BINARY;

std::string target(Emulated& e) {
    return "127.0.0.1:" + std::to_string(e.server().port());
}

std::string dead_target() {
    return "127.0.0.1:" + std::to_string(closed_loopback_port());
}

std::vector<Json> ndjson(std::string const& out) {
    std::vector<Json> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        INFO(line.substr(0, 200));
        REQUIRE_FALSE(line.empty());
        lines.push_back(Json::parse(line)); // throws (fails the test) on invalid JSON
    }
    return lines;
}

std::string key(Json const& report) {
    return report["target"]["host"].get<std::string>() + ":" +
           std::to_string(report["target"]["port"].get<int>());
}

/// What must not depend on the order: per mechanism, the recognition status and reply code.
std::map<std::string, std::string> matrix(Json const& report) {
    std::map<std::string, std::string> out;
    for (Json const& m : report["mechanisms"])
        out[m["name"]] = m["recognition"]["status"].get<std::string>() + " " +
                         (m["recognition"]["reply"].is_null()
                              ? std::string("-")
                              : std::to_string(m["recognition"]["reply"]["code"].get<int>()));
    return out;
}

} // namespace

TEST_CASE("four targets give four NDJSON lines: a dead one changes nothing for the others",
          "[cli][batch]") {
    Emulated acs = Emulated::sample("azure-acs");
    Emulated postfix = Emulated::sample("postfix-submission");
    Emulated plain = Emulated::sample("plaintext");
    std::string const dead = dead_target();
    std::vector<std::string> const targets = {target(acs), dead, target(postfix), target(plain)};
    CommandResult r = run_command(binary + " --format ndjson --timeout 20 " + targets[0] + " " +
                                  targets[1] + " " + targets[2] + " " + targets[3]);
    std::vector<Json> const lines = ndjson(r.out);
    REQUIRE(lines.size() == 4);
    std::map<std::string, Json> by_target;
    for (Json const& l : lines) {
        CHECK(l["schema_version"] == 2);
        by_target[key(l)] = l;
    }
    for (std::string const& t : targets)
        CHECK(by_target.count(t) == 1);
    CHECK_FALSE(by_target[dead]["session_established"].get<bool>());
    CHECK(by_target[dead]["exit_code"] == 2);
    CHECK(by_target[target(acs)]["session_established"].get<bool>());
    CHECK(by_target[target(plain)]["session_established"].get<bool>());
    // The ACS one sees what a single-target run sees.
    CommandResult alone = run_command(binary + " --format json --timeout 20 " + target(acs));
    CHECK(matrix(Json::parse(alone.out)) == matrix(by_target[target(acs)]));
    CHECK(r.exit_code == 2); // the worst over all targets: the dead one's "no session"
}

TEST_CASE("the results do not depend on the order of the targets or on --jobs", "[cli][batch]") {
    Emulated acs = Emulated::sample("azure-acs");
    Emulated lower = Emulated::sample("lowercase-auth");
    Emulated plain = Emulated::sample("plaintext");
    std::string const a = target(acs), b = target(lower), c = target(plain);
    CommandResult forward = run_command(binary + " -f ndjson --jobs 1 " + a + " " + b + " " + c);
    CommandResult backward = run_command(binary + " -f ndjson --jobs 3 " + c + " " + b + " " + a);
    std::map<std::string, std::map<std::string, std::string>> one, two;
    for (Json const& l : ndjson(forward.out))
        one[key(l)] = matrix(l);
    for (Json const& l : ndjson(backward.out))
        two[key(l)] = matrix(l);
    REQUIRE(one.size() == 3);
    CHECK(one == two);
    CHECK(forward.exit_code == backward.exit_code);
}

TEST_CASE("a hostile slow target does not hold up the others", "[cli][batch][hostile]") {
    Emulated slow(emulator::load_profile(source_path("tests/cli/slow-ehlo.json")));
    Emulated plain = Emulated::sample("plaintext");
    auto const start = std::chrono::steady_clock::now();
    CommandResult r = run_command(binary + " -f ndjson --jobs 2 --timeout 3 --command-timeout 2 " +
                                  target(slow) + " " + target(plain));
    double const seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<Json> const lines = ndjson(r.out);
    REQUIRE(lines.size() == 2);
    // Streamed as each finishes: the fast one first.
    CHECK(key(lines[0]) == target(plain));
    CHECK(lines[0]["session_established"].get<bool>());
    CHECK_FALSE(lines[1]["session_established"].get<bool>());
    CHECK(seconds < 10);
}

TEST_CASE("SIGINT mid-batch prints the finished reports and partial ones, exit 130",
          "[cli][batch][interrupt]") {
    Emulated slow(emulator::load_profile(source_path("tests/cli/slow-ehlo.json")));
    Emulated plain = Emulated::sample("plaintext");
    std::string const s = target(slow), p = target(plain);
    CommandResult r = run_command("sh -c '" + binary + " -f ndjson --jobs 2 --timeout 30 " + p +
                                  " " + s + " " + s + " " + s +
                                  " & P=$!; sleep 1.5; kill -INT $P; wait $P; echo exit=$? "
                                  ">&2'");
    CHECK(r.err.find("exit=130") != std::string::npos);
    std::vector<Json> const lines = ndjson(r.out);
    // The fast one finished; the two slow ones running were interrupted and printed; the
    // fourth never started.
    REQUIRE(lines.size() == 3);
    CHECK(key(lines[0]) == p);
    CHECK_FALSE(lines[0]["interrupted"].get<bool>());
    CHECK(lines[1]["interrupted"].get<bool>());
    CHECK(lines[2]["interrupted"].get<bool>());
    CHECK(r.err.find("1 target(s) not started") != std::string::npos);
}

TEST_CASE("targets come from a file or stdin, with comments: text ends with a summary",
          "[cli][batch]") {
    Emulated acs = Emulated::sample("azure-acs");
    Emulated plain = Emulated::sample("plaintext");
    std::string const list = "# pool members\n" + target(acs) + "  # the ACS-like one\n\n" +
                             target(plain) + "\nnot a target:99999\n";
    CommandResult r = run_command(binary + " --targets-file - --jobs 2", list);
    CHECK(r.out.find("Summary") != std::string::npos);
    CHECK(r.out.find(target(acs)) != std::string::npos);
    CHECK(r.out.find(target(plain)) != std::string::npos);
    CHECK(r.out.find("LOGIN") != std::string::npos);
    CHECK(r.err.find("targets file line 5") != std::string::npos);
    CHECK(r.exit_code == 64); // the bad line
}

TEST_CASE("nagios mode takes one target: several are a usage error (UNKNOWN)", "[cli][batch]") {
    CommandResult r = run_command(binary + " --format nagios a.test b.test");
    CHECK(r.exit_code == 3);
    CHECK(r.out == "SMTPPROBE UNKNOWN - --format: nagios checks one target (got 2)\n");
    CommandResult demo = run_command(binary + " --demo a.test b.test");
    CHECK(demo.exit_code == 64);
}

TEST_CASE("a batch: --mail-from and --rcpt reach every target, and each NDJSON line",
          "[cli][batch][envelope]") {
    Emulated acs = Emulated::sample("azure-acs");
    Emulated postfix = Emulated::sample("postfix-submission");
    CommandResult r =
        run_command(binary + " --format ndjson --timeout 20 " + target(acs) + " " +
                    target(postfix) + " --mail-from alice@example.test --rcpt x@elsewhere.example");
    std::vector<Json> const lines = ndjson(r.out);
    REQUIRE(lines.size() == 2);
    std::map<std::string, Json> by_target;
    for (Json const& l : lines)
        by_target[key(l)] = l;
    // Unauthenticated both: ACS refuses MAIL (5.7.57), Postfix refuses the relay recipient.
    Json const& a = by_target.at(target(acs))["envelope"];
    CHECK(a["mail_from"] == "alice@example.test");
    CHECK(a["steps"][0]["reply"]["code"] == 530);
    CHECK(a["steps"][0]["finding"] == "envelope.not_authenticated");
    Json const& p = by_target.at(target(postfix))["envelope"];
    CHECK(p["steps"][1]["reply"]["code"] == 554);
    CHECK(p["steps"][1]["finding"] == "envelope.relay_denied");
    CHECK(r.exit_code == 1);
}
