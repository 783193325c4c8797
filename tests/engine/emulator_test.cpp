#include "emulator/server.hpp"

#include "emulator/cert.hpp"
#include "emulator/profile.hpp"
#include "net/openssl_ptr.hpp"
#include "smtp/base64.hpp"
#include "support/test_client.hpp"

#include "sasl/ntlm_auth.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using smtpprobe::emulator::AuthProfile;
using smtpprobe::emulator::CertSpec;
using smtpprobe::emulator::load_profile;
using smtpprobe::emulator::make_pki;
using smtpprobe::emulator::parse_profile;
using smtpprobe::emulator::Pki;
using smtpprobe::emulator::Profile;
using smtpprobe::emulator::render_reply;
using smtpprobe::emulator::Server;
using smtpprobe::emulator::ServerOptions;
using smtpprobe::smtp::base64_decode;
using smtpprobe::smtp::base64_encode;

using smtpprobe::net::BioPtr;
using smtpprobe::net::CertPtr;
using smtpprobe::test::read_certs;
using smtpprobe::test::Running;
using smtpprobe::test::sample;
using smtpprobe::test::samples_dir;
using smtpprobe::test::TestClient;

std::string b64(std::string const& text) {
    return base64_encode(text);
}

/// RFC 4616 message with an empty authzid.
std::string plain(std::string const& user, std::string const& password) {
    return std::string(1, '\0') + user + std::string(1, '\0') + password;
}

/// Connects, reads the banner, EHLO, STARTTLS, handshake and EHLO again.
void to_tls(TestClient& client, Server const& server) {
    REQUIRE(client.reply().starts_with("220 "));
    REQUIRE(client.command("EHLO client.test").starts_with("250"));
    REQUIRE(client.command("STARTTLS").starts_with("220 "));
    REQUIRE(client.start_tls(server.ca_pem()) == X509_V_OK);
    REQUIRE(client.command("EHLO client.test").starts_with("250"));
}

/// A stored profile reply as TestClient::reply() returns it.
std::string expected(Profile const& profile, std::string const& reply) {
    std::string wire = render_reply(reply, profile.hostname, "127.0.0.1");
    std::string text;
    for (std::size_t start = 0; start < wire.size();) {
        std::size_t const end = wire.find("\r\n", start);
        text += (text.empty() ? "" : "\n") + wire.substr(start, end - start);
        start = end + 2;
    }
    return text;
}

/// Banner, EHLO, and STARTTLS + EHLO when the profile offers and accepts it. True when TLS is up.
bool to_ready(TestClient& client, Server const& server) {
    Profile const& profile = server.profile();
    if (profile.tls == smtpprobe::emulator::TlsMode::implicit) {
        REQUIRE(client.start_tls(server.ca_pem()) == X509_V_OK);
    }
    REQUIRE(client.reply() == expected(profile, profile.banner));
    std::string const ehlo = client.command("EHLO client.test");
    REQUIRE(ehlo.starts_with("250"));
    if (profile.tls != smtpprobe::emulator::TlsMode::starttls ||
        ehlo.find("STARTTLS") == std::string::npos) {
        return profile.tls == smtpprobe::emulator::TlsMode::implicit;
    }
    if (!client.command("STARTTLS").starts_with("220 ")) {
        return false;
    }
    if (!profile.starttls_inject.empty()) {
        CHECK(client.pending(std::chrono::milliseconds(500)) == profile.starttls_inject);
        client.discard_pending();
    }
    REQUIRE(client.start_tls(server.ca_pem()) == X509_V_OK);
    std::string const again = client.command("EHLO client.test");
    REQUIRE(again.starts_with("250"));
    CHECK(again.find("STARTTLS") == std::string::npos);
    return true;
}

bool listed(std::vector<std::string> const& list, std::string const& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

long long days_from_now(ASN1_TIME const* time) {
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, time) == 1);
    return days;
}

long verify(Pki const& pki, bool trust_ca) {
    std::vector<CertPtr> chain = read_certs(pki.chain_pem);
    REQUIRE(!chain.empty());
    std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store{X509_STORE_new(), X509_STORE_free};
    std::vector<CertPtr> roots = read_certs(pki.ca_pem);
    if (trust_ca) {
        X509_STORE_add_cert(store.get(), roots.front().get());
    }
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    for (std::size_t i = 1; i < chain.size(); ++i) {
        sk_X509_push(untrusted, chain[i].get());
    }
    std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> context{X509_STORE_CTX_new(),
                                                                       X509_STORE_CTX_free};
    X509_STORE_CTX_init(context.get(), store.get(), chain.front().get(), untrusted);
    X509_verify_cert(context.get());
    long const result = X509_STORE_CTX_get_error(context.get());
    sk_X509_free(untrusted);
    return result;
}

std::string cram_md5_response(std::string const& user, std::string const& password,
                              std::string const& challenge) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_md5(), password.data(), static_cast<int>(password.size()),
         reinterpret_cast<unsigned char const*>(challenge.data()), challenge.size(), digest,
         &length);
    std::string hex;
    char const* digits = "0123456789abcdef";
    for (unsigned int i = 0; i < length; ++i) {
        hex += digits[digest[i] >> 4];
        hex += digits[digest[i] & 0x0f];
    }
    return user + " " + hex;
}

} // namespace

TEST_CASE("make_pki issues a leaf valid from yesterday for a year, for localhost and loopback",
          "[engine][emulator][pki]") {
    Pki const pki = make_pki({});
    std::vector<CertPtr> leaf = read_certs(pki.cert_pem);
    REQUIRE(leaf.size() == 1);
    CHECK(days_from_now(X509_get0_notBefore(leaf.front().get())) == -1);
    long long const not_after = days_from_now(X509_get0_notAfter(leaf.front().get()));
    CHECK(not_after >= 364);
    CHECK(not_after <= 365);
    CHECK(X509_check_host(leaf.front().get(), "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(leaf.front().get(), "other.test", 0, 0, nullptr) == 0);
    CHECK(X509_check_ip_asc(leaf.front().get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(leaf.front().get(), "::1", 0) == 1);
    CHECK(X509_check_ip_asc(leaf.front().get(), "10.0.0.1", 0) == 0);
    CHECK(X509_check_purpose(leaf.front().get(), X509_PURPOSE_SSL_SERVER, 0) == 1);
    CHECK(verify(pki, true) == X509_V_OK);
    CHECK(verify(pki, false) == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    CHECK(pki.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
}

TEST_CASE("make_pki's knobs produce expired, future, self-signed and incomplete chains",
          "[engine][emulator][pki]") {
    SECTION("expired") {
        CertSpec spec;
        spec.not_before_days = -30;
        spec.not_after_days = -2;
        CHECK(verify(make_pki(spec), true) == X509_V_ERR_CERT_HAS_EXPIRED);
    }
    SECTION("not yet valid") {
        CertSpec spec;
        spec.not_before_days = 2;
        CHECK(verify(make_pki(spec), true) == X509_V_ERR_CERT_NOT_YET_VALID);
    }
    SECTION("self-signed") {
        CertSpec spec;
        spec.self_signed = true;
        Pki const pki = make_pki(spec);
        CHECK(pki.ca_pem == pki.cert_pem);
        CHECK(verify(pki, false) == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
        CHECK(verify(pki, true) == X509_V_OK);
    }
    SECTION("intermediate sent") {
        CertSpec spec;
        spec.with_intermediate = true;
        Pki const pki = make_pki(spec);
        CHECK(read_certs(pki.chain_pem).size() == 2);
        CHECK(verify(pki, true) == X509_V_OK);
    }
    SECTION("intermediate withheld") {
        CertSpec spec;
        spec.with_intermediate = true;
        spec.send_intermediate = false;
        Pki const pki = make_pki(spec);
        CHECK(read_certs(pki.chain_pem).size() == 1);
        CHECK(verify(pki, true) == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    }
    SECTION("custom names") {
        CertSpec spec;
        spec.common_name = "mx.example.test";
        spec.dns_names = {"mx.example.test", "*.example.test"};
        spec.ip_addresses = {};
        std::vector<CertPtr> leaf = read_certs(make_pki(spec).cert_pem);
        CHECK(X509_check_host(leaf.front().get(), "mx.example.test", 0, 0, nullptr) == 1);
        CHECK(X509_check_host(leaf.front().get(), "a.example.test", 0, 0, nullptr) == 1);
        CHECK(X509_check_ip_asc(leaf.front().get(), "127.0.0.1", 0) == 0);
    }
    SECTION("a bad IP address is an error naming it") {
        CertSpec spec;
        spec.ip_addresses = {"not-an-ip"};
        CHECK_THROWS_WITH(make_pki(spec), Catch::Contains("not-an-ip"));
    }
}

TEST_CASE("every shipped profile loads", "[engine][emulator][profile]") {
    std::vector<std::filesystem::path> files;
    for (std::filesystem::path const& dir : {samples_dir(), smtpprobe::test::hostile_dir()}) {
        for (std::filesystem::directory_entry const& entry :
             std::filesystem::directory_iterator(dir)) {
            if (entry.path().extension() == ".json") {
                files.push_back(entry.path());
            }
        }
    }
    REQUIRE(files.size() >= 19); // 10 servers and 9 hostile ones
    for (std::filesystem::path const& file : files) {
        INFO(file.filename().string());
        Profile const profile = load_profile(file);
        CHECK(!profile.name.empty());
        CHECK(file.stem().string() == profile.name);
    }
}

TEST_CASE("every shipped profile answers AUTH per mechanism: 334 and 501 after \"*\", or its "
          "refusal",
          "[engine][emulator]") {
    std::vector<std::string> catalogue = {"PLAIN",
                                          "LOGIN",
                                          "CRAM-MD5",
                                          "DIGEST-MD5",
                                          "SCRAM-SHA-1",
                                          "SCRAM-SHA-256",
                                          "SCRAM-SHA-1-PLUS",
                                          "SCRAM-SHA-256-PLUS",
                                          "XOAUTH2",
                                          "OAUTHBEARER",
                                          "NTLM",
                                          "GSSAPI",
                                          "ANONYMOUS",
                                          "EXTERNAL"};
    for (std::filesystem::directory_entry const& entry :
         std::filesystem::directory_iterator(samples_dir())) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        Profile const profile = load_profile(entry.path());
        if (!profile.ehlo.supported || !profile.auth.enabled()) {
            continue;
        }
        INFO(entry.path().filename().string());
        Running running(profile);
        std::unique_ptr<TestClient> client;
        bool tls = false;
        unsigned failures = 0;
        std::vector<std::string> mechanisms = catalogue;
        for (std::string const& name : profile.auth.mechanisms) {
            if (!listed(mechanisms, name)) {
                mechanisms.push_back(name);
            }
        }
        for (std::string const& mechanism : mechanisms) {
            INFO(mechanism);
            if (!client) {
                client = std::make_unique<TestClient>(running.server.port());
                tls = to_ready(*client, running.server);
            }
            AuthProfile const& auth = profile.auth;
            std::string refusal;
            bool const after_tls = tls || profile.tls != smtpprobe::emulator::TlsMode::starttls;
            if (after_tls ? !listed(auth.mechanisms, mechanism)
                          : !listed(auth.mechanisms_before_tls, mechanism)) {
                refusal = !after_tls && (auth.mechanisms_before_tls.empty() ||
                                         listed(auth.mechanisms, mechanism))
                              ? auth.before_tls_reply
                              : auth.unknown_mechanism_reply;
            }
            std::string const reply = client->command("AUTH " + mechanism);
            if (!refusal.empty()) {
                CHECK(reply == expected(profile, refusal));
                continue;
            }
            CHECK(reply.starts_with("334"));
            CHECK(client->command("*") == expected(profile, auth.cancel_reply));
            ++failures;
            if (auth.drop_after_failures > 0 && failures % auth.drop_after_failures == 0) {
                CHECK(client->reply() == expected(profile, auth.drop_reply));
                CHECK(client->closed());
                client.reset();
            }
        }
    }
}

TEST_CASE("profile errors name the file and the field", "[engine][emulator][profile]") {
    std::filesystem::path const dir =
        std::filesystem::temp_directory_path() / ("emulator-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto write = [&dir](std::string const& name, std::string const& text) {
        std::ofstream(dir / name) << text;
        return dir / name;
    };
    CHECK_THROWS_WITH(load_profile(write("azure-acs.json",
                                         R"({"name":"x","auth":{"accounts":[{"password":"p"}]}})")),
                      "azure-acs.json: auth.accounts[0]: missing \"user\"");
    CHECK_THROWS_WITH(load_profile(write("typo.json", R"({"name":"x","auth":{"mechanims":[]}})")),
                      "typo.json: auth.mechanims: unknown field");
    CHECK_THROWS_WITH(load_profile(write("tls.json", R"({"name":"x","tls":"ssl"})")),
                      Catch::StartsWith("tls.json: tls: expected"));
    CHECK_THROWS_WITH(load_profile(write("noname.json", R"({"tls":"none"})")),
                      "noname.json: missing \"name\"");
    CHECK_THROWS_WITH(load_profile(write("reply.json", R"({"name":"x","replies":{"NOOP":"ok"}})")),
                      Catch::StartsWith("reply.json: replies.NOOP: a reply must start"));
    CHECK_THROWS_WITH(load_profile(write("delay.json", R"({"name":"x","delays_ms":{"EHLO":-1}})")),
                      Catch::StartsWith("delay.json: delays_ms.EHLO: must be between"));
    CHECK_THROWS_WITH(load_profile(write("syntax.json", R"({"name":)")),
                      Catch::StartsWith("syntax.json: not valid JSON"));
    // Found by tests/fuzz/profile_fuzz: nlohmann throws out_of_range, not parse_error, here.
    CHECK_THROWS_WITH(load_profile(write("overflow.json", R"({"name":"x","banner":1e400})")),
                      Catch::StartsWith("overflow.json: not valid JSON") &&
                          Catch::Contains("number overflow"));
    CHECK_THROWS_WITH(load_profile(dir / "missing.json"), Catch::Contains("cannot open"));
    CHECK_NOTHROW(load_profile(
        write("comments.json", "// a comment\n{\"name\":\"x\", \"_note\": \"free text\"}")));
    std::filesystem::remove_all(dir);
}

TEST_CASE("replies render with codes, substitutions and CRLF", "[engine][emulator][profile]") {
    CHECK(render_reply("250 OK", "h", "1.2.3.4") == "250 OK\r\n");
    CHECK(render_reply("535 5.7.8 first\nsecond\nthird", "h", "ip") ==
          "535-5.7.8 first\r\n535-second\r\n535 third\r\n");
    CHECK(render_reply("250-a\n251 b", "h", "ip") == "250-a\r\n251 b\r\n");
    CHECK(render_reply("250 {hostname} Hello [{client_ip}]", "mx.test", "127.0.0.1") ==
          "250 mx.test Hello [127.0.0.1]\r\n");
    CHECK(render_reply("334 ", "h", "ip") == "334 \r\n");
}

TEST_CASE("azure-acs: LOGIN only, only after STARTTLS", "[engine][emulator]") {
    Running running(sample("azure-acs.json"));
    Server const& server = running.server;
    TestClient client(server.port());

    CHECK(client.reply() == "220 smtp.azurecomm.net Microsoft ESMTP MAIL Service ready");
    CHECK(client.command("AUTH LOGIN") == "503 5.5.2 Send hello first");
    CHECK(client.command("EHLO client.test") == "250-smtp.azurecomm.net Hello [127.0.0.1]\n"
                                                "250-SIZE 31457280\n"
                                                "250 STARTTLS");
    CHECK(client.command("AUTH LOGIN") == "530 5.7.0 Must issue a STARTTLS command first");
    CHECK(client.command("AUTH PLAIN") == "530 5.7.0 Must issue a STARTTLS command first");
    CHECK(client.command("MAIL FROM:<a@example.test>") ==
          "530 5.7.57 Client not authenticated to send mail during MAIL FROM");
    CHECK(client.command("NOOP") == "250 2.0.0 OK");
    CHECK(client.command("STARTTLS") == "220 2.0.0 SMTP server ready");
    CHECK(client.start_tls(server.ca_pem()) == X509_V_OK);

    SECTION("the EHLO state is forgotten after STARTTLS (RFC 3207 §4.2)") {
        CHECK(client.command("AUTH LOGIN") == "503 5.5.2 Send hello first");
    }
    SECTION("after TLS: AUTH LOGIN advertised, everything else 504 5.7.4") {
        CHECK(client.command("EHLO client.test") == "250-smtp.azurecomm.net Hello [127.0.0.1]\n"
                                                    "250-SIZE 31457280\n"
                                                    "250 AUTH LOGIN");
        for (char const* mechanism : {"PLAIN", "CRAM-MD5", "XOAUTH2", "SCRAM-SHA-256", "NTLM"}) {
            INFO(mechanism);
            CHECK(client.command(std::string("AUTH ") + mechanism) ==
                  "504 5.7.4 Unrecognized authentication type");
        }
        CHECK(client.command("AUTH LOGIN") == "334 " + b64("Username:"));
        CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
        CHECK(client.command("AUTH login") == "334 VXNlcm5hbWU6");
        CHECK(client.command(b64("nobody")) == "334 UGFzc3dvcmQ6");
        CHECK(client.command(b64("wrong")) == "535 5.7.3 Authentication unsuccessful");
        CHECK(client.command("AUTH LOGIN") == "334 VXNlcm5hbWU6");
        CHECK(client.command("not base64!") == "501 5.5.2 Cannot decode response");
        CHECK(client.command("STARTTLS") == "503 5.5.1 TLS already active");
        CHECK(client.command("AUTH LOGIN") == "334 VXNlcm5hbWU6");
        CHECK(client.command(b64("acs-demo.00000000-0000-0000-0000-000000000001."
                                 "00000000-0000-0000-0000-000000000002")) == "334 UGFzc3dvcmQ6");
        CHECK(client.command(b64("demo-secret-never-printed")) ==
              "235 2.7.0 Authentication successful");
        CHECK(client.command("AUTH LOGIN") == "503 5.5.1 Already authenticated");
        // The profile's envelope rules: only the connected domain's senders.
        CHECK(client.command("MAIL FROM:<a@example.test>") ==
              "550 5.1.7 The specified sender domain has not been linked.");
        CHECK(client.command("MAIL FROM:<DoNotReply@demo.azurecomm.net>") == "250 2.1.0 Sender OK");
        CHECK(client.command("RCPT TO:<b@example.test>") == "250 2.1.5 Recipient OK");
        CHECK(client.command("DATA").starts_with("354 "));
        client.send_raw("Subject: test\r\n\r\nbody\r\n");
        CHECK(client.command(".").starts_with("250 "));
        CHECK(client.command("QUIT") == "221 2.0.0 Service closing transmission channel");
        CHECK(client.closed());
    }
    SECTION("LOGIN with the user name as initial response (.NET, Python)") {
        REQUIRE(client.command("EHLO client.test").starts_with("250"));
        CHECK(client.command("AUTH LOGIN " + b64("acs-demo.00000000-0000-0000-0000-000000000001."
                                                 "00000000-0000-0000-0000-000000000002")) ==
              "334 UGFzc3dvcmQ6");
        CHECK(client.command(b64("demo-secret-never-printed")) ==
              "235 2.7.0 Authentication successful");
    }
}

TEST_CASE("postfix-submission: Postfix and Dovecot wording", "[engine][emulator]") {
    Running running(sample("postfix-submission.json"));
    Server const& server = running.server;
    TestClient client(server.port());
    CHECK(client.reply() == "220 mail.example.test ESMTP Postfix (Debian/GNU)");
    std::string const before = client.command("EHLO client.test");
    CHECK(before == "250-mail.example.test\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n"
                    "250-ETRN\n250-STARTTLS\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n"
                    "250-SMTPUTF8\n250 CHUNKING");
    CHECK(client.command("AUTH PLAIN") == "503 5.5.1 Error: authentication not enabled");
    CHECK(client.command("STARTTLS") == "220 2.0.0 Ready to start TLS");
    REQUIRE(client.start_tls(server.ca_pem()) == X509_V_OK);
    CHECK(client.command("AUTH PLAIN") == "503 5.5.1 Error: send HELO/EHLO first");
    std::string const after = client.command("EHLO client.test");
    CHECK(after.find("250-AUTH PLAIN LOGIN\n") != std::string::npos);
    CHECK(after.find("STARTTLS") == std::string::npos);
    CHECK(client.command("AUTH XOAUTH2") ==
          "535 5.7.8 Error: authentication failed: Invalid authentication mechanism");
    CHECK(client.command("AUTH PLAIN") == "334 ");
    CHECK(client.command("*") == "501 5.7.0 Authentication aborted");
    CHECK(client.command("AUTH PLAIN %%%") ==
          "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response");
    CHECK(client.command("AUTH LOGIN") == "334 VXNlcm5hbWU6");
    CHECK(client.command(b64("alice@example.test")) == "334 UGFzc3dvcmQ6");
    CHECK(client.command(b64("wrong")) == "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6");
    CHECK(client.command("AUTH PLAIN " + b64(plain("alice@example.test", "wrong"))) ==
          "535 5.7.8 Error: authentication failed: authentication failure");
    CHECK(client.command("AUTH") == "501 5.5.4 Syntax: AUTH mechanism");
    CHECK(client.command("STARTTLS") == "554 5.5.1 Error: TLS already active");
    CHECK(client.command("AUTH PLAIN " +
                         b64(plain("alice@example.test", "postfix-test-password-not-real"))) ==
          "235 2.7.0 Authentication successful");
    CHECK(client.command("AUTH PLAIN =") == "503 5.5.1 Error: already authenticated");
    CHECK(client.command("RCPT TO:<b@example.test>") == "250 2.1.5 Ok");
    CHECK(client.command("FOO") == "502 5.5.2 Error: command not recognized");
}

TEST_CASE("plaintext: PLAIN, LOGIN and CRAM-MD5 without TLS", "[engine][emulator]") {
    Running running(sample("plaintext.json"));
    TestClient client(running.server.port());
    CHECK(client.reply() == "220 plain.example.test ESMTP ready");
    CHECK(client.command("EHLO client.test").find("250-AUTH PLAIN LOGIN CRAM-MD5\n") !=
          std::string::npos);
    CHECK(client.command("STARTTLS") == "454 4.7.0 TLS not available due to temporary reason");
    CHECK(client.command("AUTH GSSAPI") == "504 5.5.4 Unrecognized authentication type");
    CHECK(client.command("AUTH PLAIN") == "334 ");
    CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
    CHECK(client.command("AUTH LOGIN") == "334 VXNlcm5hbWU6");
    CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
    CHECK(client.command("AUTH LOGIN =") == "334 UGFzc3dvcmQ6");
    CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
    CHECK(client.command("AUTH PLAIN " + b64(plain("plain-user", std::string(1500, 'p')))) ==
          "535 5.7.8 Authentication credentials invalid");
    CHECK(client.command("AUTH PLAIN " + std::string(13000, 'A')) ==
          "500 5.5.6 Authentication Exchange line is too long");
    CHECK(client.command("AUTH PLAIN") == "334 ");
    CHECK(client.command(std::string(13000, 'A')) ==
          "500 5.5.6 Authentication Exchange line is too long");
    CHECK(client.command("NOOP") == "250 2.0.0 OK");

    std::string const challenge_reply = client.command("AUTH CRAM-MD5");
    REQUIRE(challenge_reply.starts_with("334 "));
    std::optional<std::string> challenge = base64_decode(challenge_reply.substr(4));
    REQUIRE(challenge);
    CHECK(challenge->starts_with("<"));
    CHECK(challenge->ends_with("@plain.example.test>"));
    CHECK(client.command(b64(
              cram_md5_response("plain-user", "plaintext-test-password-not-real", *challenge))) ==
          "235 2.7.0 Authentication successful");
}

TEST_CASE("exchange-legacy: NTLM, LOGIN after TLS, AUTH= line", "[engine][emulator]") {
    Running running(sample("exchange-legacy.json"));
    Server const& server = running.server;
    TestClient client(server.port());
    REQUIRE(client.reply().starts_with("220 exch.example.test"));
    CHECK(client.command("EHLO client.test").find("250-AUTH NTLM\n") != std::string::npos);
    CHECK(client.command("AUTH NTLM") == "334 NTLM supported");
    CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
    CHECK(client.command("AUTH NTLM") == "334 NTLM supported");
    // The NEGOTIATE gets the profile's CHALLENGE (auth.ntlm_challenge); an AUTHENTICATE with
    // an NTLMv1-sized response gets a 535, one that is too short to be a message a 501.
    CHECK(client.command("TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=")
              .starts_with("334 TlRMTVNTUAACAAAA"));
    smtpprobe::sasl::ntlm::Authenticate v1;
    v1.flags = smtpprobe::sasl::ntlm::flag::negotiate_unicode;
    v1.domain = "EXAMPLE";
    v1.user = "legacy-user";
    v1.lm_response = std::string(24, '\x11');
    v1.nt_response = std::string(24, '\x22');
    CHECK(client.command(b64(smtpprobe::sasl::ntlm::encode_authenticate(v1))) ==
          "535 5.7.3 Authentication unsuccessful");
    CHECK(client.command("AUTH NTLM") == "334 NTLM supported");
    CHECK(client.command("TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=")
              .starts_with("334 TlRMTVNTUAACAAAA"));
    CHECK(client.command("TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAA==") ==
          "501 5.5.2 Cannot decode response");
    CHECK(client.command("AUTH LOGIN") == "504 5.7.4 Unrecognized authentication type");
    CHECK(client.command("STARTTLS") == "220 2.0.0 SMTP server ready");
    REQUIRE(client.start_tls(server.ca_pem()) == X509_V_OK);
    std::string const after = client.command("EHLO client.test");
    CHECK(after.find("250-AUTH NTLM LOGIN\n250-AUTH=LOGIN\n") != std::string::npos);
    CHECK(client.command("AUTH LOGIN") == "334 VXNlcm5hbWU6");
}

TEST_CASE("drop-after-3: 421 and close after the third failed attempt", "[engine][emulator]") {
    Running running(sample("drop-after-3.json"));
    Server const& server = running.server;
    TestClient client(server.port());
    to_tls(client, server);
    CHECK(client.command("AUTH PLAIN") == "334 ");
    CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
    CHECK(client.command("AUTH LOGIN") == "334 VXNlcm5hbWU6");
    CHECK(client.command(b64("strict-user")) == "334 UGFzc3dvcmQ6");
    CHECK(client.command(b64("wrong")) == "535 5.7.8 Authentication credentials invalid");
    CHECK(client.command("AUTH XOAUTH2") == "504 5.5.4 Unrecognized authentication type");
    CHECK(client.command("AUTH PLAIN") == "334 ");
    CHECK(client.command("*") == "501 5.7.0 Authentication cancelled");
    CHECK(client.reply() == "421 4.7.0 strict.example.test Error: too many errors");
    CHECK(client.closed());

    TestClient again(server.port());
    to_tls(again, server);
    CHECK(
        again.command("AUTH PLAIN " + b64(plain("strict-user", "strict-test-password-not-real"))) ==
        "235 2.7.0 Authentication successful");
}

TEST_CASE("starttls-inject-same-segment: extra bytes follow the 220 in the same write",
          "[engine][emulator]") {
    Running running(sample("starttls-inject-same-segment.json"));
    TestClient client(running.server.port());
    REQUIRE(client.reply().starts_with("220 "));
    REQUIRE(client.command("EHLO client.test").starts_with("250"));
    client.send_line("STARTTLS");
    CHECK(client.reply() == "220 2.0.0 Ready to start TLS");
    CHECK(client.pending(std::chrono::milliseconds(500)) ==
          "250-inject.example.test\r\n250 AUTH PLAIN\r\n");
}

TEST_CASE("starttls-inject: extra bytes follow the 220 in a write of their own, later",
          "[engine][emulator]") {
    Running running(sample("starttls-inject.json"));
    REQUIRE(running.server.profile().starttls_inject_delay == std::chrono::milliseconds(30));
    TestClient client(running.server.port());
    REQUIRE(client.reply().starts_with("220 "));
    REQUIRE(client.command("EHLO client.test").starts_with("250"));
    client.send_line("STARTTLS");
    auto const sent = std::chrono::steady_clock::now();
    CHECK(client.reply() == "220 2.0.0 Ready to start TLS");
    std::string const late = client.pending(std::chrono::milliseconds(1000));
    CHECK(late == "250-inject.example.test\r\n250 AUTH PLAIN\r\n");
    // The 220 came alone: the bytes arrived one delay later.
    CHECK(std::chrono::steady_clock::now() - sent >= std::chrono::milliseconds(30));
}

TEST_CASE("plaintext pipelined behind STARTTLS is discarded, not executed", "[engine][emulator]") {
    Running running(sample("postfix-submission.json"));
    Server const& server = running.server;
    TestClient client(server.port());
    REQUIRE(client.reply().starts_with("220 "));
    REQUIRE(client.command("EHLO client.test").starts_with("250"));
    client.send_raw("STARTTLS\r\nNOOP\r\n");
    REQUIRE(client.reply() == "220 2.0.0 Ready to start TLS");
    REQUIRE(client.start_tls(server.ca_pem()) == X509_V_OK);
    CHECK(client.command("EHLO client.test").starts_with("250-mail.example.test\n"));
    CHECK(client.command("QUIT") == "221 2.0.0 Bye");
    std::vector<std::string> const received = server.received();
    CHECK(received == std::vector<std::string>{"c1: EHLO client.test", "c1: STARTTLS",
                                               "c1: [discarded after STARTTLS] NOOP",
                                               "c1: EHLO client.test", "c1: QUIT"});
}

TEST_CASE("implicit TLS: the handshake comes before the banner", "[engine][emulator]") {
    Running running(sample("implicit-tls.json"));
    Server const& server = running.server;
    TestClient client(server.port());
    REQUIRE(client.start_tls(server.ca_pem()) == X509_V_OK);
    CHECK(client.reply() == "220 smtps.example.test ESMTP ready");
    std::string const ehlo = client.command("EHLO client.test");
    CHECK(ehlo.starts_with("250-smtps.example.test at your service, [127.0.0.1]\n"));
    CHECK(ehlo.find("250-AUTH LOGIN PLAIN XOAUTH2\n") != std::string::npos);
    CHECK(client.command("STARTTLS") == "503 5.5.1 TLS already active");
    CHECK(
        client.command("AUTH XOAUTH2 " + b64("user=smtps-user@example.test\x01"
                                             "auth=Bearer implicit-test-token-not-real\x01\x01")) ==
        "235 2.7.0 Authentication successful");
}

TEST_CASE("helo-only: EHLO is unknown, HELO works", "[engine][emulator]") {
    Running running(sample("helo-only.json"));
    TestClient client(running.server.port());
    REQUIRE(client.reply().starts_with("220 "));
    CHECK(client.command("EHLO client.test") == "500 Command unrecognized");
    CHECK(client.command("HELO client.test") == "250 old.example.test");
    CHECK(client.command("AUTH PLAIN") == "500 Command unrecognized");
}

TEST_CASE("lines over 1000 octets get 500 5.5.2: the session goes on", "[engine][emulator]") {
    Running running(sample("azure-acs.json"));
    TestClient client(running.server.port());
    REQUIRE(client.reply().starts_with("220 "));
    CHECK(client.command("NOOP " + std::string(1200, 'x')) == "500 5.5.2 Line too long");
    CHECK(client.command("NOOP " + std::string(20000, 'y')) == "500 5.5.2 Line too long");
    CHECK(client.command("NOOP") == "250 2.0.0 OK");
    client.send_raw("NOOP\n");
    CHECK(client.reply() == "250 2.0.0 OK");
}

TEST_CASE("max_connections: the connection beyond the limit gets 421", "[engine][emulator]") {
    ServerOptions options;
    options.max_connections = 1;
    Running running(sample("postfix-submission.json"), options);
    TestClient first(running.server.port());
    REQUIRE(first.reply().starts_with("220 "));
    TestClient second(running.server.port());
    CHECK(second.reply() == "421 4.3.2 Too many connections");
    CHECK(second.closed());
    CHECK(first.command("NOOP") == "250 2.0.0 Ok");
    CHECK(first.command("QUIT") == "221 2.0.0 Bye");
    CHECK(first.closed());
    std::string banner;
    for (int i = 0; i < 50; ++i) {
        TestClient third(running.server.port());
        banner = third.reply();
        if (banner.starts_with("220 ")) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(banner == "220 mail.example.test ESMTP Postfix (Debian/GNU)");
    CHECK(running.server.connections_accepted() >= 3);
}

TEST_CASE("the idle timeout sends 421 and closes", "[engine][emulator]") {
    ServerOptions options;
    options.idle_timeout = std::chrono::milliseconds(200);
    Running running(sample("postfix-submission.json"), options);
    TestClient client(running.server.port());
    REQUIRE(client.reply().starts_with("220 "));
    CHECK(client.reply() == "421 4.4.2 mail.example.test Error: timeout exceeded");
    CHECK(client.closed());
}

TEST_CASE("delays, close_after and stop() returning promptly", "[engine][emulator]") {
    nlohmann::json const document = {
        {"name", "slow"},
        {"delays_ms", {{"banner", 0}, {"EHLO", 300}, {"NOOP", 60000}}},
        {"close_after", {"RSET"}},
    };
    Running running(parse_profile(document));
    TestClient client(running.server.port());
    CHECK(client.reply() == "220 localhost ESMTP");

    std::chrono::steady_clock::time_point const start = std::chrono::steady_clock::now();
    CHECK(client.command("EHLO client.test") == "250 localhost");
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));

    SECTION("close_after") {
        CHECK(client.command("RSET") == "250 2.0.0 OK");
        CHECK(client.closed());
    }
    SECTION("stop() while a reply is delayed by a minute") {
        client.send_line("NOOP");
        TestClient idle(running.server.port());
        REQUIRE(idle.reply().starts_with("220 "));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::chrono::steady_clock::time_point const stopping = std::chrono::steady_clock::now();
        running.server.stop();
        CHECK(std::chrono::steady_clock::now() - stopping < std::chrono::seconds(2));
        CHECK(client.closed());
        CHECK(idle.closed());
        running.server.stop();
    }
}

TEST_CASE("received() records every client line per connection", "[engine][emulator]") {
    Running running(sample("plaintext.json"));
    {
        TestClient one(running.server.port());
        REQUIRE(one.reply().starts_with("220 "));
        CHECK(one.command("EHLO one.test").starts_with("250"));
        CHECK(one.command("QUIT").starts_with("221"));
        CHECK(one.closed());
    }
    TestClient two(running.server.port());
    REQUIRE(two.reply().starts_with("220 "));
    CHECK(two.command("HELO two.test") == "250 plain.example.test");
    CHECK(running.server.received() ==
          std::vector<std::string>{"c1: EHLO one.test", "c1: QUIT", "c2: HELO two.test"});
    CHECK(running.server.connections_accepted() == 2);
}

TEST_CASE("a port in use is a std::system_error", "[engine][emulator]") {
    Running running(sample("plaintext.json"));
    ServerOptions options;
    options.port = running.server.port();
    CHECK_THROWS_AS(Server(sample("plaintext.json"), options), std::system_error);
}

TEST_CASE("a caller-supplied PKI is used for the handshake", "[engine][emulator][pki]") {
    CertSpec spec;
    spec.with_intermediate = true;
    ServerOptions options;
    options.pki = make_pki(spec);
    Running running(sample("implicit-tls.json"), options);
    TestClient client(running.server.port());
    CHECK(running.server.ca_pem() == options.pki->ca_pem);
    CHECK(client.start_tls(running.server.ca_pem()) == X509_V_OK);
    CHECK(client.reply().starts_with("220 "));
}
