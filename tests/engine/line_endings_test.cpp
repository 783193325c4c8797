// --line-endings (issue 20 item 5): NOOP ended by a bare LF and by a bare CR, against emulator
// profiles for each behaviour (bare_lf: line_end, reject, wait), over STARTTLS.

#include "support/harness.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

namespace {

Json line_ending_profile(Json bare_lf) {
    Json p = {{"name", "line-endings-test"},
              {"ehlo", {{"before_tls", {"STARTTLS"}}, {"after_tls", {"AUTH PLAIN"}}}},
              {"auth", {{"mechanisms", {"PLAIN"}}}}};
    if (!bare_lf.is_null())
        p["bare_lf"] = bare_lf;
    return p;
}

/// A probe of an emulator serving `profile`, with --line-endings (or without it).
Probed check_line_endings(Json const& profile, bool on = true) {
    Emulated server = Emulated::inline_profile(profile);
    Setup o = server.options();
    o.options.line_endings = on;
    o.options.line_ending_wait = std::chrono::milliseconds(300);
    return probe(o);
}

/// The LF test and the CR test of a run with --line-endings.
std::vector<LineEndingTest> const& both_tests(Probed const& p) {
    REQUIRE(p.report.line_endings);
    REQUIRE(p.report.line_endings->tests.size() == 2);
    return p.report.line_endings->tests;
}

/// The LF test, which had `behaviour` and got a reply.
LineEndingTest const& lf_with_reply(std::vector<LineEndingTest> const& t,
                                    LineEndingBehaviour behaviour) {
    CHECK(t[0].ending == LineEnding::lf);
    CHECK(t[0].behaviour == behaviour);
    REQUIRE(t[0].reply);
    return t[0];
}

bool contains(std::string const& text, std::string const& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("line endings: not checked without --line-endings", "[engine][line_endings]") {
    Probed p = check_line_endings(line_ending_profile(nullptr), false);
    CHECK_FALSE(p.report.line_endings);
    CHECK(Json::parse(p.json)["server"]["line_endings"].is_null());
    CHECK_FALSE(contains(p.transcript, "bare LF"));
}

TEST_CASE("line endings: bare LF taken as a line end, bare CR waits for CRLF",
          "[engine][line_endings]") {
    Probed p = check_line_endings(line_ending_profile(nullptr)); // the default
    std::vector<LineEndingTest> const& t = both_tests(p);
    CHECK(t[0].ending == LineEnding::lf);
    CHECK(t[0].behaviour == LineEndingBehaviour::line_end);
    CHECK(t[0].tls); // after STARTTLS, which the server offers
    REQUIRE(t[0].reply);
    CHECK(t[0].reply->code == 250);
    CHECK_FALSE(t[0].reply_after_crlf);
    CHECK(t[1].ending == LineEnding::cr);
    CHECK(t[1].behaviour == LineEndingBehaviour::waits);
    REQUIRE(t[1].reply);
    CHECK(t[1].reply_after_crlf);
    // Both ran on the same connection: nothing closed it.
    CHECK(t[0].connection == t[1].connection);
    Finding const& f = finding(p.verdict, "line_endings.bare_lf_line_end");
    CHECK(f.severity == Severity::info);
    CHECK(contains(f.detail, "NOT an SMTP smuggling finding"));
    CHECK_FALSE(has_finding(p.verdict, "line_endings.bare_cr_line_end"));
    CHECK(p.verdict.exit_code == exit_code::ok);
    Json const j = Json::parse(p.json)["server"]["line_endings"];
    CHECK(j["wait_ms"] == 300);
    REQUIRE(j["tests"].size() == 2);
    CHECK(j["tests"][0]["ending"] == "LF");
    CHECK(j["tests"][0]["behaviour"] == "line_end");
    CHECK(j["tests"][1]["behaviour"] == "waits");
    CHECK(j["tests"][1]["reply_after_crlf"] == true);
    CHECK(contains(p.text, "Line endings"));
    CHECK(contains(p.text, "bare LF: taken as a line end"));
    CHECK(contains(p.transcript, "NOOP<bare LF>"));
    CHECK(contains(p.transcript, "<CRLF>"));
}

TEST_CASE("line endings: a server that rejects a bare LF (Postfix reject, 521 disconnects)",
          "[engine][line_endings]") {
    Json profile = line_ending_profile("reject");
    profile["bare_lf_reply"] = "521 5.5.2 {hostname} Error: bare <LF> received";
    Probed p = check_line_endings(profile);
    std::vector<LineEndingTest> const& t = both_tests(p);
    lf_with_reply(t, LineEndingBehaviour::rejects);
    CHECK(t[0].reply->code == 521);
    CHECK(t[0].closed);
    // The CR test needed a fresh connection, and got it.
    CHECK(t[1].connection != t[0].connection);
    CHECK(t[1].behaviour == LineEndingBehaviour::waits);
    Finding const& f = finding(p.verdict, "line_endings.bare_lf_rejected");
    REQUIRE_FALSE(f.evidence.empty());
    CHECK(contains(f.evidence.front(), "bare <LF> received"));
    CHECK(contains(f.detail, "closed the connection"));
    CHECK_FALSE(has_finding(p.verdict, "line_endings.bare_lf_line_end"));
    CHECK(Json::parse(p.json)["server"]["line_endings"]["tests"][0]["behaviour"] == "rejects");
}

TEST_CASE("line endings: the default 550 rejection keeps the connection",
          "[engine][line_endings]") {
    Probed p = check_line_endings(line_ending_profile("reject"));
    std::vector<LineEndingTest> const& t = both_tests(p);
    lf_with_reply(t, LineEndingBehaviour::rejects);
    CHECK(t[0].reply->code == 550);
    CHECK_FALSE(t[0].closed);
    CHECK(t[1].connection == t[0].connection);
}

TEST_CASE("line endings: a strict server waits for CRLF after a bare LF",
          "[engine][line_endings]") {
    Probed p = check_line_endings(line_ending_profile("wait"));
    std::vector<LineEndingTest> const& t = both_tests(p);
    lf_with_reply(t, LineEndingBehaviour::waits);
    CHECK(t[0].reply_after_crlf);
    // "NOOP\n" + CRLF is one line that is not a NOOP: the emulator's unknown-command reply.
    CHECK(t[0].reply->code == 500);
    CHECK(t[1].behaviour == LineEndingBehaviour::waits);
    CHECK_FALSE(has_finding(p.verdict, "line_endings.bare_lf_line_end"));
    CHECK_FALSE(has_finding(p.verdict, "line_endings.bare_lf_rejected"));
    CHECK(contains(p.text, "bare LF: not a line end (no reply in 300 ms)"));
}

TEST_CASE("emulator profile: bare_lf takes only its three values", "[engine][line_endings]") {
    CHECK_THROWS_WITH(emulator::parse_profile(line_ending_profile("normalize"), "t"),
                      Catch::Contains("bare_lf"));
}
