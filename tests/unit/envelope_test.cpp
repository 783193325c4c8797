// The envelope on hand-built Reports: what each reply means and its fix, vendor by vendor
// (diagnose/envelope_rules.hpp), the findings and exit code, the --expect-* checks, and the
// "Envelope" section in text and JSON with a hostile server's bytes escaped.

#include "diagnose/envelope_rules.hpp"
#include "diagnose/evaluate.hpp"
#include "probes/envelope.hpp"
#include "render/render.hpp"
#include "unit/sample_reports.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;
using Kind = EnvelopeStep::Kind;

namespace {

EnvelopeStep step(Kind kind, std::string argument, smtp::Reply r) {
    EnvelopeStep s;
    s.kind = kind;
    s.argument = std::move(argument);
    s.reply = std::move(r);
    return s;
}

/// The seed case, authenticated, with an envelope whose MAIL got `mail` and RCPT `rcpt`.
Report with_envelope(smtp::Reply mail, std::optional<smtp::Reply> rcpt = std::nullopt,
                     bool authenticated = true) {
    Report r = seed_report_with_credentials(reply(235, {"2.7.0 Authentication successful"}));
    Envelope e;
    e.authenticated = authenticated;
    e.mechanism = authenticated ? "LOGIN" : "";
    e.connection = 4;
    e.mail_from = "someone@example.org";
    e.rcpt = {"x@example.net"};
    e.steps.push_back(step(Kind::mail, "<someone@example.org>", std::move(mail)));
    if (rcpt)
        e.steps.push_back(step(Kind::rcpt, "<x@example.net>", *rcpt));
    e.steps.push_back(step(Kind::rset, "", reply(250, {"2.0.0 OK"})));
    e.steps.push_back(step(Kind::quit, "", reply(221, {"2.0.0 Bye"})));
    r.envelope = e;
    return r;
}

std::string id_of(Report const& r, std::size_t index) {
    return diagnose::judge_envelope(r)->steps.at(index).finding_id;
}

} // namespace

TEST_CASE("envelope meanings: each vendor's refusal named", "[unit][envelope]") {
    CHECK(
        id_of(with_envelope(reply(550, {"5.1.7 The specified sender domain has not been linked."})),
              0) == "envelope.acs_sender_domain_not_linked");
    CHECK(id_of(with_envelope(reply(550, {"5.7.60 SMTP; Client does not have permissions to send "
                                          "as this sender"})),
                0) == "envelope.send_as_denied");
    CHECK(id_of(with_envelope(reply(530, {"5.7.57 Client not authenticated to send mail"}), {},
                              false),
                0) == "envelope.not_authenticated");
    CHECK(id_of(with_envelope(reply(553, {"5.7.1 <someone@example.org>: Sender address rejected: "
                                          "not owned by user alice"})),
                0) == "envelope.sender_not_owned");
    CHECK(id_of(with_envelope(reply(250, {"2.1.0 Ok"}),
                              reply(554, {"5.7.1 <x@example.net>: Relay access denied"}), false),
                1) == "envelope.relay_denied");
    CHECK(id_of(with_envelope(reply(250, {"OK"}), reply(550, {"relay not permitted"}), false), 1) ==
          "envelope.relay_denied");
    CHECK(id_of(with_envelope(reply(550, {"Administrative prohibition"})), 0) ==
          "envelope.acl_refused");
    CHECK(id_of(with_envelope(reply(250, {"2.1.0 Ok"}),
                              reply(550, {"5.1.1 <x@example.net>: Recipient address rejected: "
                                          "User unknown in local recipient table"})),
                1) == "envelope.recipient_unknown");
    // Not a known text: the generic classes, by step and by class.
    CHECK(id_of(with_envelope(reply(550, {"5.7.1 no"})), 0) == "envelope.sender_refused");
    CHECK(id_of(with_envelope(reply(451, {"4.3.0 try later"})), 0) == "envelope.sender_deferred");
    CHECK(id_of(with_envelope(reply(250, {"ok"}), reply(550, {"no"})), 1) ==
          "envelope.recipient_refused");
    // Accepted: a meaning, no finding.
    Envelope const ok =
        *diagnose::judge_envelope(with_envelope(reply(250, {"ok"}), reply(250, {"ok"})));
    CHECK(ok.steps[0].finding_id.empty());
    CHECK(ok.steps[0].meaning ==
          "the server takes <someone@example.org> as the sender from this authenticated client "
          "(AUTH LOGIN)");
    CHECK(ok.steps[2].meaning == "the transaction is reset: nothing was sent");
}

TEST_CASE("envelope fixes name what to change", "[unit][envelope]") {
    auto fix = [](Report const& r, std::size_t i) {
        return diagnose::judge_envelope(r)->steps.at(i).fix;
    };
    CHECK(contains(fix(with_envelope(reply(550, {"5.1.7 The specified sender domain has not been "
                                                 "linked."})),
                       0),
                   "Connect domain"));
    CHECK(contains(fix(with_envelope(reply(550, {"5.7.60 SMTP; Client does not have permissions "
                                                 "to send as this sender"})),
                       0),
                   "-AccessRights SendAs"));
    CHECK(contains(fix(with_envelope(reply(553, {"5.7.1 <a@b>: Sender address rejected: not owned "
                                                 "by user alice"})),
                       0),
                   "smtpd_sender_login_maps"));
    CHECK(contains(
        fix(with_envelope(reply(250, {"ok"}), reply(554, {"5.7.1 Relay access denied"})), 1),
        "permit_sasl_authenticated"));
    // 5.7.57 unauthenticated: credentials given but none worked, or none given.
    Report r = with_envelope(reply(530, {"5.7.57 Client not authenticated"}), {}, false);
    CHECK(contains(fix(r, 0), "no mechanism got 235"));
    r.credentials_given = false;
    CHECK(contains(fix(r, 0), "Give credentials"));
}

TEST_CASE("envelope findings and exit codes", "[unit][envelope]") {
    Report const refused = with_envelope(reply(553, {"5.7.1 <someone@example.org>: Sender address "
                                                     "rejected: not owned by user alice"}));
    Verdict const v = evaluate(refused, Expectations{});
    Finding const* f = find_finding(v, "envelope.sender_not_owned");
    REQUIRE(f != nullptr);
    CHECK(f->severity == Severity::error);
    CHECK(f->title == "The sender <someone@example.org> was refused (553 5.7.1)");
    CHECK(v.exit_code == exit_code::problems);

    Report const deferred = with_envelope(reply(250, {"ok"}), reply(450, {"4.2.0 greylisted"}));
    Verdict const dv = evaluate(deferred, Expectations{});
    CHECK(find_finding(dv, "envelope.recipient_deferred")->severity == Severity::warning);

    Report const ok = with_envelope(reply(250, {"ok"}), reply(250, {"ok"}));
    Verdict const okv = evaluate(ok, Expectations{});
    CHECK(find_finding(okv, "envelope.accepted") != nullptr);
    CHECK(okv.exit_code == exit_code::ok);
}

TEST_CASE("expectations: --expect-sender-accepted and --expect-rcpt-accepted", "[unit][envelope]") {
    Expectations x;
    x.sender_accepted = true;
    x.rcpt_accepted = true;
    x.nagios = true;
    Verdict const ok = evaluate(with_envelope(reply(250, {"ok"}), reply(250, {"ok"})), x);
    CHECK(find_check(ok, "envelope.sender")->status == CheckState::ok);
    CHECK(find_check(ok, "envelope.rcpt")->status == CheckState::ok);
    CHECK(ok.exit_code == 0);

    Verdict const relay = evaluate(
        with_envelope(reply(250, {"ok"}), reply(554, {"5.7.1 Relay access denied"}), false), x);
    CHECK(find_check(relay, "envelope.sender")->status == CheckState::ok);
    Check const* rcpt = find_check(relay, "envelope.rcpt");
    CHECK(rcpt->status == CheckState::critical);
    CHECK(rcpt->message == "<x@example.net>: 554 5.7.1 Relay access denied");
    CHECK(relay.exit_code == 2);

    // MAIL refused: no RCPT was sent, so the recipients are unknown, not accepted.
    Verdict const refused = evaluate(with_envelope(reply(550, {"5.7.60 no"})), x);
    CHECK(find_check(refused, "envelope.sender")->status == CheckState::critical);
    CHECK(find_check(refused, "envelope.rcpt")->status == CheckState::unknown);
}

TEST_CASE("mail_parameters: only what the server advertises", "[unit][envelope]") {
    smtp::Capabilities caps =
        smtp::parse_capabilities(reply(250, {"mx", "SIZE 1000", "8BITMIME", "SMTPUTF8"}));
    probes::EnvelopeRequest r{"a@example.org", {"b@example.org"}, 123, true};
    CHECK(probes::mail_parameters(r, &caps) ==
          std::vector<std::string>{"SIZE=123", "BODY=8BITMIME"});
    r.rcpt = {"b@bücher.example"};
    CHECK(probes::mail_parameters(r, &caps) ==
          std::vector<std::string>{"SIZE=123", "BODY=8BITMIME", "SMTPUTF8"});
    smtp::Capabilities none = smtp::parse_capabilities(reply(250, {"mx"}));
    CHECK(probes::mail_parameters(r, &none).empty());
    CHECK(probes::mail_parameters(r, nullptr).empty());
}

TEST_CASE("render: the Envelope section in text and JSON, server bytes escaped",
          "[unit][envelope][render]") {
    Report const r = with_envelope(
        reply(553, {"5.7.1 <someone@example.org>: Sender address rejected: not owned by user "
                    "\x1b[2Jalice\x07 \"q\" </script>"}));
    Verdict const v = evaluate(r, Expectations{});
    std::string const text = render_text(r, v);
    CHECK(contains(text,
                   "\nEnvelope (connection 4, after AUTH LOGIN; no DATA: no message was sent)\n"));
    CHECK(contains(text, "  MAIL FROM <someone@example.org>"));
    CHECK(contains(text, "553 5.7.1 <someone@example.org>: Sender address rejected: not owned by "
                         "user \\x1B[2Jalice\\x07 \"q\" </script>"));
    CHECK(contains(text, "fix: Add the address to the account's entry"));
    CHECK(contains(text, "  RSET"));
    CHECK_FALSE(contains(text, "\x1b[2J"));
    CHECK_FALSE(contains(text, "\x07"));

    std::string const out = render_json(r, v);
    CHECK_FALSE(contains(out, "\x1b"));
    Json const doc = Json::parse(out);
    REQUIRE(doc.contains("envelope"));
    Json const& e = doc["envelope"];
    CHECK(e["mail_from"] == "someone@example.org");
    CHECK(e["rcpt"] == Json::array({"x@example.net"}));
    CHECK(e["authenticated"] == true);
    CHECK(e["mechanism"] == "LOGIN");
    CHECK(e["sender_accepted"] == false);
    CHECK(e["rcpt_accepted"].is_null()); // no RCPT was sent
    CHECK(e["message_sent"] == false);
    REQUIRE(e["steps"].size() == 3);
    CHECK(e["steps"][0]["step"] == "mail");
    CHECK(e["steps"][0]["command"] == "MAIL FROM");
    CHECK(e["steps"][0]["reply"]["code"] == 553);
    // The server's bytes come back intact from the JSON.
    CHECK(e["steps"][0]["reply"]["text"].get<std::string>().find("\x1b[2Jalice\x07") !=
          std::string::npos);
    CHECK(e["steps"][0]["finding"] == "envelope.sender_not_owned");
    CHECK(e["steps"][1]["step"] == "rset");
    CHECK(e["steps"][1]["finding"].is_null());

    // Without --mail-from there is no "envelope" key: the schema change is additive.
    Report const plain = seed_report();
    CHECK_FALSE(
        Json::parse(render_json(plain, evaluate(plain, Expectations{}))).contains("envelope"));
    CHECK_FALSE(contains(render_text(plain, evaluate(plain, Expectations{})), "\nEnvelope"));
}
