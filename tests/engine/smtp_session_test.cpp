// The emulator's SMTP session without sockets: bytes in, steps out.

#include "emulator/line_reader.hpp"
#include "emulator/profile.hpp"
#include "emulator/recorder.hpp"
#include "emulator/smtp_session.hpp"
#include "smtp/base64.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace {

using smtpprobe::emulator::LineReader;
using smtpprobe::emulator::parse_profile;
using smtpprobe::emulator::Profile;
using smtpprobe::emulator::Recorder;
using smtpprobe::emulator::SessionContext;
using smtpprobe::emulator::SmtpSession;
using smtpprobe::emulator::Step;
using smtpprobe::smtp::base64_encode;

/// The steps as one string: sent bytes as they are, the other steps as <TLS>, <CLOSE>,
/// <PAUSE ms>, <HOLD ms>.
std::string show(std::vector<Step> const& steps) {
    std::string out;
    for (Step const& step : steps) {
        switch (step.kind) {
        case Step::Kind::send:
            out += step.bytes;
            break;
        case Step::Kind::pause:
            out += "<PAUSE " + std::to_string(step.duration.count()) + ">";
            break;
        case Step::Kind::start_tls:
            out += "<TLS>";
            break;
        case Step::Kind::hold:
            out += "<HOLD " + std::to_string(step.duration.count()) + ">";
            break;
        case Step::Kind::close:
            out += "<CLOSE>";
            break;
        }
    }
    return out;
}

Profile test_profile(nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json document = {
        {"name", "session-test"},
        {"hostname", "mx.session.test"},
        {"ehlo",
         {{"greeting", "{hostname} Hello [{client_ip}]"},
          {"before_tls", {"STARTTLS"}},
          {"after_tls", {"AUTH PLAIN LOGIN"}}}},
        {"auth",
         {{"mechanisms", {"PLAIN", "LOGIN"}},
          {"accounts", {{{"user", "alice"}, {"password", "test-only-pw"}}}}}},
        {"delays_ms", {{"NOOP", 25}}},
    };
    document.update(extra);
    return parse_profile(document, "session-test");
}

struct Fixture {
    explicit Fixture(Profile p) : profile(std::move(p)) {
        options.hostname = profile.hostname;
        options.accounts = profile.auth.accounts;
    }
    Profile profile;
    smtpprobe::sasl::ServerOptions options;
    Recorder recorder;
    std::function<std::int64_t()> clock; // none: the system clock
    SessionContext context{profile, options, recorder, clock};
};

std::string const greeting = "220 mx.session.test ESMTP\r\n";

} // namespace

TEST_CASE("session: banner, EHLO with the client's address, pipelined commands",
          "[engine][emulator]") {
    Fixture f(test_profile());
    SmtpSession session(f.context, 1, "127.0.0.2");
    CHECK(show(session.start()) == greeting);
    CHECK(show(session.receive("EHLO a.test\r\nNOOP\r\nRSET\r\n")) ==
          "250-mx.session.test Hello [127.0.0.2]\r\n250 STARTTLS\r\n<PAUSE 25>250 2.0.0 OK\r\n"
          "250 2.0.0 OK\r\n");
    CHECK(session.lines_consumed() == 3);
    CHECK(show(session.receive("QUIT\r\nNOOP\r\n")) == "221 2.0.0 Bye\r\n<CLOSE>");
    CHECK(session.finished());
    CHECK(show(session.receive("NOOP\r\n")).empty());
    CHECK(f.recorder.lines() ==
          std::vector<std::string>{"c1: EHLO a.test", "c1: NOOP", "c1: RSET", "c1: QUIT"});
}

TEST_CASE("session: the same conversation split at every offset gives the same replies",
          "[engine][emulator]") {
    std::string const client = "EHLO a.test\r\nHELO b.test\nMAIL FROM:<a@b>\r\nDATA\r\nx\r\n"
                               ".\r\nVRFY x\r\nQUIT\r\n";
    Fixture f(test_profile());
    SmtpSession whole(f.context, 1, "127.0.0.1");
    std::string const expected = show(whole.start()) + show(whole.receive(client));
    REQUIRE(expected.ends_with("221 2.0.0 Bye\r\n<CLOSE>"));
    for (std::size_t cut = 1; cut < client.size(); ++cut) {
        SmtpSession split(f.context, 2, "127.0.0.1");
        std::string got = show(split.start());
        got += show(split.receive(std::string_view(client).substr(0, cut)));
        got += show(split.receive(std::string_view(client).substr(cut)));
        CHECK(got == expected);
    }
}

TEST_CASE("session: STARTTLS asks for the handshake and drops pipelined plaintext",
          "[engine][emulator]") {
    Fixture f(test_profile());
    SmtpSession session(f.context, 1, "127.0.0.1");
    session.start();
    session.receive("EHLO a.test\r\n");
    CHECK(show(session.receive("STARTTLS\r\nAUTH PLAIN x\r\n")) ==
          "220 2.0.0 Ready to start TLS\r\n<TLS>");
    CHECK(!session.tls_active());
    CHECK(show(session.tls_started()).empty());
    CHECK(session.tls_active());
    // RFC 3207 §4.2: the EHLO before TLS is forgotten; the capabilities are the TLS ones.
    CHECK(show(session.receive("EHLO a.test\r\n")) ==
          "250-mx.session.test Hello [127.0.0.1]\r\n250 AUTH PLAIN LOGIN\r\n");
    std::vector<std::string> const lines = f.recorder.lines();
    CHECK(lines.at(2) == "c1: [discarded after STARTTLS] AUTH PLAIN x");
}

TEST_CASE("session: AUTH LOGIN runs challenge by challenge", "[engine][emulator]") {
    Fixture f(test_profile({{"tls", "none"}}));
    SmtpSession session(f.context, 1, "127.0.0.1");
    session.start();
    session.receive("EHLO a.test\r\n");
    CHECK(show(session.receive("AUTH LOGIN\r\n")) == "334 " + base64_encode("Username:") + "\r\n");
    CHECK(show(session.receive(base64_encode("alice") + "\r\n")) ==
          "334 " + base64_encode("Password:") + "\r\n");
    CHECK(show(session.receive(base64_encode("test-only-pw") + "\r\n")) ==
          "235 2.7.0 Authentication successful\r\n");
    CHECK(show(session.receive("AUTH PLAIN\r\n")) == "503 5.5.1 Already authenticated\r\n");
}

TEST_CASE("session: AUTH answers \"*\", bad base64 and a wrong password", "[engine][emulator]") {
    Fixture f(test_profile({{"tls", "none"}}));
    SmtpSession session(f.context, 1, "127.0.0.1");
    session.start();
    session.receive("EHLO a.test\r\n");
    CHECK(show(session.receive("AUTH PLAIN\r\n*\r\n")) ==
          "334 \r\n501 5.7.0 Authentication cancelled\r\n");
    CHECK(show(session.receive("AUTH PLAIN\r\n!!\r\n")) ==
          "334 \r\n501 5.5.2 Cannot decode response\r\n");
    CHECK(show(session.receive("AUTH PLAIN " + base64_encode(std::string("\0alice\0no", 9)) +
                               "\r\n")) == "535 5.7.8 Authentication credentials invalid\r\n");
}

TEST_CASE("session: implicit TLS starts with the handshake, then the banner",
          "[engine][emulator]") {
    Fixture f(test_profile({{"tls", "implicit"}}));
    SmtpSession session(f.context, 1, "127.0.0.1");
    CHECK(show(session.start()) == "<TLS>");
    CHECK(show(session.receive("EHLO a.test\r\n")).empty()); // not before the handshake
    CHECK(show(session.tls_started()) == greeting);
}

TEST_CASE("session: a failed handshake is recorded and ends the session", "[engine][emulator]") {
    Fixture f(test_profile({{"tls", "implicit"}}));
    SmtpSession session(f.context, 3, "127.0.0.1");
    session.start();
    session.tls_failed("wrong version number");
    CHECK(session.finished());
    CHECK(f.recorder.lines() ==
          std::vector<std::string>{"c3: [TLS handshake failed: wrong version number]"});
}

TEST_CASE("session: the idle timeout and over-long lines", "[engine][emulator]") {
    Fixture f(test_profile());
    SmtpSession session(f.context, 1, "127.0.0.1");
    session.start();
    CHECK(show(session.receive(std::string(5000, 'x'))).empty());
    CHECK(show(session.receive(std::string(20000, 'x') + "\r\n")) == "500 5.5.2 Line too long\r\n");
    CHECK(show(session.timed_out()) ==
          "421 4.4.2 mx.session.test Error: timeout exceeded\r\n<CLOSE>");
    CHECK(session.finished());
}

TEST_CASE("LineReader: CRLF and LF, the bound, and what is left", "[engine][emulator]") {
    LineReader reader(10, 4);
    reader.feed("ab\r\ncd\nef");
    CHECK(reader.next()->text == "ab");
    CHECK(reader.next()->text == "cd");
    CHECK(!reader.next());
    reader.feed(std::string(100, 'y'));
    reader.feed("z\r\nok\r\n");
    std::optional<LineReader::Line> const long_line = reader.next();
    REQUIRE(long_line);
    CHECK(long_line->too_long);
    CHECK(long_line->text == "efyy");
    CHECK(reader.next()->text == "ok");
    reader.feed("rest");
    CHECK(reader.take_buffered() == "rest");
}

TEST_CASE("session: tarpit, drip, TLS stall and raw greeters as steps",
          "[engine][emulator][hostile]") {
    SECTION("a tarpit holds from the start") {
        Fixture f(test_profile({{"tarpit_ms", 500}}));
        SmtpSession session(f.context, 1, "127.0.0.1");
        CHECK(show(session.start()) == "<HOLD 500>");
        CHECK(session.finished());
    }
    SECTION("a drip-fed banner, then replies at full speed") {
        Fixture f(test_profile({{"banner_drip", {{"bytes", 8}, {"interval_ms", 40}}}}));
        SmtpSession session(f.context, 1, "127.0.0.1");
        CHECK(show(session.start()) ==
              "220 mx.s<PAUSE 40>ession.t<PAUSE 40>est ESMT<PAUSE 40>P\r\n");
        CHECK(show(session.receive("RSET\r\n")) == "250 2.0.0 OK\r\n");
    }
    SECTION("every_reply drips the replies too") {
        Fixture f(test_profile(
            {{"banner_drip", {{"bytes", 10}, {"interval_ms", 0}, {"every_reply", true}}}}));
        SmtpSession session(f.context, 1, "127.0.0.1");
        session.start();
        std::vector<Step> const steps = session.receive("RSET\r\n");
        REQUIRE(steps.size() == 2); // "250 2.0.0 ", "OK\r\n" (a zero pause is no step)
        CHECK(steps[0].bytes == "250 2.0.0 ");
        CHECK(steps[1].bytes == "OK\r\n");
    }
    SECTION("STARTTLS with a stall: 220, then a hold instead of the handshake") {
        Fixture f(test_profile({{"tls_stall_ms", 700}}));
        SmtpSession session(f.context, 1, "127.0.0.1");
        session.start();
        CHECK(show(session.receive("STARTTLS\r\n")) ==
              "220 2.0.0 Ready to start TLS\r\n<HOLD 700>");
    }
    SECTION("implicit TLS with a stall holds before any byte") {
        Fixture f(test_profile({{"tls", "implicit"}, {"tls_stall_ms", 700}}));
        SmtpSession session(f.context, 1, "127.0.0.1");
        CHECK(show(session.start()) == "<HOLD 700>");
    }
    SECTION("a raw greeter answers the first line and closes") {
        Fixture f(test_profile(
            {{"greeting_raw", "+OK {hostname} ready\r\n"}, {"after_first_line", "-ERR no\r\n"}}));
        SmtpSession session(f.context, 1, "127.0.0.9");
        CHECK(show(session.start()) == "+OK mx.session.test ready\r\n");
        CHECK(show(session.receive("EHL")).empty());
        CHECK(show(session.receive("O a.test\r\nQUIT\r\n")) == "-ERR no\r\n<CLOSE>");
        CHECK(f.recorder.lines() == std::vector<std::string>{"c1: EHLO a.test"});
    }
    SECTION("a raw greeter without after_first_line ignores what it gets") {
        Fixture f(test_profile({{"greeting_raw", ""}}));
        SmtpSession session(f.context, 1, "127.0.0.1");
        CHECK(show(session.start()).empty());
        CHECK(show(session.receive("GET / HTTP/1.1\r\n\r\n")).empty());
        CHECK(!session.finished());
    }
}

TEST_CASE("profile: behaviour fields are checked", "[engine][emulator][profile]") {
    auto error = [](nlohmann::json extra) {
        try {
            test_profile(std::move(extra));
        } catch (std::runtime_error const& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error({{"tarpit_ms", -1}}) == "session-test: tarpit_ms: must be between 0 and 3600000");
    CHECK(error({{"tls", "none"}, {"tls_stall_ms", 10}}) ==
          "session-test: tls_stall_ms: needs tls \"starttls\" or \"implicit\"");
    CHECK(error({{"after_first_line", "x"}}) ==
          "session-test: after_first_line: goes with greeting_raw");
    CHECK(error({{"greeting_raw", "x"}, {"banner", "220 x"}}) ==
          "session-test: greeting_raw: replaces the banner: give one of them");
    CHECK(error({{"certificate", "stale"}}).starts_with("session-test: certificate: expected"));
    CHECK(error({{"banner_drip", {{"bytes", 0}}}}) ==
          "session-test: banner_drip.bytes: must be between 1 and 65536");
    CHECK(error({{"auth", {{"challenges", {{"NTLM", "334 x"}}}}}}) ==
          "session-test: auth.challenges.NTLM: expected an array of at most 16 replies");
}
