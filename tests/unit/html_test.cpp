// The HTML report (render/html.hpp) on hand-built Reports: the escaper, the page's shape (CSP,
// no script, the sections in the order), a hostile server's bytes, the timeline and
// the batch page.

#include "render/html.hpp"
#include "render/render.hpp"
#include "session/redactor.hpp"
#include "unit/sample_reports.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

std::size_t count(std::string const& text, std::string const& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
        ++n;
    return n;
}

/// What a hostile server could put in a banner, a reply, an EHLO line and a certificate.
std::string const script = "<script>document.title='pwned'</script>";
std::string const onerror = "\"><img src=x onerror=alert(1)>";
std::string const js_link = "<a href=\"javascript:alert(1)\">x</a>";
std::string const escapes = "\x1b[2J\x1b]0;owned\x07\xc2\x9b"
                            "2J";

Report hostile_html_report() {
    Report r = seed_report();
    r.host = "mx" + script + ".example.test";
    r.server.banner = reply(220, {"mx.example.test " + script + " " + onerror + " " + escapes});
    r.server.ehlo_reply = reply(250, {"mx.example.test " + onerror, "X-JS " + js_link});
    r.server.before_tls = smtp::parse_capabilities(*r.server.ehlo_reply);
    r.server.tls->chain.front().subject = "CN=" + script + onerror;
    r.rows.front().recognition.reply = reply(504, {"5.5.4 " + script + " " + js_link + escapes});
    return r;
}

} // namespace

TEST_CASE("html_escape: the five characters, control bytes visible, bytes that are not UTF-8 too",
          "[unit][html]") {
    CHECK(html_escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    CHECK(html_escape(script) == "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;");
    CHECK(html_escape("\x1b[2J") == "\\x1B[2J");
    CHECK(html_escape("bell\x07 del\x7f") == "bell\\x07 del\\x7F");
    CHECK(html_escape("\xc2\x9b"
                      "2J") == "\\xC2\\x9B2J"); // the one-byte CSI
    CHECK(html_escape("line\nnext") == "line\nnext");
    CHECK(html_escape("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93"); // UTF-8 kept
    CHECK(html_escape("bad \xff\xc3") == "bad \\xFF\\xC3");
    CHECK(html_escape("\xed\xa0\x80") == "\\xED\\xA0\\x80"); // a surrogate is not UTF-8
}

TEST_CASE("render_html: one self-contained page, no script, the CSP, in the issue's order",
          "[unit][html]") {
    Report r = seed_report_with_credentials(reply(535, {"5.7.8 Authentication failed"}));
    Verdict const v = evaluate(r, {});
    std::string const page = render_html(r, v, "[+0 ms] #1 <- 220 hello\n");
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(contains(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                         "'none'; style-src 'unsafe-inline'"));
    CHECK(contains(page, "name=\"viewport\""));
    CHECK(contains(page, "@media print"));
    CHECK_FALSE(contains(page, "<script"));
    CHECK_FALSE(contains(page, " src=")); // nothing to fetch
    CHECK_FALSE(contains(page, "<link"));
    CHECK_FALSE(contains(page, "url("));
    // The sections, in order.
    std::size_t last = 0;
    for (std::string const heading :
         {"class=\"verdict", "<h2>AUTH mechanisms", "<h2>Findings", "<h2>Certificate chain",
          "<h2>Client libraries", "<h2>Codes seen", "<h2>Timeline", "<h2>Transcript"}) {
        INFO(heading);
        std::size_t const at = page.find(heading);
        REQUIRE(at != std::string::npos);
        CHECK(at > last);
        last = at;
    }
    // One matrix row per mechanism, coloured by its verdict: LOGIN's credentials refused.
    CHECK(count(page, "<tr class=\"") == r.rows.size());
    CHECK(contains(page, "<tr class=\"refused\"><td><code>LOGIN</code>"));
    CHECK(contains(page, "credentials refused"));
    CHECK(contains(page, "Exit code 1:"));
    CHECK(contains(page, "<details><summary>"));
    CHECK(contains(page, "#1 &lt;- 220 hello"));
}

TEST_CASE("render_html: a hostile server's markup and escapes are text", "[unit][html]") {
    Report const r = hostile_html_report();
    std::string const page = render_html(r, evaluate(r, {}));
    CHECK_FALSE(contains(page, "<script"));
    CHECK_FALSE(contains(page, "<img"));
    CHECK_FALSE(contains(page, "<a href"));
    CHECK_FALSE(contains(page, "\x1b"));
    CHECK_FALSE(contains(page, "\x07"));
    CHECK_FALSE(contains(page, "\xc2\x9b"));
    CHECK(contains(page, "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    CHECK(contains(page, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    CHECK(contains(page, "\\x1B[2J\\x1B]0;owned\\x07\\xC2\\x9B2J"));
    // The host in the title and the certificate's subject in its card.
    CHECK(contains(page, "<title>smtpprobe: mx&lt;script&gt;"));
    CHECK(contains(page, "<h3>#0 CN=&lt;script&gt;"));
}

TEST_CASE("render_html: the envelope's steps, their replies escaped, and whether mail went out",
          "[unit][html]") {
    Report r = seed_report();
    Envelope e;
    e.connection = 5;
    e.authenticated = true;
    e.mechanism = "LOGIN";
    e.mail_from = "a@example.test";
    e.rcpt = {"b@example.test"};
    e.steps = {{EnvelopeStep::Kind::mail, "<a@example.test>",
                reply(553, {"5.7.1 <a@example.test>: " + script + " not owned " + escapes}), "", "",
                ""},
               {EnvelopeStep::Kind::rset, "", reply(250, {"2.0.0 Ok"}), "", "", ""},
               {EnvelopeStep::Kind::quit, "", std::nullopt, "", "", ""}};
    r.envelope = e;
    Verdict const v = evaluate(r, {});
    REQUIRE(v.envelope);
    std::string page = render_html(r, v);
    REQUIRE(contains(page, "<h2>Envelope</h2>"));
    CHECK(contains(page, "Connection 5, after AUTH LOGIN; no DATA: no message was sent."));
    CHECK(contains(page, "<tr class=\"refused\"><td><code>MAIL FROM &lt;a@example.test&gt;"));
    CHECK(contains(page, "<tr class=\"recognised\"><td><code>RSET</code>"));
    CHECK(contains(page, "<td class=\"reply\">(no reply)</td>"));
    CHECK(contains(page, "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; not owned"));
    CHECK_FALSE(contains(page, "<script"));
    CHECK_FALSE(contains(page, "\x1b"));
    CHECK_FALSE(contains(page, "WAS SENT"));
    // Ordered after the findings, before the chain.
    CHECK(page.find("<h2>Findings</h2>") < page.find("<h2>Envelope</h2>"));
    CHECK(page.find("<h2>Envelope</h2>") < page.find("<h2>Certificate chain</h2>"));

    // --send: the first thing the section says is that a message went out, and to whom.
    r.envelope->send_requested = true;
    r.envelope->message_sent = true;
    r.envelope->recipients = {"b@example.test"};
    r.envelope->queue_id = "4XyZ";
    r.envelope->message_bytes = 728;
    r.envelope->message_built = true;
    page = render_html(r, evaluate(r, {}));
    CHECK(contains(page, "<p class=\"mark\">A test message WAS SENT to b@example.test, queued as "
                         "4XyZ (728 bytes, built by smtpprobe).</p>"));
}

TEST_CASE("render_html: the timeline has a lane per connection and labelled bars", "[unit][html]") {
    Report r = seed_report();
    r.connection_timings = {
        {1,
         {{TimedStep::connect, {}, 1.0, 12.0},
          {TimedStep::banner, {}, 13.0, 40.0},
          {TimedStep::auth, "LOGIN", 60.0, 300.0}}},
        {2, {{TimedStep::connect, {}, 2.0, 11.0}, {TimedStep::auth, "PLAIN", 20.0, 15.0}}},
    };
    std::string const page = render_html(r, evaluate(r, {}));
    CHECK(count(page, "<rect ") == 5);
    CHECK(contains(page, ">#1</text>"));
    CHECK(contains(page, ">#2</text>"));
    CHECK(contains(page, "<title>AUTH LOGIN 300 ms</title>"));
    CHECK(contains(page, "<title>banner 40 ms</title>"));
    // The axis ends at the last step's end: 360 ms.
    CHECK(contains(page, ">360 ms</text>"));
}

TEST_CASE("render_json: connection_timings and started_at, additive", "[unit][html]") {
    Report r = seed_report();
    r.started_at = 86400;
    r.connection_timings = {
        {2, {{TimedStep::tls_handshake, {}, 30.04, 12.26}, {TimedStep::auth, "PLAIN", 50.0, 3.0}}}};
    nlohmann::json const doc = nlohmann::json::parse(render(Format::json, r, evaluate(r, {})));
    CHECK(doc["started_at"] == "1970-01-02T00:00:00Z");
    nlohmann::json const& c = doc["connection_timings"].at(0);
    CHECK(c["connection"] == 2);
    CHECK(c["timings_ms"].at(0)["step"] == "tls_handshake");
    CHECK(c["timings_ms"].at(0)["mechanism"].is_null());
    CHECK(c["timings_ms"].at(0)["start"] == 30.0);
    CHECK(c["timings_ms"].at(0)["ms"] == 12.3);
    CHECK(c["timings_ms"].at(1)["mechanism"] == "PLAIN");
    Report const none = seed_report();
    nlohmann::json const plain =
        nlohmann::json::parse(render(Format::json, none, evaluate(none, {})));
    CHECK(plain["connection_timings"].empty());
    CHECK(plain["started_at"].is_null());
}

TEST_CASE("Redactor::redact_html: a secret's escaped form, the marker escaped", "[unit][html]") {
    Redactor redactor;
    redactor.add_secret("pa<ss&word'1", "password");
    std::string const page = "<p>" + html_escape("user pa<ss&word'1 here") + "</p>";
    CHECK(redactor.redact_html(page) == "<p>user &lt;redacted password&gt; here</p>");
}

TEST_CASE("render_html through render(): the html format", "[unit][html]") {
    CHECK(parse_format("html") == Format::html);
    CHECK(to_string(Format::html) == "html");
    Report const r = seed_report();
    CHECK(contains(render(Format::html, r, evaluate(r, {})), "<h2>AUTH mechanisms"));
}

TEST_CASE("render_html_batch: a summary row per target linking to its article", "[unit][html]") {
    Report const good = seed_report();
    Report const bad = no_banner_report();
    std::vector<std::string> const rows = {
        html_summary_row("mail.example.test:587", "target-1", good, evaluate(good, {})),
        html_summary_row("a<b>.example.test:25", "target-2", bad, evaluate(bad, {}))};
    std::vector<std::string> const articles = {
        render_html_article(good, evaluate(good, {}), "", "target-1"),
        render_html_article(bad, evaluate(bad, {}), "", "target-2")};
    std::string const page = render_html_batch(rows, articles, 1);
    CHECK(count(page, "<article id=\"target-") == 2);
    CHECK(contains(page, "<a href=\"#target-1\">mail.example.test:587</a>"));
    CHECK(contains(page, "a&lt;b&gt;.example.test:25"));
    CHECK(contains(page, "1 target(s) not started"));
    CHECK(page.find("<table class=\"summary\">") < page.find("<article"));
}

TEST_CASE("render_html: --all-addresses marks what differs between the addresses", "[unit][html]") {
    Report r = seed_report();
    AddressProbe a;
    a.address = "192.0.2.25";
    a.session_established = true;
    a.banner = reply(220, {"mx1.example.test ESMTP"});
    a.tls = verified_tls();
    a.rows = r.rows;
    AddressProbe b = a;
    b.address = "192.0.2.26";
    b.banner = reply(220, {"mx2.example.test ESMTP"});
    r.addresses = {a.address, b.address};
    r.address_probes = {a, b};
    std::string const page = render_html(r, evaluate(r, {}));
    CHECK(contains(page, "<h2>Addresses"));
    CHECK(count(page, "<td class=\"differs\">") == 2); // the two banner hosts only
    CHECK(contains(page, "<td class=\"differs\">mx2.example.test</td>"));
}
