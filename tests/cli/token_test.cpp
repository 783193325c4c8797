// The OAuth token through the binary (issue 19): the offline preflight in every front end
// (one target, a batch in NDJSON, --demo, a target that does not answer) and
// --oauth-token-cmd with real commands: one that works, one that fails, one that prints
// nothing, one that is killed, one that hangs. The token never appears in any output.

#include "smtp/base64.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

namespace {

std::string const binary = SMTPPROBE_BINARY;
std::string const sender = "sender@contoso.test";

std::string tokens(std::string const& name) {
    return source_path("samples/tokens/" + name);
}

std::string first_line(std::string const& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

/// implicit-tls.json, whose XOAUTH2 account is sender@contoso.test with the valid delegated
/// test token.
Json token_profile() {
    Json p = Json::parse(std::ifstream(source_path("samples/servers/implicit-tls.json")));
    p["name"] = "token-test";
    p["auth"]["accounts"] =
        Json::array({Json{{"user", sender}, {"token", first_line(tokens("m365-delegated.jwt"))}}});
    return p;
}

/// A scratch directory: the emulator's CA and a profile file.
struct Files {
    std::filesystem::path dir;
    Files() {
        char name[] = "/tmp/smtpprobe-token-test-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        dir = name;
    }
    ~Files() { std::filesystem::remove_all(dir); }
    std::string write(std::string const& file, std::string const& text) const {
        std::string const path = (dir / file).string();
        std::ofstream(path) << text;
        return path;
    }
};

struct TokenServer {
    Emulated server = Emulated::inline_profile(token_profile());
    Files files;
    std::string ca = files.write("ca.pem", server.server().ca_pem());
    std::string address = "127.0.0.1:" + std::to_string(server.server().port());
    /// The options that reach it as a user would, with --user.
    std::string options() const {
        return " " + address + " --tls implicit --ca-file " + ca + " --user " + sender;
    }
};

Json const& row(Json const& doc, std::string const& name) {
    for (Json const& m : doc["mechanisms"])
        if (m["name"] == name)
            return m;
    FAIL("no row " << name);
    throw;
}

bool has_finding(Json const& doc, std::string const& id) {
    for (Json const& f : doc["findings"])
        if (f["id"] == id)
            return true;
    return false;
}

/// Every form of `token` a leak could take: itself, its base64, the XOAUTH2 response.
void check_nowhere(std::string const& token, CommandResult const& r) {
    for (std::string const& form :
         {token, smtp::base64_encode(token),
          smtp::base64_encode("user=" + sender + "\x01" + "auth=Bearer " + token + "\x01\x01"),
          token.substr(token.size() - 40)}) {
        CHECK(r.out.find(form) == std::string::npos);
        CHECK(r.err.find(form) == std::string::npos);
    }
}

} // namespace

TEST_CASE("token preflight: one target, JSON and text: the claims, the finding, before any "
          "exchange",
          "[cli][token]") {
    TokenServer t;
    CommandResult json = run_command(binary + t.options() + " --oauth-token-file " +
                                     tokens("m365-graph.jwt") + " --mechanisms XOAUTH2 -f json");
    INFO(json.err);
    CHECK(json.exit_code == 1); // an error finding
    Json const doc = Json::parse(json.out);
    CHECK(doc["token"]["kind"] == "jwt");
    CHECK(doc["token"]["audience"] == "graph");
    CHECK(doc["token"]["claims"]["aud"] == Json::array({"https://graph.microsoft.com"}));
    CHECK(has_finding(doc, "oauth.wrong_audience"));
    CHECK(row(doc, "XOAUTH2")["authentication"]["status"] == "rejected");

    CommandResult text = run_command(binary + t.options() + " --oauth-token-file " +
                                     tokens("m365-graph.jwt") + " --mechanisms XOAUTH2");
    CHECK(text.out.find("Token\n  Kind         JWT (RS256, ") != std::string::npos);
    CHECK(text.out.find("signature not checked") != std::string::npos);
    CHECK(text.out.find("The token is for Microsoft Graph, not Exchange Online") !=
          std::string::npos);
    // The Token section comes before the server's.
    CHECK(text.out.find("Token\n") < text.out.find("Server\n"));
    check_nowhere(first_line(tokens("m365-graph.jwt")), json);
    check_nowhere(first_line(tokens("m365-graph.jwt")), text);
    CHECK(json.out.find(sender) == std::string::npos);
    CHECK(text.out.find(sender) == std::string::npos);
}

TEST_CASE("token preflight: a target that does not answer still gets it (exit 2)", "[cli][token]") {
    std::string const dead = "127.0.0.1:" + std::to_string(closed_loopback_port());
    CommandResult r = run_command(binary + " " + dead + " --user " + sender +
                                  " --oauth-token-file " + tokens("m365-expired.jwt") + " -f json");
    CHECK(r.exit_code == 2);
    Json const doc = Json::parse(r.out);
    CHECK(doc["session_established"] == false);
    CHECK(doc["token"]["expired"] == true);
    CHECK(has_finding(doc, "oauth.token_expired"));
}

TEST_CASE("token preflight: every report of a batch (NDJSON) carries it", "[cli][token]") {
    TokenServer t;
    CommandResult r =
        run_command(binary + t.options() + " " + t.address + " --oauth-token-file " +
                    tokens("m365-app-only-no-role.jwt") + " --mechanisms XOAUTH2 -f ndjson");
    std::istringstream lines(r.out);
    std::string line;
    int reports = 0;
    while (std::getline(lines, line)) {
        Json const doc = Json::parse(line);
        CHECK(doc["token"]["app_only"] == true);
        CHECK(has_finding(doc, "oauth.missing_role"));
        ++reports;
    }
    CHECK(reports == 2);
    check_nowhere(first_line(tokens("m365-app-only-no-role.jwt")), r);
}

TEST_CASE("token preflight: --demo, the valid token authenticates; the Nagios line warns of an "
          "expired one",
          "[cli][token][demo]") {
    Files files;
    std::string const profile = files.write("token.json", token_profile().dump());
    std::string const demo = binary + " --demo --profile " + profile + " --user " + sender;
    CommandResult ok = run_command(demo + " --oauth-token-file " + tokens("m365-delegated.jwt") +
                                   " -f json --transcript");
    INFO(ok.err);
    CHECK(ok.exit_code == 0);
    Json const doc = Json::parse(ok.out);
    CHECK(doc["token"]["user_matches"] == true);
    CHECK(row(doc, "XOAUTH2")["authentication"]["status"] == "accepted");
    check_nowhere(first_line(tokens("m365-delegated.jwt")), ok);

    CommandResult nagios = run_command(demo + " --oauth-token-file " + tokens("m365-expired.jwt") +
                                       " --format nagios");
    CHECK(nagios.exit_code == 1); // WARNING: an error finding
    CHECK(nagios.out.starts_with("SMTPPROBE WARNING - The token expired "));
    check_nowhere(first_line(tokens("m365-expired.jwt")), nagios);
}

TEST_CASE("--oauth-token-cmd: the first line a real command prints is the token, in no output "
          "of any format",
          "[cli][token][redact]") {
    TokenServer t;
    std::string const token = first_line(tokens("m365-delegated.jwt"));
    // printf with the token itself, and a second line that is dropped.
    std::string const command =
        " --oauth-token-cmd \"printf '%s\\\\n%s\\\\n' " + token + " second-line-dropped\"";
    for (std::string const format : {"text", "json", "ndjson", "nagios"}) {
        INFO(format);
        // NDJSON is the batch form, which takes no transcript.
        bool const transcript = std::string(format) != "ndjson";
        CommandResult r = run_command(binary + t.options() + command +
                                      " --mechanisms XOAUTH2 --expect-auth XOAUTH2 -f " + format +
                                      (transcript ? " --transcript" : ""));
        INFO(r.err);
        CHECK(r.exit_code == 0); // accepted: the emulator knows the token
        check_nowhere(token, r);
        CHECK(r.out.find("second-line-dropped") == std::string::npos);
        if (transcript) // the XOAUTH2 response is a marker there
            CHECK(r.err.find(" ~> <redacted") != std::string::npos);
    }
}

TEST_CASE("--oauth-token-cmd: a command that fails, prints nothing, is killed or hangs names "
          "its status, never its output",
          "[cli][token]") {
    TokenServer t;
    struct Case {
        std::string command;
        std::string error;
    };
    std::vector<Case> const cases = {
        {"echo leaked-output-1; exit 3", "--oauth-token-cmd exited with status 3"},
        {"echo leaked-output-2 >&2; printf ''",
         "--oauth-token-cmd exited with status 0 but printed no token"},
        {"printf '\\\\n\\\\nleaked-output-3\\\\n'",
         "--oauth-token-cmd exited with status 0 but printed no token"},
        {"echo leaked-output-4; kill -KILL \\$\\$",
         "--oauth-token-cmd was ended by signal 9 (SIGKILL)"},
        {"echo leaked-output-5; exec sleep 30",
         "--oauth-token-cmd did not finish within 1 s (--timeout); it was stopped"},
    };
    for (Case const& c : cases) {
        INFO(c.command);
        auto const start = std::chrono::steady_clock::now();
        CommandResult r = run_command(binary + t.options() + " --timeout 1 --oauth-token-cmd \"" +
                                      c.command + "\"");
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
        CHECK(r.exit_code == 64);
        CHECK(r.err.find("smtpprobe: error: " + c.error) != std::string::npos);
        CHECK(r.out.find("leaked-output") == std::string::npos);
        // The command's standard error is the user's (leaked-output-2 is printed by the
        // command itself); smtpprobe's own message never quotes the command's output.
        std::string const own = r.err.substr(r.err.find("smtpprobe: error:"));
        CHECK(own.find("leaked-output") == std::string::npos);
    }
    CHECK(t.server.server().connections_accepted() == 0); // nothing was probed without a token
}

TEST_CASE("--oauth-token-cmd is one of the token's sources", "[cli][token][usage]") {
    CommandResult r = run_command(binary + " --demo --user u --oauth-token-env X "
                                           "--oauth-token-cmd true");
    CHECK(r.exit_code == 64);
    CHECK(r.err.find("--oauth-token-cmd: is one of the token's sources: give --oauth-token-cmd "
                     "or --oauth-token-*, not both") != std::string::npos);
}
