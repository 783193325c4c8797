// The renderers on hand-built Reports (unit/sample_reports.hpp): the text report, the JSON
// document and its NDJSON line, and the Nagios line with its perfdata; what a hostile server's
// bytes become in each.

#include "render/ndjson.hpp"
#include "render/render.hpp"
#include "unit/sample_reports.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

namespace {

std::vector<std::string> lines_of(std::string const& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t const end = text.find('\n', start);
        out.push_back(text.substr(start, end - start));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return out;
}

/// The control bytes a terminal would act on: C0 but LF, DEL, and the UTF-8 C1 controls
/// (C2 80..C2 9F). With `sgr_allowed`, ESC [ digits/';' m sequences are skipped.
std::vector<std::size_t> live_controls(std::string const& text, bool sgr_allowed) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto const c = static_cast<unsigned char>(text[i]);
        if (c == 0x1b && sgr_allowed && i + 1 < text.size() && text[i + 1] == '[') {
            std::size_t j = i + 2;
            while (j < text.size() &&
                   (std::isdigit(static_cast<unsigned char>(text[j])) != 0 || text[j] == ';'))
                ++j;
            if (j < text.size() && text[j] == 'm') {
                i = j;
                continue;
            }
        }
        bool const c1 = c == 0xc2 && i + 1 < text.size() &&
                        static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(text[i + 1]) <= 0x9f;
        if ((c < 0x20 && c != '\n') || c == 0x7f || c1)
            out.push_back(i);
    }
    return out;
}

/// A banner and a refusal written by a hostile server: clear screen, an OSC window title, a
/// C1 CSI, a bell, quotes, a backslash, markup and a byte that is not UTF-8.
std::string const hostile_banner = "mx.example.test \x1b[2J\x1b]0;owned\x07 \xc2\x9b"
                                   "31m \"quoted\" back\\slash </script><b>x</b> \xff end";

Report hostile_report() {
    Report r = seed_report_with_credentials(
        reply(535, {"5.7.3 \x1b[1;1H\x1b[Kdenied\r \"no\" </script>"}));
    r.server.banner = reply(220, {hostile_banner});
    return r;
}

} // namespace

TEST_CASE("render_text: the seed case", "[unit][render]") {
    Report const r = seed_report();
    Verdict const v = evaluate(r, Expectations{});
    std::string const text = render_text(r, v);

    std::vector<std::string> const lines = lines_of(text);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines[0].starts_with("smtpprobe "));
    CHECK(lines[0].ends_with("  mail.example.test port 587 (192.0.2.25)"));
    CHECK(contains(text,
                   "  Banner       220 mail.example.test Microsoft ESMTP MAIL Service ready\n"));
    CHECK(
        contains(text, "  Before TLS   SIZE 36700160, STARTTLS, ENHANCEDSTATUSCODES, 8BITMIME\n"));
    CHECK(contains(text, "TLSv1.3, TLS_AES_256_GCM_SHA384, X25519; SNI mail.example.test"));
    // Wrapped at 100 columns, the continuation under the value column.
    CHECK(contains(text, "  After TLS    SIZE 36700160, AUTH LOGIN, ENHANCEDSTATUSCODES, 8BITMIME  "
                         "(added AUTH; removed\n               STARTTLS)\n"));
    CHECK(contains(text, "AUTH mechanisms (probed after STARTTLS; no credentials: recognition "
                         "only, nothing secret sent)"));
    // One matrix row per mechanism, in the report's order.
    std::size_t const plain = text.find("\n  PLAIN ");
    std::size_t const login = text.find("\n  LOGIN ");
    std::size_t const cram = text.find("\n  CRAM-MD5 ");
    REQUIRE(plain != std::string::npos);
    REQUIRE(login != std::string::npos);
    REQUIRE(cram != std::string::npos);
    CHECK(plain < login);
    CHECK(login < cram);
    CHECK(contains(text, "504 5.7.4 Unrecognized authentication type"));
    CHECK(contains(text, "334 \"Username:\", \"*\" -> 501 5.7.0"));
    CHECK(contains(text, "  WARN   Only LOGIN is accepted, and only after STARTTLS; clients that "
                         "send AUTH PLAIN get 504 5.7.4\n"));
    CHECK(contains(text, "Client libraries"));
    // No expectation: no Checks section.
    CHECK_FALSE(contains(text, "\nChecks\n"));
    CHECK(contains(text, "Timing: connect 12 ms · TLS handshake 36 ms · banner 40 ms"));
    CHECK(contains(text, "total 412 ms · 3 connection(s), at most 4 at once"));
    CHECK(live_controls(text, false).empty());
    CHECK_FALSE(contains(text, "\x1b"));

    // Colour adds the renderer's own SGR sequences and nothing else.
    std::string const coloured = render_text(r, v, TextOptions{true});
    CHECK(contains(coloured, "\x1b[1mServer\x1b[0m"));
    CHECK(live_controls(coloured, true).empty());
}

TEST_CASE("render_text: credentials accepted and refused", "[unit][render]") {
    Expectations expect;
    expect.auth = {"LOGIN"};
    Report const ok = seed_report_with_credentials(reply(235, {"2.7.0 Authentication successful"}));
    std::string const accepted = render_text(ok, evaluate(ok, expect));
    CHECK(contains(accepted, "  user user@example.test\n"));
    CHECK(contains(accepted, "AUTHENTICATED"));
    CHECK(contains(accepted, "yes                  235 2.7.0 Authentication successful\n"));
    CHECK(contains(accepted, "  INFO   The credentials work with LOGIN\n"));
    CHECK(contains(accepted, "\nChecks\n"));
    CHECK(contains(accepted, "  OK        auth.LOGIN      LOGIN authenticates\n"));

    Report const bad =
        seed_report_with_credentials(reply(535, {"5.7.3 Authentication unsuccessful"}));
    std::string const refused = render_text(bad, evaluate(bad, expect));
    CHECK(contains(refused, "credentials refused  535 5.7.3 Authentication unsuccessful\n"));
    CHECK(contains(refused, "  ERROR  The credentials were rejected with LOGIN\n"));
    CHECK(contains(refused, "  CRITICAL  auth.LOGIN      LOGIN rejected (535 5.7.3 Authentication "
                            "unsuccessful)\n"));
}

TEST_CASE("render_text: no session", "[unit][render]") {
    Report const r = no_banner_report();
    std::string const text = render_text(r, evaluate(r, Expectations{}));
    CHECK(lines_of(text)[0].ends_with("  tarpit.example.test port 25 (192.0.2.26)"));
    CHECK(contains(text, "  ERROR  No SMTP session could be established\n"));
    CHECK(contains(text, "The probe stopped before AUTH could be tested: No banner within 10 s"));
    CHECK(contains(text, "> phase: banner, timeout, 0 bytes in 10000 ms"));
    // Nothing about a server that never spoke, and no empty matrix.
    CHECK_FALSE(contains(text, "\nServer\n"));
    CHECK_FALSE(contains(text, "AUTH mechanisms"));
    CHECK_FALSE(contains(text, "Client libraries"));
}

TEST_CASE("render_text: a hostile server's terminal escapes are shown, never sent",
          "[unit][render]") {
    Report const r = hostile_report();
    Verdict const v = evaluate(r, Expectations{});
    for (bool colour : {false, true}) {
        CAPTURE(colour);
        std::string const text = render_text(r, v, TextOptions{colour});
        CHECK(live_controls(text, colour).empty());
        CHECK_FALSE(contains(text, "\x1b[2J"));
        CHECK_FALSE(contains(text, "\x1b]0;"));
        CHECK_FALSE(contains(text, "\x07"));
        CHECK_FALSE(contains(text, "\r"));
        CHECK(contains(text, "\\x1B[2J\\x1B]0;owned\\x07"));
        CHECK(contains(text, "\\x1B[1;1H\\x1B[Kdenied\\r"));
        // Everything else the server wrote stays as it was: quotes, backslash, markup.
        CHECK(contains(text, "\"quoted\" back\\slash </script><b>x</b>"));
    }
}

TEST_CASE("render_json: the seed case, field by field", "[unit][render]") {
    Report const r = seed_report();
    Verdict const v = evaluate(r, Expectations{});
    std::string const out = render_json(r, v);
    REQUIRE(out.ends_with("}\n"));
    Json const doc = Json::parse(out);

    // The schema's top level (README "JSON output"): a key more or less is a schema change.
    std::set<std::string> keys;
    for (auto const& [key, value] : doc.items())
        keys.insert(key);
    CHECK(keys == std::set<std::string>{"schema_version",
                                        "tool",
                                        "target",
                                        "connection",
                                        "session_established",
                                        "fatal_error",
                                        "server",
                                        "extensions",
                                        "certificate_thresholds",
                                        "credentials",
                                        "mechanisms",
                                        "ntlm",
                                        "findings",
                                        "explanations",
                                        "clients",
                                        "checks",
                                        "events",
                                        "timings_ms",
                                        "connections",
                                        "connection_timings",
                                        "started_at",
                                        "parallel",
                                        "interrupted",
                                        "exit_code"});
    CHECK(doc["schema_version"] == json_schema_version);
    CHECK(doc["schema_version"] == 2);
    CHECK(doc["tool"]["name"] == "smtpprobe");
    CHECK(doc["target"]["host"] == "mail.example.test");
    CHECK(doc["target"]["port"] == 587);
    CHECK(doc["target"]["tls_mode"] == "auto");
    CHECK(doc["target"]["tls_used"] == "starttls");
    CHECK(doc["target"]["connected_address"] == "192.0.2.25");
    CHECK(doc["target"]["ehlo_name"] == "client.example.test");
    CHECK(doc["connection"]["proxy"].is_null());
    CHECK(doc["session_established"] == true);
    CHECK(doc["fatal_error"].is_null());

    Json const& server = doc["server"];
    CHECK(server["banner"]["code"] == 220);
    CHECK(server["ehlo"]["command"] == "EHLO");
    CHECK(server["auth_mechanisms"]["before_tls"] == Json::array());
    CHECK(server["auth_mechanisms"]["after_tls"] == Json::array({"LOGIN"}));
    CHECK(server["capabilities"]["added_after_tls"] == Json::array({"AUTH"}));
    CHECK(server["capabilities"]["removed_after_tls"] == Json::array({"STARTTLS"}));
    CHECK(server["capabilities"]["size"] == 36700160);
    CHECK(server["starttls"]["reply"]["enhanced"] == "2.0.0");
    CHECK(server["starttls"]["injected_bytes"].is_null());
    CHECK(server["tls"]["version"] == "TLSv1.3");
    CHECK(server["tls"]["verified"] == true);
    CHECK(server["tls"]["implicit"] == false);
    CHECK(server["tls"]["chain"][0]["days_left"] == 200);

    REQUIRE(doc["mechanisms"].size() == 3);
    Json const& plain = doc["mechanisms"][0];
    CHECK(plain["name"] == "PLAIN");
    CHECK(plain["recognition"]["status"] == "not_supported");
    CHECK(plain["recognition"]["reply"]["code"] == 504);
    CHECK(plain["recognition"]["reply"]["enhanced"] == "5.7.4");
    CHECK(plain["recognition"]["reply"]["text"] == "Unrecognized authentication type");
    CHECK(plain["authentication"]["status"] == "skipped");
    Json const& login = doc["mechanisms"][1];
    CHECK(login["advertised_after_tls"] == true);
    CHECK(login["recognition"]["status"] == "recognised");
    CHECK(login["recognition"]["challenge"] == "Username:");
    CHECK(login["recognition"]["cancel_reply"]["code"] == 501);
    CHECK(login["connection"] == 2);

    bool mismatch = false;
    for (Json const& f : doc["findings"])
        if (f["id"] == "auth.mechanism_mismatch") {
            mismatch = true;
            CHECK(f["severity"] == "warning");
            CHECK(f["evidence"] ==
                  Json::array({"AUTH PLAIN: 504 5.7.4 Unrecognized authentication type"}));
        }
    CHECK(mismatch);
    CHECK(doc["findings"].size() == v.findings.size());
    CHECK(doc["clients"].size() == v.clients.size());
    for (Json const& c : doc["clients"])
        if (c["client"] == "Go net/smtp (PlainAuth)") {
            CHECK(c["outcome"] == "fails");
            CHECK(c["reaches_auth"] == true);
        }
    REQUIRE(doc["checks"].size() == 2);
    CHECK(doc["checks"][0] ==
          Json{{"id", "session"}, {"status", "OK"}, {"message", "SMTP session with TLSv1.3"}});
    CHECK(doc["certificate_thresholds"] == Json{{"warn_days", 30}, {"crit_days", 7}});
    CHECK(doc["credentials"]["given"] == false);
    CHECK(doc["credentials"]["user"].is_null());
    // Milliseconds to one decimal.
    CHECK(doc["timings_ms"]["connect"] == 12.3);
    CHECK(doc["timings_ms"]["proxy_handshake"].is_null());
    CHECK(doc["timings_ms"]["auth"] == 80.0);
    CHECK(doc["timings_ms"]["total"] == 412.5);
    CHECK(doc["connections"] == 3);
    CHECK(doc["parallel"] == 4);
    CHECK(doc["interrupted"] == false);
    CHECK(doc["exit_code"] == 0);
}

TEST_CASE("render_json: no session, the fatal error as data", "[unit][render]") {
    Report const r = no_banner_report();
    Json const doc = Json::parse(render_json(r, evaluate(r, Expectations{})));
    CHECK(doc["session_established"] == false);
    CHECK(doc["fatal_error"] ==
          Json{{"phase", "banner"},
               {"kind", "timeout"},
               {"detail",
                "No banner within 10 s: the TCP connection was accepted and 0 bytes arrived (a "
                "tarpit, a firewall that accepts and drops, or an implicit-TLS port: see "
                "above)."},
               {"bytes_received", 0},
               {"elapsed_ms", 10000.0},
               {"protocol", nullptr}});
    CHECK(doc["server"]["banner"].is_null());
    CHECK(doc["server"]["tls"].is_null());
    CHECK(doc["mechanisms"] == Json::array());
    CHECK(doc["clients"] == Json::array());
    CHECK(doc["exit_code"] == exit_code::no_session);
    CHECK(doc["checks"][0]["status"] == "CRITICAL");
}

TEST_CASE("render_json and the NDJSON line: hostile bytes are escaped and come back intact",
          "[unit][render]") {
    Report const r = hostile_report();
    Verdict const v = evaluate(r, Expectations{});
    std::string const pretty = render_json(r, v);
    std::string const line = render_json_line(r, v);

    // No raw control byte: ESC, BEL and CR are \u escapes, quotes are \". JSON itself escapes
    // only C0 (RFC 8259 §7); the C1 CSI is a \u escape too, for a terminal that shows the JSON.
    auto raw_c0 = [](std::string const& json) {
        return std::count_if(json.begin(), json.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 && c != '\n';
        });
    };
    CHECK(raw_c0(pretty) == 0);
    CHECK(raw_c0(line) == 0);
    CHECK_FALSE(contains(pretty, "\x1b"));
    CHECK(contains(pretty, "\\u001b[2J\\u001b]0;owned\\u0007"));
    CHECK_FALSE(contains(pretty, "\xc2\x9b"));
    CHECK_FALSE(contains(line, "\xc2\x9b"));
    CHECK(contains(pretty, "\\u009b"));
    CHECK(contains(pretty, "\\\"quoted\\\" back\\\\slash"));
    CHECK(contains(line, "denied\\r \\\"no\\\""));

    // Parsed back, the server's text is what it sent, but the byte that is not UTF-8, which
    // becomes U+FFFD.
    Json const doc = Json::parse(pretty);
    std::string expected = hostile_banner;
    expected.replace(expected.find('\xff'), 1, "\xef\xbf\xbd");
    CHECK(doc["server"]["banner"]["lines"][0] == expected);
    CHECK(doc["mechanisms"][1]["authentication"]["reply"]["lines"][0] ==
          "5.7.3 \x1b[1;1H\x1b[Kdenied\r \"no\" </script>");

    // NDJSON: the same document on exactly one line.
    REQUIRE(line.ends_with("\n"));
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    CHECK(Json::parse(line) == doc);
    CHECK(line.size() < pretty.size());
}

TEST_CASE("render_json_line: a newline inside server text stays inside the line",
          "[unit][render]") {
    Report r = seed_report();
    r.server.banner = reply(220, {"first\nsecond", "third\r\n"});
    std::string const line = render_json_line(r, evaluate(r, Expectations{}));
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    CHECK(Json::parse(line)["server"]["banner"]["lines"] ==
          Json::array({"first\nsecond", "third\r\n"}));
}

TEST_CASE("render_nagios: status line, perfdata and one line per check", "[unit][render]") {
    Expectations expect;
    expect.warning_s = 2.0;
    expect.critical_s = 5.0;
    expect.nagios = true;

    SECTION("all OK: the messages of every check, then perfdata with the thresholds") {
        Report const r = seed_report();
        Verdict const v = evaluate(r, expect);
        CHECK(v.exit_code == 0);
        CHECK(render_nagios(r, v) ==
              "SMTPPROBE OK - SMTP session with TLSv1.3, run took 0.412500 s, certificate "
              "expires in 200 days | connect=0.012250s;;;0; tls_handshake=0.035500s;;;0; "
              "banner=0.040000s;;;0; ehlo=0.020000s;;;0; starttls=0.018000s;;;0; "
              "auth=0.080000s;;;0; total=0.412500s;2.000;5.000;0; cert_days=200;30;7;;\n"
              "[OK] session: SMTP session with TLSv1.3\n"
              "[OK] time: run took 0.412500 s\n"
              "[OK] certificate: certificate expires in 200 days\n");
    }
    SECTION("slow and the certificate near expiry: only what is wrong in the status line") {
        Report r = seed_report();
        r.total_ms = 2500.0;
        r.server.tls = verified_tls(10);
        r.server.timings.proxy = 7.0;
        Verdict const v = evaluate(r, expect);
        CHECK(v.exit_code == static_cast<int>(CheckState::warning));
        std::string const out = render_nagios(r, v);
        std::vector<std::string> const lines = lines_of(out);
        REQUIRE(lines.size() == 4);
        CHECK(lines[0].starts_with("SMTPPROBE WARNING - run took 2.500000 s; certificate expires "
                                   "in 10 days | connect=0.012250s;;;0; "
                                   "proxy_handshake=0.007000s;;;0; tls_handshake="));
        CHECK(lines[0].ends_with(" total=2.500000s;2.000;5.000;0; cert_days=10;30;7;;"));
        CHECK(lines[2] == "[WARNING] time: run took 2.500000 s");
        CHECK(lines[3] == "[WARNING] certificate: certificate expires in 10 days");
    }
    SECTION("no session: CRITICAL, and only the timings that were measured") {
        Report const r = no_banner_report();
        Verdict const v = evaluate(r, expect);
        CHECK(v.exit_code == static_cast<int>(CheckState::critical));
        CHECK(render_nagios(r, v) ==
              "SMTPPROBE CRITICAL - No banner within 10 s: the TCP connection was accepted and 0 "
              "bytes arrived (a tarpit, a firewall that accepts and drops, or an implicit-TLS "
              "port: see above).; run took 10.004000 s | connect=0.003000s;;;0; "
              "total=10.004000s;2.000;5.000;0;\n"
              "[CRITICAL] session: No banner within 10 s: the TCP connection was accepted and 0 "
              "bytes arrived (a tarpit, a firewall that accepts and drops, or an implicit-TLS "
              "port: see above).\n"
              "[CRITICAL] time: run took 10.004000 s\n");
    }
    SECTION("an error finding nobody asked about is a WARNING with its title") {
        Expectations plain_nagios;
        plain_nagios.nagios = true;
        Report const r =
            seed_report_with_credentials(reply(535, {"5.7.3 Authentication unsuccessful"}));
        Verdict const v = evaluate(r, plain_nagios);
        CHECK(v.exit_code == static_cast<int>(CheckState::warning));
        std::string const out = render_nagios(r, v);
        CHECK(out.starts_with(
            "SMTPPROBE WARNING - The credentials were rejected with LOGIN | connect="));
        CHECK(contains(out, "\n[WARNING] findings: The credentials were rejected with LOGIN\n"));
    }
}

TEST_CASE("render_nagios: a hostile reply cannot reach the terminal", "[unit][render]") {
    Expectations expect;
    expect.auth = {"LOGIN"};
    expect.nagios = true;
    Report const r = hostile_report();
    Verdict const v = evaluate(r, expect);
    std::string const out = render_nagios(r, v);
    CHECK(live_controls(out, false).empty());
    CHECK(contains(out, "[CRITICAL] auth.LOGIN: LOGIN rejected (535 5.7.3 "
                        "\\x1B[1;1H\\x1B[Kdenied\\r \"no\" </script>)\n"));
    CHECK(out.starts_with("SMTPPROBE CRITICAL - LOGIN rejected (535 5.7.3 \\x1B[1;1H"));
}

TEST_CASE("render_nagios: a '|' in a reply makes no perfdata", "[unit][render]") {
    Expectations expect;
    expect.auth = {"LOGIN"};
    expect.nagios = true;
    Report const r = seed_report_with_credentials(reply(535, {"5.7.3 denied | fake=1s;;;0;"}));
    std::string const out = render_nagios(r, evaluate(r, expect));
    // One '|' in the whole output: the one before the real perfdata.
    CHECK(std::count(out.begin(), out.end(), '|') == 1);
    CHECK(contains(out, "LOGIN rejected (535 5.7.3 denied \\x7c fake=1s;;;0;)"));
    CHECK(out.find(" | connect=") != std::string::npos);
}
