// The profile behaviours for hostile and non-SMTP servers, multi-step scripted SASL, several
// ports, certificate kinds and the emulator's bounds, over real sockets.

#include "emulator/cert.hpp"
#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "smtp/base64.hpp"
#include "support/test_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <openssl/x509v3.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using smtpprobe::emulator::CertificateKind;
using smtpprobe::emulator::parse_profile;
using smtpprobe::emulator::Profile;
using smtpprobe::emulator::Server;
using smtpprobe::emulator::ServerOptions;
using smtpprobe::smtp::base64_encode;
using smtpprobe::test::hostile;
using smtpprobe::test::Running;
using smtpprobe::test::sample;
using smtpprobe::test::TestClient;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Profile profile_of(nlohmann::json document) {
    document["name"] = "behaviour-test";
    return parse_profile(document, "behaviour-test");
}

/// A plaintext server for one auth object, and a client past its banner.
struct AuthSession {
    explicit AuthSession(nlohmann::json const& auth)
        : running(profile_of({{"tls", "none"}, {"auth", auth}})), client(running.server.port()) {
        REQUIRE(client.reply().starts_with("220 "));
    }
    Running running;
    TestClient client;
};

milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

} // namespace

TEST_CASE("tarpit: nothing is said, the connection is held, then closed",
          "[engine][emulator][hostile]") {
    Running running(profile_of({{"tarpit_ms", 600}}));
    Clock::time_point const start = Clock::now();
    TestClient client(running.server.port());
    client.send_line("EHLO client.test"); // read and dropped
    CHECK(client.pending(milliseconds(300)).empty());
    CHECK(client.closed());
    CHECK(since(start) >= milliseconds(550));
    CHECK(running.server.received().empty());
}

TEST_CASE("tarpit: a client that leaves ends the hold at once", "[engine][emulator][hostile]") {
    Running running(hostile("tarpit.json")); // two minutes
    {
        TestClient client(running.server.port());
        CHECK(client.pending(milliseconds(100)).empty());
    }
    Clock::time_point const stopping = Clock::now();
    running.server.stop(); // would wait for a held connection if the hold had not ended
    CHECK(since(stopping) < milliseconds(1000));
}

TEST_CASE("banner_drip: the banner comes a few bytes at a time", "[engine][emulator][hostile]") {
    Running running(profile_of({{"banner_drip", {{"bytes", 5}, {"interval_ms", 60}}}}));
    Clock::time_point const start = Clock::now();
    TestClient client(running.server.port());
    std::string const first = client.pending(milliseconds(1000));
    CHECK(first == "220 l"); // "220 localhost ESMTP\r\n": 21 bytes, 5 pieces
    client.discard_pending();
    CHECK(client.reply() == "ocalhost ESMTP");
    CHECK(since(start) >= milliseconds(4 * 60 - 20));
    CHECK(client.command("NOOP") == "250 2.0.0 OK"); // the rest at full speed
}

TEST_CASE("slow-drip: one byte a second", "[engine][emulator][hostile]") {
    Running running(hostile("slow-drip.json"));
    TestClient client(running.server.port());
    CHECK(client.pending(milliseconds(500)) == "2");
    client.discard_pending();
    CHECK(client.pending(milliseconds(300)).empty());
    CHECK(client.pending(milliseconds(1200)) == "2");
}

TEST_CASE("tls_stall: STARTTLS gets 220, the ClientHello never gets an answer",
          "[engine][emulator][hostile]") {
    Running running(profile_of({{"tls_stall_ms", 800}, {"ehlo", {{"before_tls", {"STARTTLS"}}}}}));
    TestClient client(running.server.port());
    REQUIRE(client.reply() == "220 localhost ESMTP");
    REQUIRE(client.command("EHLO client.test") == "250-localhost\n250 STARTTLS");
    REQUIRE(client.command("STARTTLS") == "220 2.0.0 Ready to start TLS");
    Clock::time_point const start = Clock::now();
    CHECK_FALSE(client.try_tls(milliseconds(400)));
    CHECK(since(start) >= milliseconds(350)); // it waited: nothing came back
    CHECK(client.closed());                   // held until tls_stall_ms, then closed
    CHECK(since(start) < milliseconds(3000));
}

TEST_CASE("tls_stall with implicit TLS: accepted, never answered", "[engine][emulator][hostile]") {
    Running running(hostile("implicit-tls-stall.json"));
    TestClient client(running.server.port());
    Clock::time_point const start = Clock::now();
    CHECK_FALSE(client.try_tls(milliseconds(400)));
    CHECK(since(start) >= milliseconds(350));
    CHECK(running.server.received().empty());
}

TEST_CASE("plaintext-on-implicit-port: a 220 where the ServerHello should be",
          "[engine][emulator][hostile]") {
    Running running(hostile("plaintext-on-implicit-port.json"));
    {
        TestClient tls_client(running.server.port());
        CHECK_FALSE(tls_client.try_tls(milliseconds(2000))); // "wrong version number"
    }
    TestClient client(running.server.port());
    CHECK(client.reply() == "220 plain465.example.test ESMTP Postfix");
}

TEST_CASE("non-SMTP greeters: SSH, IMAP and POP3 greet, answer the first line, hang up",
          "[engine][emulator][hostile]") {
    struct Case {
        char const* file;
        char const* greeting;
        char const* answer;
    };
    Case const cases[] = {
        {"ssh-server.json", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
         "Invalid SSH identification string.\r\n"},
        {"imap-server.json", "* OK [CAPABILITY IMAP4rev1] ready\r\n",
         "* BAD Error in IMAP command received by server.\r\n"},
        {"pop3-server.json", "+OK POP3 ready\r\n", "-ERR Unknown command.\r\n"},
    };
    for (Case const& c : cases) {
        INFO(c.file);
        Running running(hostile(c.file));
        TestClient client(running.server.port());
        CHECK(client.pending(milliseconds(2000)) == c.greeting);
        client.discard_pending();
        client.send_line("EHLO client.test");
        CHECK(client.pending(milliseconds(2000)) == c.answer);
        client.discard_pending();
        CHECK(client.closed());
        CHECK(running.server.received() == std::vector<std::string>{"c1: EHLO client.test"});
    }
}

TEST_CASE("http-server: silent until a request line, then 400 and close",
          "[engine][emulator][hostile]") {
    Running running(hostile("http-server.json"));
    TestClient client(running.server.port());
    CHECK(client.pending(milliseconds(300)).empty());
    client.send_line("EHLO client.test");
    std::string const reply = client.pending(milliseconds(2000));
    CHECK(reply.starts_with("HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\n"));
    std::string const length = "Content-Length: ";
    std::size_t const at = reply.find(length);
    REQUIRE(at != std::string::npos);
    std::size_t const body = reply.find("\r\n\r\n");
    REQUIRE(body != std::string::npos);
    // The Content-Length is that of the body actually sent.
    CHECK(std::stoul(reply.substr(at + length.size())) == reply.size() - body - 4);
    client.discard_pending();
    CHECK(client.closed());
}

TEST_CASE("auth.challenges: NTLM type-1 gets the profile's type-2, type-3 the final reply",
          "[engine][emulator][auth]") {
    std::string const type1 = base64_encode("NTLMSSP\0\x01\0\0\0 type-1 stand-in");
    std::string const type2 = "TlRMTVNTUAACAAAADAAMADAAAAA1goni"; // stand-in for the real one
    std::string const type3 = base64_encode("NTLMSSP\0\x03\0\0\0 type-3 stand-in");
    nlohmann::json auth = {
        {"mechanisms", {"NTLM", "LOGIN"}},
        {"challenges", {{"NTLM", {"334 " + type2}}}},
        {"failure_replies", {{"NTLM", "535 5.7.3 Authentication unsuccessful"}}},
    };
    SECTION("without an initial response") {
        AuthSession session(auth);
        TestClient& client = session.client;
        CHECK(client.command("AUTH NTLM") == "334 ");
        CHECK(client.command(type1) == "334 " + type2);
        CHECK(client.command(type3) == "535 5.7.3 Authentication unsuccessful");
        CHECK(client.command("NOOP") == "250 2.0.0 OK");
    }
    SECTION("with the type-1 message on the AUTH line") {
        AuthSession session(auth);
        TestClient& client = session.client;
        CHECK(client.command("AUTH NTLM " + type1) == "334 " + type2);
        CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
    }
    SECTION("a final 235 authenticates") {
        auth["final_replies"] = {{"NTLM", "235 2.7.0 Authentication successful"}};
        AuthSession session(auth);
        TestClient& client = session.client;
        CHECK(client.command("AUTH NTLM " + type1) == "334 " + type2);
        CHECK(client.command(type3) == "235 2.7.0 Authentication successful");
        CHECK(client.command("AUTH LOGIN") == "503 5.5.1 Already authenticated");
    }
    SECTION("a line that is not base64 is malformed") {
        AuthSession session(auth);
        TestClient& client = session.client;
        CHECK(client.command("AUTH NTLM") == "334 ");
        CHECK(client.command("not base64!") == "501 5.5.2 Cannot decode response");
    }
}

TEST_CASE("{client_ip} is the real peer address", "[engine][emulator]") {
    Running running(sample("azure-acs.json"));
    TestClient client(running.server.port(), "127.0.0.2");
    REQUIRE(client.reply().starts_with("220 "));
    CHECK(client.command("EHLO client.test")
              .starts_with("250-smtp.azurecomm.net Hello "
                           "[127.0.0.2]\n"));
}

TEST_CASE("port_count: one server on several ports", "[engine][emulator]") {
    ServerOptions options;
    options.port_count = 3;
    Running running(sample("plaintext.json"), options);
    std::vector<unsigned short> const ports = running.server.ports();
    REQUIRE(ports.size() == 3);
    CHECK(ports.front() == running.server.port());
    CHECK(ports[0] != ports[1]);
    CHECK(ports[1] != ports[2]);
    for (unsigned short port : ports) {
        TestClient client(port);
        CHECK(client.reply().starts_with("220 plain.example.test"));
    }
    CHECK(running.server.connections_accepted() == 3);
    ServerOptions bad;
    bad.port_count = 0;
    CHECK_THROWS_AS(Server(sample("plaintext.json"), bad), std::runtime_error);
    bad.port_count = 2;
    bad.port = 65535;
    CHECK_THROWS_AS(Server(sample("plaintext.json"), bad), std::runtime_error);
}

TEST_CASE("certificate kinds: expired, self-signed, wrong host", "[engine][emulator][pki]") {
    struct Case {
        CertificateKind kind;
        long verify;
    };
    Case const cases[] = {
        {CertificateKind::valid, X509_V_OK},
        {CertificateKind::expired, X509_V_ERR_CERT_HAS_EXPIRED},
        {CertificateKind::self_signed, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT},
        {CertificateKind::wrong_host, X509_V_ERR_HOSTNAME_MISMATCH},
    };
    for (Case const& c : cases) {
        INFO(static_cast<int>(c.kind));
        ServerOptions options;
        options.certificate = c.kind;
        Running running(sample("implicit-tls.json"), options);
        TestClient client(running.server.port());
        // A self-signed leaf is its own CA: trusting it would verify it, so nothing is trusted.
        std::string const trusted =
            c.kind == CertificateKind::self_signed ? "" : running.server.ca_pem();
        CHECK(client.start_tls(trusted) == c.verify);
        CHECK(client.reply().starts_with("220 "));
    }
    // The profile's field, and the option overriding it.
    Profile expired = sample("implicit-tls.json");
    expired.behaviour.certificate = CertificateKind::expired;
    {
        Running running(expired);
        TestClient client(running.server.port());
        CHECK(client.start_tls(running.server.ca_pem()) == X509_V_ERR_CERT_HAS_EXPIRED);
    }
    ServerOptions valid;
    valid.certificate = CertificateKind::valid;
    Running running(expired, valid);
    TestClient client(running.server.port());
    CHECK(client.start_tls(running.server.ca_pem()) == X509_V_OK);
}

TEST_CASE("max_session bounds a connection that keeps talking", "[engine][emulator][bounds]") {
    ServerOptions options;
    options.max_session = milliseconds(400);
    Running running(sample("plaintext.json"), options);
    TestClient client(running.server.port());
    REQUIRE(client.reply().starts_with("220 "));
    Clock::time_point const start = Clock::now();
    std::string last;
    for (int i = 0; i < 50 && since(start) < milliseconds(3000); ++i) {
        last = client.command("NOOP");
        if (!last.starts_with("250")) {
            break;
        }
        std::this_thread::sleep_for(milliseconds(50));
    }
    CHECK(last == "421 4.4.2 plain.example.test Error: timeout exceeded");
    CHECK(client.closed());
    CHECK(since(start) < milliseconds(1500));
}

TEST_CASE("robustness: garbage, endless lines, abrupt and half-TLS clients",
          "[engine][emulator][bounds]") {
    ServerOptions options;
    options.idle_timeout = milliseconds(1500);
    Running running(sample("postfix-submission.json"), options);
    {
        TestClient garbage(running.server.port());
        REQUIRE(garbage.reply().starts_with("220 "));
        std::string bytes;
        for (int i = 0; i < 4096; ++i) {
            bytes += static_cast<char>((i * 131) % 256);
        }
        garbage.send_raw(bytes + "\r\n");
        CHECK(garbage.pending(milliseconds(1000)).starts_with("5"));
    }
    {
        TestClient endless(running.server.port());
        REQUIRE(endless.reply().starts_with("220 "));
        std::string const chunk(64 * 1024, 'A');
        for (int i = 0; i < 32; ++i) { // 2 MiB without a line end
            endless.send_raw(chunk);
        }
        endless.send_raw("\r\n");
        CHECK(endless.reply() == "500 5.5.2 Error: line too long"); // Postfix's wording
    }
    {
        TestClient half_tls(running.server.port());
        REQUIRE(half_tls.reply().starts_with("220 "));
        REQUIRE(half_tls.command("EHLO client.test").starts_with("250"));
        REQUIRE(half_tls.command("STARTTLS").starts_with("220 "));
        // The first bytes of a TLS record header, then gone.
        half_tls.send_raw(std::string("\x16\x03\x01\x02\x00\x01", 6));
        half_tls.drop();
    }
    {
        TestClient abrupt(running.server.port());
        abrupt.send_line("EHLO client.test");
        abrupt.drop();
    }
    // The server still serves, and stops promptly.
    TestClient client(running.server.port());
    REQUIRE(client.reply().starts_with("220 "));
    CHECK(client.command("NOOP") == "250 2.0.0 Ok");
    // The half-TLS connection's thread records its failed handshake on its own time.
    bool handshake_failed = false;
    for (int i = 0; i < 100 && !handshake_failed; ++i) {
        for (std::string const& line : running.server.received()) {
            handshake_failed = handshake_failed || line.starts_with("c3: [TLS handshake failed: ");
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    CHECK(handshake_failed);
    Clock::time_point const stopping = Clock::now();
    running.server.stop();
    CHECK(since(stopping) < milliseconds(2000));
}
