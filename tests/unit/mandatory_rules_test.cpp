// "Is TLS mandatory?" and the message against the extensions (issue 20): the findings and
// their severities on ports 25 and 587, from reports built by hand.

#include "diagnose/evaluate.hpp"
#include "render/render.hpp"
#include "unit/sample_reports.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace smtpprobe;
using namespace smtpprobe::test;

TEST_CASE("MAIL before STARTTLS accepted: a warning on 587, an info on 25", "[unit][mandatory]") {
    Report r = seed_report();
    r.server.mail_before_tls_reply = reply(250, {"2.1.0 Sender OK"});
    Verdict const v587 = evaluate(r, Expectations{});
    Finding const* f = find_finding(v587, "mail.without_tls");
    REQUIRE(f != nullptr);
    CHECK(f->severity == Severity::warning);
    CHECK(f->title == "This submission port takes mail without TLS");
    CHECK(f->evidence == std::vector<std::string>{"MAIL FROM:<> before TLS: 250 2.1.0 Sender OK"});
    CHECK(find_finding(v587, "mail.tls_required") == nullptr);
    // Nagios: the mail_tls check is a WARNING on a submission port, not counted again under
    // "findings" (a warning finding never is).
    std::string const nagios587 = render_nagios(r, v587);
    CHECK(nagios587.starts_with("SMTPPROBE WARNING - this submission port takes mail without TLS "
                                "(250 2.1.0 Sender OK)"));
    CHECK(contains(nagios587, "[WARNING] mail_tls: this submission port takes mail without TLS"));

    r.port = 25;
    Verdict const v25 = evaluate(r, Expectations{});
    f = find_finding(v25, "mail.without_tls");
    REQUIRE(f != nullptr);
    CHECK(f->severity == Severity::info);
    CHECK(contains(f->detail, "RFC 3207 §4"));
    CHECK(contains(render_nagios(r, v25), "[OK] mail_tls: port 25 takes mail without TLS"));
}

TEST_CASE("MAIL refused before TLS and before AUTH: TLS required, AUTH required",
          "[unit][mandatory]") {
    Report r = seed_report();
    r.server.mail_before_tls_reply = reply(530, {"5.7.0 Must issue a STARTTLS command first"});
    r.server.mail_before_auth_reply = reply(530, {"5.7.57 Client not authenticated to send mail"});
    Verdict const v = evaluate(r, Expectations{});
    REQUIRE(find_finding(v, "mail.tls_required") != nullptr);
    CHECK(find_finding(v, "mail.tls_required")->severity == Severity::info);
    REQUIRE(find_finding(v, "mail.auth_required") != nullptr);
    CHECK(find_finding(v, "mail.auth_required")->title == "Mail needs AUTH");
    CHECK(find_finding(v, "mail.without_tls") == nullptr);
    std::string const text = render_text(r, v);
    CHECK(contains(text, "MAIL no TLS  MAIL FROM:<> -> 530 5.7.0 Must issue a STARTTLS command "
                         "first  (TLS required)"));
    CHECK(contains(text, "(AUTH required)"));
    nlohmann::json const j = nlohmann::json::parse(render_json(r, v));
    CHECK(j["server"]["mail_probe"]["without_tls"]["status"] == "refused");
    CHECK(j["server"]["mail_probe"]["without_auth"]["status"] == "refused");
    CHECK(j["server"]["mail_probe"]["without_auth"]["reply"]["code"] == 530);
    CHECK(contains(render_nagios(r, v), "[OK] mail_tls: TLS required before mail (530 5.7.0"));
}

TEST_CASE("no probe, no mail finding, and the JSON says not_tested", "[unit][mandatory]") {
    Report const r = seed_report();
    Verdict const v = evaluate(r, Expectations{});
    for (Finding const& f : v.findings)
        CHECK_FALSE(f.id.starts_with("mail."));
    nlohmann::json const j = nlohmann::json::parse(render_json(r, v));
    CHECK(j["server"]["mail_probe"]["without_tls"]["status"] == "not_tested");
}

TEST_CASE("a --size over the advertised SIZE and --requiretls without REQUIRETLS are errors",
          "[unit][mandatory]") {
    Report r = seed_report(); // SIZE 36700160, no REQUIRETLS
    r.message_size = 36700160;
    r.requiretls = false;
    Verdict v = evaluate(r, Expectations{});
    CHECK(find_finding(v, "message.over_size") == nullptr);
    r.message_size = 36700161;
    r.requiretls = true;
    v = evaluate(r, Expectations{});
    Finding const* size = find_finding(v, "message.over_size");
    REQUIRE(size != nullptr);
    CHECK(size->severity == Severity::error);
    CHECK(contains(size->detail, "36700161 bytes"));
    CHECK(size->evidence == std::vector<std::string>{"EHLO: SIZE 36700160"});
    Finding const* tls = find_finding(v, "message.requiretls_unsupported");
    REQUIRE(tls != nullptr);
    CHECK(tls->evidence == std::vector<std::string>{"EHLO: no REQUIRETLS"});
    CHECK(v.exit_code == exit_code::problems);
    // Nagios: the user stated what the message needs, so each mismatch is CRITICAL, once.
    std::string const nagios = render_nagios(r, v);
    CHECK(nagios.starts_with("SMTPPROBE CRITICAL - message of 36700161 bytes over the server's "
                             "SIZE 36700160; REQUIRETLS not advertised"));
    CHECK(contains(nagios, "[CRITICAL] message.size: "));
    CHECK(contains(nagios, "[CRITICAL] message.requiretls: "));
    CHECK_FALSE(contains(nagios, "] findings: "));
    r.message_size = 1000;
    r.requiretls = false;
    CHECK(contains(render_nagios(r, evaluate(r, Expectations{})),
                   "[OK] message.size: message of 1000 bytes within SIZE 36700160"));
}

TEST_CASE("the Extensions part lists each extension with its RFC, in text and JSON",
          "[unit][mandatory]") {
    Report const r = seed_report();
    Verdict const v = evaluate(r, Expectations{});
    std::string const text = render_text(r, v);
    CHECK(contains(text, "Extensions"));
    CHECK(contains(text, "SIZE                yes (36700160 bytes)  RFC 1870"));
    CHECK(contains(text, "CHUNKING            no   RFC 3030"));
    nlohmann::json const j = nlohmann::json::parse(render_json(r, v));
    REQUIRE(j["extensions"].size() == 8);
    CHECK(j["extensions"][0]["keyword"] == "SIZE");
    CHECK(j["extensions"][0]["advertised"] == true);
    CHECK(j["extensions"][0]["limit_bytes"] == 36700160);
    CHECK(j["extensions"][1]["keyword"] == "8BITMIME");
    CHECK(j["extensions"][1]["advertised"] == true);
    CHECK(j["extensions"][5]["keyword"] == "DSN");
    CHECK(j["extensions"][5]["advertised"] == false);
    CHECK(j["extensions"][5]["rfc"] == "RFC 3461");
}

TEST_CASE("a non-ASCII --rcpt without SMTPUTF8 is an error finding", "[unit][mandatory]") {
    Report r = seed_report(); // no SMTPUTF8
    r.envelope.emplace();
    r.envelope->mail_from = "sender@example.test";
    r.envelope->rcpt = {"ok@example.org"};
    CHECK(find_finding(evaluate(r, Expectations{}), "message.smtputf8_missing") == nullptr);
    r.envelope->rcpt.push_back("j\xC3\xB6rg@example.org");
    Verdict const v = evaluate(r, Expectations{});
    Finding const* f = find_finding(v, "message.smtputf8_missing");
    REQUIRE(f != nullptr);
    CHECK(f->severity == Severity::error);
    CHECK(contains(f->detail, "j\xC3\xB6rg@example.org"));
}
