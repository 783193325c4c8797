// The NTLM information probe (probes/auth.cpp, recognise()) over scripted exchanges: what it
// sends (a NEGOTIATE, then "*"; never a credential), what it records, and how the report
// shows it.

#include "diagnose/evaluate.hpp"
#include "probes/auth.hpp"
#include "sasl/ntlm.hpp"
#include "session/conversation.hpp"
#include "smtp/base64.hpp"
#include "support/harness.hpp"
#include "support/replay_transport.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace smtpprobe;
using smtpprobe::test::has_finding;
namespace ntlm = smtpprobe::sasl::ntlm;

namespace {

using Kind = test::ReplayStep::Kind;

// What samples/servers/exchange-legacy.json answers: domain EXAMPLE, computer EXCH01,
// Windows 10.0.17763, 2024-01-01T00:00:00Z (built by a separate script, not by the encoder).
std::string const exchange_type2 =
    "TlRMTVNTUAACAAAADgAOADgAAAAFgomiHy49TFtqeYgAAAAAAAAAAJQAlABGAAAACgBjRQAAAA9FAFgAQQBNAFAATAB"
    "FAAIADgBFAFgAQQBNAFAATABFAAEADABFAFgAQwBIADAAMQAEABgAZQB4AGEAbQBwAGwAZQAuAHQAZQBzAHQAAwAmAE"
    "UAWABDAEgAMAAxAC4AZQB4AGEAbQBwAGwAZQAuAHQAZQBzAHQABQAYAGUAeABhAG0AcABsAGUALgB0AGUAcwB0AAcAC"
    "AAAwIl2RTzaAQAAAAA=";

std::string negotiate_line() {
    return smtp::base64_encode(ntlm::negotiate_message());
}

/// "AUTH NTLM", "334 NTLM supported", the NEGOTIATE, then `rest`.
test::ReplayScript script(std::vector<test::ReplayStep> rest) {
    test::ReplayScript s;
    s.steps = {{Kind::client, false, "AUTH NTLM"},
               {Kind::server, false, "334 NTLM supported"},
               {Kind::client, false, negotiate_line()}};
    s.steps.insert(s.steps.end(), rest.begin(), rest.end());
    return s;
}

struct Recognised {
    MechanismRow row;
    probes::SessionAfter after = probes::SessionAfter::usable;
    std::vector<std::string> mismatches;
    bool finished = false;
    std::string transcript;
};

Recognised recognise(test::ReplayScript s) {
    test::ReplayTransport transport(std::move(s));
    Transcript transcript;
    Conversation conversation(transport, &transcript, Timeouts{}, 1);
    Recognised out;
    out.row.name = "NTLM";
    out.after = probes::recognise(conversation, out.row);
    out.mismatches = transport.mismatches();
    out.finished = transport.finished();
    Redactor redactor;
    out.transcript = transcript.render(redactor);
    return out;
}

Report report_with(MechanismRow const& row) {
    Report r;
    r.host = "exch.example.test";
    r.port = 587;
    r.session_established = true;
    r.rows.push_back(row);
    return r;
}

} // namespace

TEST_CASE("NTLM: a NEGOTIATE after 334, the CHALLENGE decoded, then \"*\"", "[engine][ntlm]") {
    Recognised const got = recognise(script({{Kind::server, false, "334 " + exchange_type2},
                                             {Kind::client, false, "*"},
                                             {Kind::server, false, "501 5.7.0 cancelled"}}));
    CHECK(got.mismatches.empty());
    CHECK(got.finished);
    CHECK(got.after == probes::SessionAfter::usable);
    Recognition const& r = got.row.recognition;
    CHECK(r.status == Status::recognised);
    CHECK(r.challenge == "NTLM supported");
    REQUIRE(r.cancel_reply);
    CHECK(r.cancel_reply->code == 501);
    CHECK(r.note.empty());
    REQUIRE(r.ntlm);
    CHECK(r.ntlm->outcome == NtlmInfo::Outcome::decoded);
    CHECK(r.ntlm->reply->code == 334);
    REQUIRE(r.ntlm->challenge);
    ntlm::Challenge const& c = *r.ntlm->challenge;
    CHECK(c.target_name == "EXAMPLE");
    REQUIRE(c.target_info);
    CHECK(c.target_info->nb_computer_name == "EXCH01");
    CHECK(c.target_info->nb_domain_name == "EXAMPLE");
    CHECK(c.target_info->dns_computer_name == "EXCH01.example.test");
    CHECK(c.target_info->dns_domain_name == "example.test");
    CHECK(c.target_info->dns_tree_name == "example.test");
    CHECK(ntlm::filetime_to_iso8601(c.target_info->timestamp.value()) == "2024-01-01T00:00:00Z");
    CHECK(c.version == ntlm::Version{10, 0, 17763, 15});
    // The transcript shows the NEGOTIATE as sent: it is no secret.
    CHECK(got.transcript.find(negotiate_line()) != std::string::npos);

    SECTION("the text report names what the server disclosed") {
        Report const report = report_with(got.row);
        Verdict const verdict = evaluate(report, {});
        std::string const text = render_text(report, verdict);
        CHECK(text.find("NTLM information") != std::string::npos);
        CHECK(text.find("Target name    EXAMPLE") != std::string::npos);
        CHECK(text.find("NetBIOS names  computer EXCH01, domain EXAMPLE") != std::string::npos);
        CHECK(text.find("DNS names      computer EXCH01.example.test, domain example.test, "
                        "forest example.test") != std::string::npos);
        CHECK(text.find("Server time    2024-01-01T00:00:00Z") != std::string::npos);
        CHECK(text.find("OS version     10.0.17763 (Windows 10 1809 / Windows Server 2019), NTLM "
                        "revision 15") != std::string::npos);
        CHECK(has_finding(verdict, "auth.ntlm_information"));
        CHECK(text.find("NTLM tells anyone who asks the server's internal names") !=
              std::string::npos);
    }
    SECTION("and so does the JSON report") {
        Report const report = report_with(got.row);
        nlohmann::json const j = nlohmann::json::parse(render_json(report, Verdict{}))["ntlm"];
        CHECK(j["status"] == "decoded");
        CHECK(j["reply"]["code"] == 334);
        CHECK(j["error"].is_null());
        CHECK(j["target_name"] == "EXAMPLE");
        CHECK(j["netbios_computer"] == "EXCH01");
        CHECK(j["netbios_domain"] == "EXAMPLE");
        CHECK(j["dns_computer"] == "EXCH01.example.test");
        CHECK(j["dns_domain"] == "example.test");
        CHECK(j["dns_tree"] == "example.test");
        CHECK(j["timestamp"] == "2024-01-01T00:00:00Z");
        CHECK(j["os_version"] == "10.0.17763");
        CHECK(j["os_release"] == "Windows 10 1809 / Windows Server 2019");
        CHECK(j["ntlm_revision"] == 15);
        CHECK(j["flags"] == "0xa2898205");
        CHECK(j["flag_names"].size() == 10);
        CHECK(j["server_challenge"] == "1f2e3d4c5b6a7988");
        CHECK(j["target_info"]["pairs"] == 6);
        CHECK(j["target_info"]["av_flags"].is_null());
    }
}

TEST_CASE("NTLM: a server that refuses the NEGOTIATE ends the exchange itself", "[engine][ntlm]") {
    // No "*" follows: the script would record it as a mismatch.
    Recognised const got =
        recognise(script({{Kind::server, false, "535 5.7.3 Authentication unsuccessful"}}));
    CHECK(got.mismatches.empty());
    CHECK(got.finished);
    CHECK(got.after == probes::SessionAfter::usable);
    Recognition const& r = got.row.recognition;
    CHECK(r.status == Status::recognised);
    CHECK_FALSE(r.cancel_reply);
    REQUIRE(r.ntlm);
    CHECK(r.ntlm->outcome == NtlmInfo::Outcome::refused);
    CHECK(r.ntlm->error ==
          "the server answered the NEGOTIATE message with 535 5.7.3 Authentication unsuccessful");
    Report const report = report_with(got.row);
    Verdict const verdict = evaluate(report, {});
    CHECK_FALSE(has_finding(verdict, "auth.ntlm_information"));
    std::string const text = render_text(report, verdict);
    CHECK(text.find("Not decoded    the server answered the NEGOTIATE message with 535 5.7.3") !=
          std::string::npos);
    CHECK(nlohmann::json::parse(render_json(report, verdict))["ntlm"]["status"] == "refused");
}

TEST_CASE("NTLM: malformed CHALLENGE replies are reported, then cancelled", "[engine][ntlm]") {
    std::string const bad_base64 = "334 this is not base64";
    std::string const cut =
        "334 " + smtp::base64_encode(smtp::base64_decode(exchange_type2).value().substr(0, 100));
    for (std::string const& reply : {bad_base64, cut}) {
        INFO(reply);
        Recognised const got = recognise(script({{Kind::server, false, reply},
                                                 {Kind::client, false, "*"},
                                                 {Kind::server, false, "501 5.7.0 cancelled"}}));
        CHECK(got.mismatches.empty());
        CHECK(got.finished);
        REQUIRE(got.row.recognition.ntlm);
        NtlmInfo const& info = *got.row.recognition.ntlm;
        CHECK(info.outcome == NtlmInfo::Outcome::malformed);
        CHECK_FALSE(info.challenge);
        CHECK(info.error == (reply == bad_base64
                                 ? "the reply to the NEGOTIATE message is not base64"
                                 : "not a valid CHALLENGE_MESSAGE: the target information (148 "
                                   "bytes at offset 70) lies outside the 100-byte message"));
        CHECK(got.row.recognition.cancel_reply->code == 501);
        Report const report = report_with(got.row);
        CHECK(has_finding(evaluate(report, {}), "auth.ntlm_challenge_malformed"));
    }
}

TEST_CASE("NTLM: 421 to the NEGOTIATE is a dropped connection", "[engine][ntlm]") {
    test::ReplayTransport transport(script({{Kind::server, false, "421 4.7.0 Too many errors"}}));
    Conversation conversation(transport, nullptr, Timeouts{}, 1);
    MechanismRow row;
    row.name = "NTLM";
    CHECK_THROWS_AS(probes::recognise(conversation, row), std::system_error);
}

TEST_CASE("NTLM: names with terminal control characters are escaped in the text report",
          "[engine][ntlm]") {
    ntlm::Challenge c;
    c.flags = ntlm::flag::negotiate_unicode | ntlm::flag::negotiate_target_info;
    c.target_name = "EVIL\x1b[2J";
    ntlm::TargetInfo t;
    t.nb_computer_name = "PC\xc2\x9b"
                         "31m";
    t.dns_computer_name = "caf\xc3\xa9.example.test"; // non-ASCII is kept
    c.target_info = t;
    Recognised const got = recognise(
        script({{Kind::server, false, "334 " + smtp::base64_encode(ntlm::encode_challenge(c))},
                {Kind::client, false, "*"},
                {Kind::server, false, "501 5.7.0 cancelled"}}));
    REQUIRE(got.row.recognition.ntlm);
    REQUIRE(got.row.recognition.ntlm->outcome == NtlmInfo::Outcome::decoded);
    Report const report = report_with(got.row);
    std::string const text = render_text(report, evaluate(report, {}));
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find("\xc2\x9b") == std::string::npos);
    CHECK(text.find("EVIL\\x1B[2J") != std::string::npos);
    CHECK(text.find("computer PC\\xC2\\x9B31m") != std::string::npos);
    CHECK(text.find("caf\xc3\xa9.example.test") != std::string::npos);
}
