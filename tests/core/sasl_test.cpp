#include "sasl/sasl.hpp"
#include "smtp/base64.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace std::string_literals;
using smtpprobe::sasl::Client;
using smtpprobe::sasl::ClientOptions;
using smtpprobe::sasl::ClientStep;
using smtpprobe::sasl::Credentials;
using smtpprobe::sasl::Server;
using smtpprobe::sasl::ServerOptions;
using smtpprobe::sasl::ServerStep;
using smtpprobe::smtp::base64_decode;
using smtpprobe::smtp::base64_encode;

namespace {

Client make_client(std::string_view mechanism, Credentials credentials,
                   ClientOptions options = {}) {
    std::optional<Client> client = Client::create(mechanism, std::move(credentials), options);
    REQUIRE(client.has_value());
    return std::move(*client);
}

Server make_server(std::string_view mechanism, ServerOptions options) {
    std::optional<Server> server = Server::create(mechanism, std::move(options));
    REQUIRE(server.has_value());
    return std::move(*server);
}

std::string decoded(std::string_view base64) {
    std::optional<std::string> bytes = base64_decode(base64);
    REQUIRE(bytes.has_value());
    return *bytes;
}

struct Exchange {
    ServerStep last;
    std::vector<ClientStep> client_steps;
    bool client_cancelled = false;
};

/// Runs a client against a server the way the SMTP layer would, until the server decides or
/// the client cancels.
Exchange run(Client& client, Server& server) {
    Exchange exchange;
    ServerStep step = server.start();
    for (int round = 0; round < 20 && step.kind == ServerStep::Kind::challenge; ++round) {
        ClientStep answer = client.respond(step.data);
        exchange.client_steps.push_back(answer);
        if (answer.kind == ClientStep::Kind::cancel) {
            exchange.client_cancelled = true;
            break;
        }
        step = server.respond(answer.data);
    }
    exchange.last = step;
    return exchange;
}

ClientOptions mx_options() {
    ClientOptions options;
    options.host = "mx.example.org";
    options.port = 587;
    return options;
}

ServerOptions emulator_accounts() {
    ServerOptions options;
    options.accounts.push_back({"alice", "correct horse", ""});
    options.accounts.push_back({"bob@example.org", "", "ya29.good-token"});
    options.scram_iterations = 64;
    return options;
}

/// The mechanisms that check credentials (ANONYMOUS, which needs none, is tested on its own).
constexpr std::string_view all_mechanisms[] = {
    "PLAIN",         "LOGIN",   "CRAM-MD5",    "DIGEST-MD5", "SCRAM-SHA-1",
    "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER", "NTLM",
};

} // namespace

TEST_CASE("base64 encodes the RFC 4648 section 10 test vectors", "[core][sasl]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 decodes the RFC 4648 section 10 test vectors", "[core][sasl]") {
    CHECK(base64_decode("") == std::optional<std::string>(""));
    CHECK(base64_decode("Zg==") == std::optional<std::string>("f"));
    CHECK(base64_decode("Zm8=") == std::optional<std::string>("fo"));
    CHECK(base64_decode("Zm9v") == std::optional<std::string>("foo"));
    CHECK(base64_decode("Zm9vYg==") == std::optional<std::string>("foob"));
    CHECK(base64_decode("Zm9vYmE=") == std::optional<std::string>("fooba"));
    CHECK(base64_decode("Zm9vYmFy") == std::optional<std::string>("foobar"));
}

TEST_CASE("base64 round-trips every byte value", "[core][sasl]") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) {
        bytes += static_cast<char>(i);
    }
    for (std::size_t size = 0; size <= bytes.size(); size += 37) {
        std::string const part = bytes.substr(bytes.size() - size);
        CHECK(base64_decode(base64_encode(part)) == std::optional<std::string>(part));
    }
    CHECK(base64_encode("\xfb\xff") == "+/8=");
}

TEST_CASE("base64 decoder rejects characters outside the canonical alphabet", "[core][sasl]") {
    CHECK_FALSE(base64_decode("Zm9!"));
    CHECK_FALSE(base64_decode("Zm9-"));
    CHECK_FALSE(base64_decode("Zm9_"));
    CHECK_FALSE(base64_decode("Zm9v\xc3\xa9=="));
    CHECK_FALSE(base64_decode("Zm9\0"s));
}

TEST_CASE("base64 decoder rejects padding anywhere but at the end", "[core][sasl]") {
    CHECK_FALSE(base64_decode("Zg=A"));
    CHECK_FALSE(base64_decode("=Zg="));
    CHECK_FALSE(base64_decode("Z==="));
    CHECK_FALSE(base64_decode("===="));
    CHECK_FALSE(base64_decode("Zg==Zg=="));
    CHECK_FALSE(base64_decode("Zm9v===="));
    CHECK_FALSE(base64_decode("Zm=v"));
}

TEST_CASE("base64 decoder rejects lengths that are not a multiple of four", "[core][sasl]") {
    CHECK_FALSE(base64_decode("Z"));
    CHECK_FALSE(base64_decode("Zg"));
    CHECK_FALSE(base64_decode("Zg="));
    CHECK_FALSE(base64_decode("Zm9vY"));
    CHECK_FALSE(base64_decode("Zm9vYmFy="));
}

TEST_CASE("base64 decoder rejects whitespace", "[core][sasl]") {
    CHECK_FALSE(base64_decode("Zm9v YmFy"));
    CHECK_FALSE(base64_decode(" Zm9vYmF"));
    CHECK_FALSE(base64_decode("Zm9vYmF\n"));
    CHECK_FALSE(base64_decode("Zm9v\r\nYmFy"));
    CHECK_FALSE(base64_decode("Zm9v\tYmE"));
}

TEST_CASE("the client implements exactly the eleven mechanisms, in any case", "[core][sasl]") {
    for (std::string_view mechanism : all_mechanisms) {
        CHECK(smtpprobe::sasl::client_implements(mechanism));
        CHECK(smtpprobe::sasl::server_implements(mechanism));
    }
    CHECK(smtpprobe::sasl::client_implements("ANONYMOUS"));
    CHECK(smtpprobe::sasl::client_implements("cram-md5"));
    CHECK(smtpprobe::sasl::client_implements("GSSAPI"));
    CHECK(smtpprobe::sasl::client_implements("external"));
    CHECK(smtpprobe::sasl::uses_certificate("EXTERNAL"));
    CHECK_FALSE(smtpprobe::sasl::uses_certificate("PLAIN"));
    CHECK_FALSE(smtpprobe::sasl::client_implements(""));
    CHECK(Client::create("GSSAPI", {}).has_value());
    // The server side of GSSAPI needs a KDC and a keytab: the emulator does not offer it.
    CHECK_FALSE(smtpprobe::sasl::server_implements("GSSAPI"));
    CHECK_FALSE(Server::create("GSSAPI", {}).has_value());
    CHECK(Client::create("plain", {})->mechanism() == "PLAIN");
    CHECK(smtpprobe::sasl::uses_token("XOAUTH2"));
    CHECK(smtpprobe::sasl::uses_token("OAUTHBEARER"));
    CHECK_FALSE(smtpprobe::sasl::uses_token("PLAIN"));
    CHECK(smtpprobe::sasl::needs_no_secret("ANONYMOUS"));
    CHECK_FALSE(smtpprobe::sasl::needs_no_secret("NTLM"));
}

TEST_CASE("PLAIN encodes the RFC 4616 example as RFC 4954 shows it", "[core][sasl]") {
    ClientOptions options;
    options.authzid = "test";
    Client client = make_client("PLAIN", {"test", "1234", ""}, options);
    ClientStep const step = client.respond("");
    REQUIRE(step.kind == ClientStep::Kind::respond);
    CHECK(step.data == "test\0test\0"
                       "1234"s);
    CHECK(base64_encode(step.data) == "dGVzdAB0ZXN0ADEyMzQ=");
}

TEST_CASE("PLAIN without an authorisation identity starts with a NUL", "[core][sasl]") {
    Client client = make_client("PLAIN", {"tim", "tanstaaf", ""});
    CHECK(client.respond("").data == "\0tim\0tanstaaf"s);
    CHECK(client.respond("").kind == ClientStep::Kind::cancel);
}

TEST_CASE("PLAIN refuses credentials that contain a NUL", "[core][sasl]") {
    Client client = make_client("PLAIN", {"tim", "tan\0staaf"s, ""});
    ClientStep const step = client.respond("");
    CHECK(step.kind == ClientStep::Kind::cancel);
    CHECK(client.responses().empty());
}

TEST_CASE("LOGIN answers the user name then the password whatever the prompts say",
          "[core][sasl]") {
    Client client = make_client("LOGIN", {"tim", "tanstaaf", ""});
    CHECK(client.respond("Password:").data == "tim");
    CHECK(client.respond("Username:").data == "tanstaaf");
    ClientStep const third = client.respond("Password:");
    CHECK(third.kind == ClientStep::Kind::cancel);
    CHECK_FALSE(third.error.empty());
    CHECK(client.responses() == std::vector<std::string>{"tim", "tanstaaf"});
}

TEST_CASE("CRAM-MD5 reproduces the RFC 2195 example", "[core][sasl]") {
    Client client = make_client("CRAM-MD5", {"tim", "tanstaaftanstaaf", ""});
    ClientStep const step = client.respond("<1896.697170952@postoffice.reston.mci.net>");
    REQUIRE(step.kind == ClientStep::Kind::respond);
    CHECK(step.data == "tim b913a602c7eda7a495b4e6e7334d3890");
    CHECK(base64_encode(step.data) == "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
}

TEST_CASE("CRAM-MD5 answers a challenge that is not of the msg-id form", "[core][sasl]") {
    Client client = make_client("CRAM-MD5", {"tim", "tanstaaftanstaaf", ""});
    ClientStep const step = client.respond("no angle brackets");
    REQUIRE(step.kind == ClientStep::Kind::respond);
    CHECK(step.data.substr(0, 4) == "tim ");
    CHECK(step.data.size() == 4 + 32);
}

TEST_CASE("CRAM-MD5 cancels on an empty challenge", "[core][sasl]") {
    Client client = make_client("CRAM-MD5", {"tim", "tanstaaftanstaaf", ""});
    ClientStep const step = client.respond("");
    CHECK(step.kind == ClientStep::Kind::cancel);
    CHECK_FALSE(step.error.empty());
}

TEST_CASE("the CRAM-MD5 server issues the RFC 2195 challenge and accepts its answer",
          "[core][sasl]") {
    ServerOptions options;
    options.hostname = "postoffice.reston.mci.net";
    options.nonce = "1896.697170952";
    options.accounts.push_back({"tim", "tanstaaftanstaaf", ""});
    Server server = make_server("CRAM-MD5", options);
    ServerStep const first = server.start();
    CHECK(first.kind == ServerStep::Kind::challenge);
    CHECK(first.data == "<1896.697170952@postoffice.reston.mci.net>");
    ServerStep const result = server.respond("tim b913a602c7eda7a495b4e6e7334d3890");
    CHECK(result.kind == ServerStep::Kind::success);
    CHECK(result.user == "tim");
}

TEST_CASE("the CRAM-MD5 server makes a fresh msg-id challenge without a fixed nonce",
          "[core][sasl]") {
    Server first = make_server("CRAM-MD5", {});
    Server second = make_server("CRAM-MD5", {});
    std::string const a = first.start().data;
    std::string const b = second.start().data;
    CHECK(a != b);
    CHECK(a.front() == '<');
    CHECK(a.back() == '>');
    CHECK(a.find("@emulator.invalid>") != std::string::npos);
}

TEST_CASE("SCRAM-SHA-1 reproduces the RFC 5802 section 5 example", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "fyko+d2lbbFgONRv9qkxdawL";
    Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
    CHECK(client.respond("").data == "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    ClientStep const final_step =
        client.respond("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    REQUIRE(final_step.kind == ClientStep::Kind::respond);
    CHECK(final_step.data == "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                             "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    CHECK_FALSE(client.server_verified());
    ClientStep const last = client.respond("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    CHECK(last.kind == ClientStep::Kind::respond);
    CHECK(last.data.empty());
    CHECK(client.server_verified());
}

TEST_CASE("SCRAM-SHA-256 reproduces the RFC 7677 section 3 example", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "rOprNGfwEbeRWgbNEkqO";
    Client client = make_client("SCRAM-SHA-256", {"user", "pencil", ""}, options);
    CHECK(client.respond("").data == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    ClientStep const final_step =
        client.respond("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                       "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    REQUIRE(final_step.kind == ClientStep::Kind::respond);
    CHECK(final_step.data == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                             "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    ClientStep const last = client.respond("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    CHECK(last.kind == ClientStep::Kind::respond);
    CHECK(last.data.empty());
    CHECK(client.server_verified());
}

TEST_CASE("the SCRAM-SHA-1 server reproduces the RFC 5802 section 5 example", "[core][sasl]") {
    ServerOptions options;
    options.accounts.push_back({"user", "pencil", ""});
    options.nonce = "3rfcNHYJY1ZVvWVs7j";
    options.scram_salt = decoded("QSXCR+Q6sek8bf92");
    options.scram_iterations = 4096;
    Server server = make_server("SCRAM-SHA-1", options);
    CHECK(server.start().data.empty());
    ServerStep const first = server.respond("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    REQUIRE(first.kind == ServerStep::Kind::challenge);
    CHECK(first.data == "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    ServerStep const final_step = server.respond(
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    REQUIRE(final_step.kind == ServerStep::Kind::challenge);
    CHECK(final_step.data == "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    ServerStep const done = server.respond("");
    CHECK(done.kind == ServerStep::Kind::success);
    CHECK(done.user == "user");
}

TEST_CASE("the SCRAM-SHA-256 server reproduces the RFC 7677 section 3 example", "[core][sasl]") {
    ServerOptions options;
    options.accounts.push_back({"user", "pencil", ""});
    options.nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    options.scram_salt = decoded("W22ZaJ0SNY7soEsUEjb6gQ==");
    options.scram_iterations = 4096;
    Server server = make_server("SCRAM-SHA-256", options);
    server.start();
    CHECK(server.respond("n,,n=user,r=rOprNGfwEbeRWgbNEkqO").data ==
          "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
          "i=4096");
    ServerStep const final_step =
        server.respond("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    REQUIRE(final_step.kind == ServerStep::Kind::challenge);
    CHECK(final_step.data == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    CHECK(server.respond("").kind == ServerStep::Kind::success);
}

TEST_CASE("SCRAM cancels when the server signature is wrong", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "fyko+d2lbbFgONRv9qkxdawL";
    Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
    client.respond("");
    client.respond("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    ClientStep const last = client.respond("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    CHECK(last.kind == ClientStep::Kind::cancel);
    CHECK_FALSE(last.error.empty());
    CHECK_FALSE(client.server_verified());
}

TEST_CASE("SCRAM cancels on a malformed or empty server signature", "[core][sasl]") {
    for (std::string_view server_final : {"v=", "v=not base64!", "x=1", ""}) {
        ClientOptions options;
        options.nonce = "fyko+d2lbbFgONRv9qkxdawL";
        Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
        client.respond("");
        client.respond("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
        CHECK(client.respond(server_final).kind == ClientStep::Kind::cancel);
        CHECK_FALSE(client.server_verified());
    }
}

TEST_CASE("SCRAM cancels when the server nonce does not extend the client nonce", "[core][sasl]") {
    for (std::string_view server_first : {
             "r=XXXX+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
             "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",
             "r=fyko+d2lbbFgONRv9qkxdaw,s=QSXCR+Q6sek8bf92,i=4096",
         }) {
        ClientOptions options;
        options.nonce = "fyko+d2lbbFgONRv9qkxdawL";
        Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
        client.respond("");
        ClientStep const step = client.respond(server_first);
        CHECK(step.kind == ClientStep::Kind::cancel);
        CHECK(step.error.find("nonce") != std::string::npos);
    }
}

TEST_CASE("SCRAM cancels on an iteration count outside 1 to 1000000", "[core][sasl]") {
    for (std::string_view count : {"0", "1000001", "99999999999999999999999", "-1", "4k", ""}) {
        ClientOptions options;
        options.nonce = "abc";
        Client client = make_client("SCRAM-SHA-256", {"user", "pencil", ""}, options);
        client.respond("");
        ClientStep const step =
            client.respond("r=abcdef,s=QSXCR+Q6sek8bf92,i=" + std::string(count));
        CHECK(step.kind == ClientStep::Kind::cancel);
        CHECK(step.error.find("iteration") != std::string::npos);
    }
}

TEST_CASE("SCRAM accepts an iteration count of exactly one", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "abc";
    Client client = make_client("SCRAM-SHA-256", {"user", "pencil", ""}, options);
    client.respond("");
    CHECK(client.respond("r=abcdef,s=QSXCR+Q6sek8bf92,i=1").kind == ClientStep::Kind::respond);
}

TEST_CASE("SCRAM cancels on a server error and shows its text", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "abc";
    Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
    client.respond("");
    client.respond("r=abcdef,s=QSXCR+Q6sek8bf92,i=1");
    ClientStep const step = client.respond("e=invalid-proof");
    CHECK(step.kind == ClientStep::Kind::cancel);
    CHECK(step.error.find("invalid-proof") != std::string::npos);
    CHECK_FALSE(client.server_verified());
}

TEST_CASE("SCRAM cancels on a malformed server-first message", "[core][sasl]") {
    for (std::string_view server_first :
         {"", "garbage", "s=QSXCR+Q6sek8bf92,r=abcdef,i=1", "r=abcdef,s=QSXCR+Q6sek8bf9,i=1",
          "r=abcdef,s=QSXCR+Q6sek8bf92", "m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=1",
          "e=unknown-user"}) {
        ClientOptions options;
        options.nonce = "abc";
        Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
        client.respond("");
        ClientStep const step = client.respond(server_first);
        CHECK(step.kind == ClientStep::Kind::cancel);
        CHECK_FALSE(step.error.empty());
    }
}

TEST_CASE("SCRAM escapes '=' and ',' in the user name and authorisation identity", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "abc";
    options.authzid = "ad,min";
    Client client = make_client("SCRAM-SHA-256", {"a=b,c", "pencil", ""}, options);
    CHECK(client.respond("").data == "n,a=ad=2Cmin,n=a=3Db=2Cc,r=abc");
    ClientStep const final_step = client.respond("r=abcdef,s=QSXCR+Q6sek8bf92,i=1");
    std::string const binding = "c=" + base64_encode("n,a=ad=2Cmin,") + ",";
    CHECK(final_step.data.substr(0, binding.size()) == binding);
}

TEST_CASE("SCRAM refuses a user name SASLprep prohibits", "[core][sasl]") {
    Client empty = make_client("SCRAM-SHA-1", {"", "pencil", ""});
    CHECK(empty.respond("").kind == ClientStep::Kind::cancel);
    Client control = make_client("SCRAM-SHA-1", {"us\ter", "pencil", ""});
    CHECK(control.respond("").kind == ClientStep::Kind::cancel);
}

TEST_CASE("SCRAM makes a random printable nonce when none is fixed", "[core][sasl]") {
    Client first = make_client("SCRAM-SHA-256", {"user", "pencil", ""});
    Client second = make_client("SCRAM-SHA-256", {"user", "pencil", ""});
    std::string const a = first.respond("").data;
    std::string const b = second.respond("").data;
    CHECK(a != b);
    REQUIRE(a.substr(0, 12) == "n,,n=user,r=");
    CHECK(a.size() == 12 + 24);
}

TEST_CASE("SCRAM cancels a challenge after the exchange completed", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "fyko+d2lbbFgONRv9qkxdawL";
    Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
    client.respond("");
    client.respond("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    client.respond("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    CHECK(client.respond("").kind == ClientStep::Kind::cancel);
    CHECK(client.server_verified());
}

TEST_CASE("a cancelled client keeps cancelling", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "abc";
    Client client = make_client("SCRAM-SHA-1", {"user", "pencil", ""}, options);
    client.respond("");
    CHECK(client.respond("r=xyz,s=QSXCR+Q6sek8bf92,i=1").kind == ClientStep::Kind::cancel);
    CHECK(client.respond("v=").kind == ClientStep::Kind::cancel);
    CHECK_FALSE(client.server_verified());
    CHECK(client.responses().size() == 1);
}

TEST_CASE("XOAUTH2 sends the user and bearer token in Google's format", "[core][sasl]") {
    Client client = make_client("XOAUTH2", {"someuser@example.com", "", "ya29.vF9dft4qmTc2Nvb"});
    ClientStep const step = client.respond("");
    REQUIRE(step.kind == ClientStep::Kind::respond);
    CHECK(step.data == "user=someuser@example.com\x01"
                       "auth=Bearer ya29.vF9dft4qmTc2Nvb\x01\x01");
    CHECK(base64_encode(step.data) == "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5Ln"
                                      "ZGOWRmdDRxbVRjMk52YgEB");
}

TEST_CASE("XOAUTH2 answers the JSON error challenge with an empty response", "[core][sasl]") {
    Client client = make_client("XOAUTH2", {"someuser@example.com", "", "expired"});
    client.respond("");
    ClientStep const step =
        client.respond(R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})");
    CHECK(step.kind == ClientStep::Kind::respond);
    CHECK(step.data.empty());
}

TEST_CASE("OAUTHBEARER sends the RFC 7628 client response with host and port", "[core][sasl]") {
    ClientOptions options;
    options.host = "server.example.com";
    options.port = 143;
    Client client = make_client(
        "OAUTHBEARER", {"user@example.com", "", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="},
        options);
    ClientStep const step = client.respond("");
    REQUIRE(step.kind == ClientStep::Kind::respond);
    // RFC 7628 §4.1.
    CHECK(step.data == "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                       "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
    CHECK(base64_encode(step.data) ==
          "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVy"
          "IHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
}

TEST_CASE("OAUTHBEARER omits an empty host and a zero port", "[core][sasl]") {
    Client client = make_client("OAUTHBEARER", {"a,b=c", "", "token"});
    CHECK(client.respond("").data == "n,a=a=2Cb=3Dc,\x01"
                                     "auth=Bearer token\x01\x01");
}

TEST_CASE("OAUTHBEARER answers the JSON error challenge with a single 0x01", "[core][sasl]") {
    Client client = make_client("OAUTHBEARER", {"user@example.com", "", "expired"});
    client.respond("");
    ClientStep const step = client.respond(R"({"status":"invalid_token"})");
    CHECK(step.kind == ClientStep::Kind::respond);
    CHECK(step.data == "\x01");
    CHECK_FALSE(step.secret); // shown as "AQ==" in the transcript, like ANONYMOUS's trace
}

TEST_CASE("the client records every response it produces", "[core][sasl]") {
    Client client = make_client("LOGIN", {"tim", "tanstaaf", ""});
    client.respond("VXNlcm5hbWU6");
    client.respond("UGFzc3dvcmQ6");
    CHECK(client.responses() == std::vector<std::string>{"tim", "tanstaaf"});
}

TEST_CASE("an exchange is cut off after eight steps", "[core][sasl]") {
    for (std::string_view mechanism : {"XOAUTH2", "OAUTHBEARER"}) {
        Client client = make_client(mechanism, {"user", "", "token"});
        for (int i = 0; i < 8; ++i) {
            CHECK(client.respond("{}").kind == ClientStep::Kind::respond);
        }
        ClientStep const ninth = client.respond("{}");
        CHECK(ninth.kind == ClientStep::Kind::cancel);
        CHECK_FALSE(ninth.error.empty());
        CHECK(client.respond("{}").kind == ClientStep::Kind::cancel);
        CHECK(client.responses().size() == 8);
    }
    for (std::string_view mechanism : all_mechanisms) {
        Client client = make_client(mechanism, {"user", "pencil", "token"});
        int responded = 0;
        for (int i = 0; i < 20; ++i) {
            if (client.respond("r=,s=,i=").kind == ClientStep::Kind::respond) {
                ++responded;
            }
        }
        CHECK(responded <= 8);
    }
}

TEST_CASE("no client error text contains the password or token", "[core][sasl]") {
    std::string const password = "Pa55-w0rd-secret";
    std::string const token = "ya29.token-secret";
    std::vector<std::string> const challenges = {
        "",
        "garbage",
        "e=" + password,
        "e=" + token,
        "r=nonce,s=" + base64_encode(password) + ",i=" + password,
        "v=" + base64_encode(password),
        "m=" + password,
        password,
        token,
        "r=" + password + ",s=QSXCR+Q6sek8bf92,i=1",
    };
    for (std::string_view mechanism : all_mechanisms) {
        for (std::string const& first : challenges) {
            for (std::string const& second : challenges) {
                ClientOptions options;
                options.nonce = "r";
                Client client = make_client(mechanism, {"user", password, token}, options);
                std::vector<std::string> const sequence = {"", first, second, first, second};
                for (std::string const& challenge : sequence) {
                    ClientStep const step = client.respond(challenge);
                    CHECK(step.error.find(password) == std::string::npos);
                    CHECK(step.error.find(token) == std::string::npos);
                }
            }
        }
    }
}

TEST_CASE("every mechanism succeeds against the server with the right credentials",
          "[core][sasl]") {
    for (std::string_view mechanism : all_mechanisms) {
        INFO(mechanism);
        bool const token = smtpprobe::sasl::uses_token(mechanism);
        Credentials credentials = token ? Credentials{"bob@example.org", "", "ya29.good-token"}
                                        : Credentials{"alice", "correct horse", ""};
        Client client = make_client(mechanism, credentials, mx_options());
        Server server = make_server(mechanism, emulator_accounts());
        Exchange const exchange = run(client, server);
        CHECK_FALSE(exchange.client_cancelled);
        CHECK(exchange.last.kind == ServerStep::Kind::success);
        CHECK(exchange.last.user == credentials.user);
        if (mechanism.substr(0, 5) == "SCRAM" || mechanism == "DIGEST-MD5") {
            CHECK(client.server_verified());
        }
    }
}

TEST_CASE("every mechanism fails against the server with the wrong credentials", "[core][sasl]") {
    for (std::string_view mechanism : all_mechanisms) {
        INFO(mechanism);
        bool const token = smtpprobe::sasl::uses_token(mechanism);
        for (Credentials const& credentials :
             {token ? Credentials{"bob@example.org", "", "ya29.bad-token"}
                    : Credentials{"alice", "wrong horse", ""},
              token ? Credentials{"mallory", "", "ya29.good-token"}
                    : Credentials{"mallory", "correct horse", ""}}) {
            Client client = make_client(mechanism, credentials, mx_options());
            Server server = make_server(mechanism, emulator_accounts());
            Exchange const exchange = run(client, server);
            CHECK_FALSE(exchange.client_cancelled);
            CHECK(exchange.last.kind == ServerStep::Kind::failure);
            CHECK_FALSE(client.server_verified());
        }
    }
}

TEST_CASE("OAUTHBEARER without an authorisation identity authenticates by token", "[core][sasl]") {
    Client client = make_client("OAUTHBEARER", {"", "", "ya29.good-token"});
    Server server = make_server("OAUTHBEARER", emulator_accounts());
    Exchange const exchange = run(client, server);
    CHECK(exchange.last.kind == ServerStep::Kind::success);
    CHECK(exchange.last.user == "bob@example.org");
}

TEST_CASE("the token servers send their JSON errors before failing", "[core][sasl]") {
    Server xoauth2 = make_server("XOAUTH2", emulator_accounts());
    xoauth2.start();
    ServerStep const google = xoauth2.respond("user=bob@example.org\x01"
                                              "auth=Bearer nope\x01\x01");
    REQUIRE(google.kind == ServerStep::Kind::challenge);
    CHECK(google.data ==
          R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})");
    CHECK(xoauth2.respond("").kind == ServerStep::Kind::failure);

    Server oauthbearer = make_server("OAUTHBEARER", emulator_accounts());
    oauthbearer.start();
    ServerStep const rfc = oauthbearer.respond("n,a=bob@example.org,\x01"
                                               "auth=Bearer nope\x01\x01");
    REQUIRE(rfc.kind == ServerStep::Kind::challenge);
    CHECK(rfc.data == R"({"status":"invalid_token"})");
    CHECK(oauthbearer.respond("\x01").kind == ServerStep::Kind::failure);
}

TEST_CASE("the token servers call anything but the expected error acknowledgement malformed",
          "[core][sasl]") {
    Server xoauth2 = make_server("XOAUTH2", emulator_accounts());
    xoauth2.start();
    xoauth2.respond("user=bob@example.org\x01"
                    "auth=Bearer nope\x01\x01");
    CHECK(xoauth2.respond("\x01").kind == ServerStep::Kind::malformed);

    Server oauthbearer = make_server("OAUTHBEARER", emulator_accounts());
    oauthbearer.start();
    oauthbearer.respond("n,,\x01"
                        "auth=Bearer nope\x01\x01");
    CHECK(oauthbearer.respond("").kind == ServerStep::Kind::malformed);
}

TEST_CASE("the server calls malformed client responses malformed", "[core][sasl]") {
    struct Case {
        std::string_view mechanism;
        std::string response;
    };
    std::vector<Case> const cases = {
        {"PLAIN", "alice correct horse"},
        {"PLAIN", "\0alice"s},
        {"PLAIN", "\0alice\0correct\0horse"s},
        {"PLAIN", "\0\0correct horse"s},
        {"CRAM-MD5", "alice"},
        {"CRAM-MD5", "alice b913a602c7eda7a495b4e6e7334d389"},
        {"CRAM-MD5", "alice B913A602C7EDA7A495B4E6E7334D3890"},
        {"CRAM-MD5", " b913a602c7eda7a495b4e6e7334d3890"},
        {"SCRAM-SHA-1", "n=alice,r=abc"},
        {"SCRAM-SHA-1", "n,,r=abc,n=alice"},
        {"SCRAM-SHA-1", "n,,n=al=ice,r=abc"},
        {"SCRAM-SHA-256", "x,,n=alice,r=abc"},
        {"SCRAM-SHA-256", "n,,n=alice,r="},
        {"SCRAM-SHA-256", ""},
        {"XOAUTH2", "user=alice\x01"
                    "auth=Bearer t\x01"},
        {"XOAUTH2", "user=alice\x01\x01"},
        {"XOAUTH2", "user=alice\x01"
                    "auth=Basic t\x01\x01"},
        {"XOAUTH2", ""},
        {"OAUTHBEARER", "\x01"
                        "auth=Bearer t\x01\x01"},
        {"OAUTHBEARER", "n,,auth=Bearer t\x01\x01"},
        {"OAUTHBEARER", "n,,\x01host=x\x01\x01"},
        {"OAUTHBEARER", "p=tls-unique,,\x01"
                        "auth=Bearer t\x01\x01"},
    };
    for (Case const& c : cases) {
        INFO(c.mechanism << " " << c.response);
        Server server = make_server(c.mechanism, emulator_accounts());
        server.start();
        CHECK(server.respond(c.response).kind == ServerStep::Kind::malformed);
    }
}

TEST_CASE("the SCRAM server checks the client-final message", "[core][sasl]") {
    ServerOptions options = emulator_accounts();
    options.nonce = "SERVER";
    auto start = [&options]() {
        Server server = make_server("SCRAM-SHA-1", options);
        server.start();
        server.respond("n,,n=alice,r=CLIENT");
        return server;
    };
    Server bad_nonce = start();
    CHECK(bad_nonce.respond("c=biws,r=CLIENTOTHER,p=AAAA").kind == ServerStep::Kind::failure);
    Server bad_binding = start();
    CHECK(bad_binding.respond("c=eSws,r=CLIENTSERVER,p=AAAA").kind == ServerStep::Kind::failure);
    Server bad_proof = start();
    CHECK(bad_proof.respond("c=biws,r=CLIENTSERVER,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=").kind ==
          ServerStep::Kind::failure);
    Server no_proof = start();
    CHECK(no_proof.respond("c=biws,r=CLIENTSERVER").kind == ServerStep::Kind::malformed);
    Server bad_base64 = start();
    CHECK(bad_base64.respond("c=biws,r=CLIENTSERVER,p=A").kind == ServerStep::Kind::malformed);
}

TEST_CASE("the SCRAM server refuses channel binding and unknown mandatory extensions",
          "[core][sasl]") {
    Server plus = make_server("SCRAM-SHA-256", emulator_accounts());
    plus.start();
    CHECK(plus.respond("p=tls-unique,,n=alice,r=abc").kind == ServerStep::Kind::failure);
    Server mext = make_server("SCRAM-SHA-256", emulator_accounts());
    mext.start();
    CHECK(mext.respond("n,,m=foo,n=alice,r=abc").kind == ServerStep::Kind::failure);
    Server y_flag = make_server("SCRAM-SHA-256", emulator_accounts());
    y_flag.start();
    CHECK(y_flag.respond("y,,n=alice,r=abc").kind == ServerStep::Kind::challenge);
}

TEST_CASE("PLAIN and SCRAM servers refuse an authorisation identity other than the user",
          "[core][sasl]") {
    Server plain = make_server("PLAIN", emulator_accounts());
    plain.start();
    CHECK(plain.respond("root\0alice\0correct horse"s).kind == ServerStep::Kind::failure);
    Server same = make_server("PLAIN", emulator_accounts());
    same.start();
    CHECK(same.respond("alice\0alice\0correct horse"s).kind == ServerStep::Kind::success);

    ClientOptions options;
    options.authzid = "root";
    Client client = make_client("SCRAM-SHA-256", {"alice", "correct horse", ""}, options);
    Server scram = make_server("SCRAM-SHA-256", emulator_accounts());
    CHECK(run(client, scram).last.kind == ServerStep::Kind::failure);
}

TEST_CASE("the LOGIN server prompts for the user then the password", "[core][sasl]") {
    ServerOptions options = emulator_accounts();
    options.login_user_prompt = "Username:";
    options.login_password_prompt = "Password:";
    Server server = make_server("LOGIN", options);
    CHECK(server.start().data == "Username:");
    ServerStep const second = server.respond("alice");
    CHECK(second.kind == ServerStep::Kind::challenge);
    CHECK(second.data == "Password:");
    ServerStep const done = server.respond("correct horse");
    CHECK(done.kind == ServerStep::Kind::success);
    CHECK(done.user == "alice");
}

TEST_CASE("client-first servers start with an empty challenge", "[core][sasl]") {
    for (std::string_view mechanism :
         {"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER"}) {
        Server server = make_server(mechanism, emulator_accounts());
        ServerStep const first = server.start();
        CHECK(first.kind == ServerStep::Kind::challenge);
        CHECK(first.data.empty());
    }
}

TEST_CASE("a finished server exchange accepts no further response", "[core][sasl]") {
    Server server = make_server("PLAIN", emulator_accounts());
    server.start();
    CHECK(server.respond("\0alice\0correct horse"s).kind == ServerStep::Kind::success);
    CHECK(server.respond("\0alice\0correct horse"s).kind == ServerStep::Kind::failure);
    Server unstarted = make_server("PLAIN", emulator_accounts());
    CHECK(unstarted.respond("\0alice\0correct horse"s).kind == ServerStep::Kind::failure);
}

TEST_CASE("a SCRAM server error that becomes the password once made printable is withheld",
          "[core][sasl]") {
    // Found by tests/fuzz/sasl_fuzz.cpp: the control byte is shown as '?', which the
    // password happens to contain at that place.
    std::optional<Client> client = Client::create("SCRAM-SHA-256", {"user", "Wh0?Kn0ws!", ""});
    REQUIRE(client);
    ClientStep first = client->respond("");
    REQUIRE(first.kind == ClientStep::Kind::respond);
    ClientStep error = client->respond(std::string("e=Wh0\x01Kn0ws!"));
    CHECK(error.kind == ClientStep::Kind::cancel);
    CHECK(error.error.find("Wh0?Kn0ws!") == std::string::npos);
}
