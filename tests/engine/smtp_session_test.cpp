// The emulator's SMTP session without sockets: bytes in, steps out.

#include "emulator/line_reader.hpp"
#include "emulator/profile.hpp"
#include "emulator/recorder.hpp"
#include "emulator/smtp_session.hpp"
#include "sasl/base64.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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
using smtpprobe::sasl::base64_encode;

/// The steps as one string: sent bytes as they are, the other steps as <TLS>, <CLOSE>,
/// <PAUSE ms>.
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
    SessionContext context{profile, options, recorder};
};

std::string const greeting = "220 mx.session.test ESMTP\r\n";

} // namespace

TEST_CASE("session: banner, EHLO with the client's address, pipelined commands", "[emulator]") {
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
          "[emulator]") {
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

TEST_CASE("session: STARTTLS asks for the handshake and drops pipelined plaintext", "[emulator]") {
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

TEST_CASE("session: AUTH LOGIN runs challenge by challenge", "[emulator]") {
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

TEST_CASE("session: AUTH answers \"*\", bad base64 and a wrong password", "[emulator]") {
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

TEST_CASE("session: implicit TLS starts with the handshake, then the banner", "[emulator]") {
    Fixture f(test_profile({{"tls", "implicit"}}));
    SmtpSession session(f.context, 1, "127.0.0.1");
    CHECK(show(session.start()) == "<TLS>");
    CHECK(show(session.receive("EHLO a.test\r\n")).empty()); // not before the handshake
    CHECK(show(session.tls_started()) == greeting);
}

TEST_CASE("session: a failed handshake is recorded and ends the session", "[emulator]") {
    Fixture f(test_profile({{"tls", "implicit"}}));
    SmtpSession session(f.context, 3, "127.0.0.1");
    session.start();
    session.tls_failed("wrong version number");
    CHECK(session.finished());
    CHECK(f.recorder.lines() ==
          std::vector<std::string>{"c3: [TLS handshake failed: wrong version number]"});
}

TEST_CASE("session: the idle timeout and over-long lines", "[emulator]") {
    Fixture f(test_profile());
    SmtpSession session(f.context, 1, "127.0.0.1");
    session.start();
    CHECK(show(session.receive(std::string(5000, 'x'))).empty());
    CHECK(show(session.receive(std::string(20000, 'x') + "\r\n")) == "500 5.5.2 Line too long\r\n");
    CHECK(show(session.timed_out()) ==
          "421 4.4.2 mx.session.test Error: timeout exceeded\r\n<CLOSE>");
    CHECK(session.finished());
}

TEST_CASE("LineReader: CRLF and LF, the bound, and what is left", "[emulator]") {
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
