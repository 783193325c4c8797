// evaluate() on hand-built Reports (unit/sample_reports.hpp): findings, checks, client
// predictions and the exit code of each situation, with the standard and the Nagios exit codes.

#include "diagnose/evaluate.hpp"
#include "unit/sample_reports.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

/// The check `id` of `v`, which must be there.
Check const& check(Verdict const& v, std::string const& id) {
    Check const* c = find_check(v, id);
    REQUIRE(c != nullptr);
    return *c;
}

} // namespace

TEST_CASE("evaluate: the seed case, LOGIN only after STARTTLS and PLAIN 504", "[unit][evaluate]") {
    Verdict const v = evaluate(seed_report(), Expectations{});

    Finding const* mismatch = find_finding(v, "auth.mechanism_mismatch");
    REQUIRE(mismatch != nullptr);
    CHECK(mismatch->severity == Severity::warning);
    CHECK(mismatch->title == "Only LOGIN is accepted, and only after STARTTLS; clients that send "
                             "AUTH PLAIN get 504 5.7.4");
    REQUIRE(mismatch->evidence.size() == 1);
    CHECK(mismatch->evidence[0] == "AUTH PLAIN: 504 5.7.4 Unrecognized authentication type");

    Finding const* after = find_finding(v, "auth.only_after_starttls");
    REQUIRE(after != nullptr);
    CHECK(after->severity == Severity::warning);
    REQUIRE(after->evidence.size() == 2);
    CHECK(after->evidence[0] == "before TLS: SIZE STARTTLS ENHANCEDSTATUSCODES 8BITMIME");
    CHECK(after->evidence[1] == "after TLS: AUTH LOGIN");

    // PLAIN is not advertised, so its 504 is no "advertised but refused" error; no credentials,
    // so no credential finding; a verified certificate with 200 days left: no TLS finding.
    CHECK(find_finding(v, "auth.advertised_but_refused") == nullptr);
    CHECK(find_finding(v, "auth.none") == nullptr);
    CHECK(find_finding(v, "auth.credentials_accepted") == nullptr);
    CHECK(find_finding(v, "session.failed") == nullptr);
    for (Finding const& f : v.findings) {
        CAPTURE(f.id);
        CHECK(f.severity != Severity::error);
        CHECK(f.id.rfind("tls.", 0) != 0);
    }

    // 504 and 501 are explained; 220, 250 and 334 are not.
    bool explained_504 = false;
    for (Explanation const& e : v.explanations) {
        CHECK(e.subject != "220");
        CHECK(e.subject != "334");
        explained_504 = explained_504 || e.subject == "504";
    }
    CHECK(explained_504);

    // The client predictions come from the same facts (diagnose/clients.cpp).
    ClientRow const* go = find_client(v, "Go net/smtp (PlainAuth)");
    REQUIRE(go != nullptr);
    CHECK(go->outcome == ClientOutcome::fails);
    CHECK(go->mechanism == "PLAIN");
    ClientRow const* python = find_client(v, "Python smtplib (login())");
    REQUIRE(python != nullptr);
    CHECK(python->outcome == ClientOutcome::works);
    CHECK(python->mechanism == "LOGIN");

    // Without expectations: the session and certificate checks, none of them expected.
    REQUIRE(v.checks.size() == 2);
    CHECK(v.checks[0].id == "session");
    CHECK(v.checks[0].status == CheckState::ok);
    CHECK(v.checks[0].message == "SMTP session with TLSv1.3");
    CHECK(v.checks[1].id == "certificate");
    CHECK(v.checks[1].status == CheckState::ok);
    CHECK(v.checks[1].message == "certificate expires in 200 days");
    CHECK_FALSE(v.checks[0].expected);
    CHECK_FALSE(v.checks[1].expected);
    CHECK(v.exit_code == exit_code::ok);
}

TEST_CASE("evaluate: --expect-auth PLAIN on the seed case fails the run", "[unit][evaluate]") {
    Expectations expect;
    expect.auth = {"PLAIN", "LOGIN", "XOAUTH2"};
    Verdict const v = evaluate(seed_report(), expect);

    Check const* plain = find_check(v, "auth.PLAIN");
    REQUIRE(plain != nullptr);
    CHECK(plain->expected);
    CHECK(plain->status == CheckState::critical);
    CHECK(plain->message == "PLAIN not recognised (504 5.7.4 Unrecognized authentication type)");
    Check const* login = find_check(v, "auth.LOGIN");
    REQUIRE(login != nullptr);
    CHECK(login->status == CheckState::ok);
    CHECK(login->message == "LOGIN recognised");
    // A mechanism that was not probed at all is unknown, not critical.
    Check const* xoauth = find_check(v, "auth.XOAUTH2");
    REQUIRE(xoauth != nullptr);
    CHECK(xoauth->status == CheckState::unknown);
    CHECK(xoauth->message == "XOAUTH2 was not probed");

    CHECK(v.exit_code == exit_code::problems);
    expect.nagios = true;
    CHECK(evaluate(seed_report(), expect).exit_code == static_cast<int>(CheckState::critical));
}

TEST_CASE("evaluate: credentials accepted", "[unit][evaluate]") {
    Expectations expect;
    expect.auth = {"LOGIN"};
    Verdict const v = evaluate(
        seed_report_with_credentials(reply(235, {"2.7.0 Authentication successful"})), expect);
    Finding const* accepted = find_finding(v, "auth.credentials_accepted");
    REQUIRE(accepted != nullptr);
    CHECK(accepted->severity == Severity::info);
    CHECK(accepted->title == "The credentials work with LOGIN");
    CHECK(find_finding(v, "auth.credentials_rejected") == nullptr);
    Check const* login = find_check(v, "auth.LOGIN");
    REQUIRE(login != nullptr);
    CHECK(login->status == CheckState::ok);
    CHECK(login->message == "LOGIN authenticates");
    CHECK(v.exit_code == exit_code::ok);
}

TEST_CASE("evaluate: credentials refused", "[unit][evaluate]") {
    Expectations expect;
    expect.auth = {"LOGIN"};
    Report const r =
        seed_report_with_credentials(reply(535, {"5.7.3 Authentication unsuccessful"}));
    Verdict const v = evaluate(r, expect);
    Finding const* rejected = find_finding(v, "auth.credentials_rejected");
    REQUIRE(rejected != nullptr);
    // Rejected by every mechanism tried: the user name or the password, an error.
    CHECK(rejected->severity == Severity::error);
    CHECK(rejected->title == "The credentials were rejected with LOGIN");
    REQUIRE(rejected->evidence.size() == 1);
    CHECK(rejected->evidence[0] == "AUTH LOGIN: 535 5.7.3 Authentication unsuccessful");
    CHECK(find_finding(v, "auth.credentials_accepted") == nullptr);

    Check const* login = find_check(v, "auth.LOGIN");
    REQUIRE(login != nullptr);
    CHECK(login->status == CheckState::critical);
    CHECK(login->message == "LOGIN rejected (535 5.7.3 Authentication unsuccessful)");
    // The unexpected error also shows as the "findings" check, as a warning.
    Check const* findings = find_check(v, "findings");
    REQUIRE(findings != nullptr);
    CHECK(findings->status == CheckState::warning);
    CHECK(findings->message == "The credentials were rejected with LOGIN");
    bool explained_535 = false;
    for (Explanation const& e : v.explanations)
        explained_535 = explained_535 || e.subject == "535";
    CHECK(explained_535);
    CHECK(v.exit_code == exit_code::problems);

    // The same refusal without --expect-auth still fails the run: an error finding.
    CHECK(evaluate(r, Expectations{}).exit_code == exit_code::problems);
}

TEST_CASE("evaluate: no session, with the fatal error as data", "[unit][evaluate]") {
    Verdict const v = evaluate(no_banner_report(), Expectations{});
    Finding const* failed = find_finding(v, "session.failed");
    REQUIRE(failed != nullptr);
    CHECK(failed->severity == Severity::error);
    CHECK(failed->title == "No SMTP session could be established");
    CHECK(failed->detail == "The probe stopped before AUTH could be tested: No banner within 10 "
                            "s: the TCP connection was accepted and 0 bytes arrived (a tarpit, "
                            "a firewall that accepts and drops, or an implicit-TLS port: see "
                            "above).");
    REQUIRE(failed->evidence.size() == 1);
    CHECK(failed->evidence[0] == "phase: banner, timeout, 0 bytes in 10000 ms");
    CHECK(v.clients.empty()); // no session, no prediction
    REQUIRE_FALSE(v.checks.empty());
    CHECK(v.checks[0].id == "session");
    CHECK(v.checks[0].status == CheckState::critical);
    CHECK(contains(v.checks[0].message, "No banner within 10 s"));
    // session.failed is the session check's business, not the "findings" check's.
    CHECK(find_check(v, "findings") == nullptr);
    CHECK(find_check(v, "certificate") == nullptr);
    CHECK(v.exit_code == exit_code::no_session);

    Expectations nagios;
    nagios.nagios = true;
    CHECK(evaluate(no_banner_report(), nagios).exit_code == static_cast<int>(CheckState::critical));
}

TEST_CASE("evaluate: an interrupted run is 130, UNKNOWN for Nagios", "[unit][evaluate]") {
    Report r = seed_report();
    r.interrupted = true;
    Verdict const v = evaluate(r, Expectations{});
    CHECK(v.exit_code == exit_code::interrupted);
    REQUIRE_FALSE(v.checks.empty());
    CHECK(v.checks[0].status == CheckState::unknown);
    CHECK(v.checks[0].message == "interrupted");
    CHECK(find_finding(v, "run.interrupted") != nullptr);
    Expectations nagios;
    nagios.nagios = true;
    CHECK(evaluate(r, nagios).exit_code == static_cast<int>(CheckState::unknown));
}

TEST_CASE("evaluate: a certificate near expiry against --cert-warn-days and --cert-crit-days",
          "[unit][evaluate]") {
    Expectations expect; // 30 and 7 days
    Expectations nagios = expect;
    nagios.nagios = true;

    SECTION("10 days: a warning; the run still exits 0, Nagios says WARNING") {
        Report r = seed_report();
        r.server.tls = verified_tls(10);
        Verdict const v = evaluate(r, expect);
        Finding const* expiring = find_finding(v, "tls.cert_expiring");
        REQUIRE(expiring != nullptr);
        CHECK(expiring->severity == Severity::warning);
        CHECK(expiring->title == "The certificate expires in 10 days (2027-06-30T12:00:00Z)");
        CHECK(contains(expiring->detail, "Fewer than 30 days (--cert-warn-days)"));
        Check const* cert = find_check(v, "certificate");
        REQUIRE(cert != nullptr);
        CHECK(cert->status == CheckState::warning);
        CHECK(cert->message == "certificate expires in 10 days");
        CHECK(v.exit_code == exit_code::ok);
        CHECK(evaluate(r, nagios).exit_code == static_cast<int>(CheckState::warning));
    }
    SECTION("3 days: an error; exit 1, Nagios says CRITICAL") {
        Report r = seed_report();
        r.server.tls = verified_tls(3);
        Verdict const v = evaluate(r, expect);
        Finding const* expiring = find_finding(v, "tls.cert_expiring");
        REQUIRE(expiring != nullptr);
        CHECK(expiring->severity == Severity::error);
        CHECK(contains(expiring->detail, "Fewer than 7 days (--cert-crit-days)"));
        CHECK(check(v, "certificate").status == CheckState::critical);
        CHECK(v.exit_code == exit_code::problems);
        CHECK(evaluate(r, nagios).exit_code == static_cast<int>(CheckState::critical));
    }
    SECTION("thresholds of 5 and 2 days make 10 days fine") {
        Report r = seed_report();
        r.server.tls = verified_tls(10);
        Expectations loose;
        loose.cert_warn_days = 5;
        loose.cert_crit_days = 2;
        Verdict const v = evaluate(r, loose);
        CHECK(find_finding(v, "tls.cert_expiring") == nullptr);
        CHECK(check(v, "certificate").status == CheckState::ok);
        CHECK(v.expectations.cert_warn_days == 5);
    }
    SECTION("an expired certificate is critical whatever the thresholds") {
        Report r = seed_report();
        r.server.tls = verified_tls(-4);
        Verdict const v = evaluate(r, expect);
        Check const* cert = find_check(v, "certificate");
        REQUIRE(cert != nullptr);
        CHECK(cert->status == CheckState::critical);
        CHECK(cert->message == "certificate expired 4 days ago");
    }
}

TEST_CASE("evaluate: the total time against --warning and --critical", "[unit][evaluate]") {
    Expectations expect;
    expect.warning_s = 2.0;
    expect.critical_s = 5.0;
    Expectations nagios = expect;
    nagios.nagios = true;
    struct Case {
        double total_ms;
        CheckState state;
        int exit;
        std::string message;
    };
    for (Case const& c :
         {Case{1999.0, CheckState::ok, exit_code::ok, "run took 1.999000 s"},
          Case{2000.0, CheckState::ok, exit_code::ok, "run took 2.000000 s"},
          Case{2500.0, CheckState::warning, exit_code::problems, "run took 2.500000 s"},
          Case{5000.5, CheckState::critical, exit_code::problems, "run took 5.000500 s"}}) {
        CAPTURE(c.total_ms);
        Report r = seed_report();
        r.total_ms = c.total_ms;
        Verdict const v = evaluate(r, expect);
        Check const* time = find_check(v, "time");
        REQUIRE(time != nullptr);
        CHECK(time->expected);
        CHECK(time->status == c.state);
        CHECK(time->message == c.message);
        CHECK(v.exit_code == c.exit);
        CHECK(evaluate(r, nagios).exit_code == static_cast<int>(c.state));
    }
    // Only --warning: never critical.
    Expectations warning_only;
    warning_only.warning_s = 0.1;
    Report r = seed_report();
    r.total_ms = 99000.0;
    Verdict const slow = evaluate(r, warning_only);
    CHECK(check(slow, "time").status == CheckState::warning);
    // Neither: no time check at all.
    CHECK(find_check(evaluate(r, Expectations{}), "time") == nullptr);
}

TEST_CASE("evaluate: --expect-starttls and --expect-tls-min", "[unit][evaluate]") {
    Expectations expect;
    expect.starttls = true;
    expect.tls_min = "1.2";
    Verdict const ok = evaluate(seed_report(), expect);
    CHECK(check(ok, "starttls").status == CheckState::ok);
    CHECK(check(ok, "tls_min").status == CheckState::ok);
    CHECK(check(ok, "tls_min").message == "TLSv1.3 >= TLSv1.2");
    CHECK(ok.exit_code == exit_code::ok);

    Report refused = seed_report();
    refused.tls_used = TlsMode::none;
    refused.server.starttls_reply = reply(454, {"4.7.0 TLS not available due to local problem"});
    refused.server.tls.reset();
    refused.server.after_tls.reset();
    Verdict const v = evaluate(refused, expect);
    CHECK(check(v, "starttls").status == CheckState::critical);
    CHECK(check(v, "starttls").message ==
          "STARTTLS refused (454 4.7.0 TLS not available due to local problem)");
    CHECK(check(v, "tls_min").message == "no TLS (expected at least TLS 1.2)");
    CHECK(find_finding(v, "starttls.refused") != nullptr);
    CHECK(v.exit_code == exit_code::problems);
}

TEST_CASE("nagios_state: CRITICAL > UNKNOWN > WARNING > OK", "[unit][evaluate]") {
    auto state = [](std::vector<CheckState> const& states) {
        std::vector<Check> checks;
        for (CheckState s : states)
            checks.push_back({"x", s, "", false});
        return nagios_state(checks);
    };
    CHECK(state({}) == CheckState::ok);
    CHECK(state({CheckState::ok, CheckState::ok}) == CheckState::ok);
    CHECK(state({CheckState::ok, CheckState::warning}) == CheckState::warning);
    CHECK(state({CheckState::warning, CheckState::unknown}) == CheckState::unknown);
    CHECK(state({CheckState::unknown, CheckState::warning}) == CheckState::unknown);
    CHECK(state({CheckState::critical, CheckState::unknown}) == CheckState::critical);
    CHECK(state({CheckState::unknown, CheckState::critical, CheckState::warning}) ==
          CheckState::critical);
}
