// SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS (RFC 5802 §6, RFC 5929 tls-unique, RFC 9266
// tls-exporter): the gs2-header and c= the client builds, and the server's checks of both.
// The emulator and GNU SASL's client check the bindings on real TLS connections
// (tests/engine/scram_plus_probe_test.cpp, tests/integration/scram_plus_gsasl.sh).

#include "sasl/sasl.hpp"
#include "smtp/base64.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using smtpprobe::sasl::ChannelBinding;
using smtpprobe::sasl::Client;
using smtpprobe::sasl::ClientOptions;
using smtpprobe::sasl::ClientStep;
using smtpprobe::sasl::Server;
using smtpprobe::sasl::ServerOptions;
using smtpprobe::sasl::ServerStep;
using smtpprobe::smtp::base64_decode;

namespace {

// What a TLS connection would give: 32 bytes for tls-exporter, 12 for a TLS 1.2 Finished.
ChannelBinding const exporter{ChannelBinding::Type::tls_exporter,
                              std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
                                          "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
                                          "\x1b\x1c\x1d\x1e\x1f\x00",
                                          32)};
ChannelBinding const unique{ChannelBinding::Type::tls_unique, "finished-12b"};

Client client_for(std::string const& mechanism, ChannelBinding binding,
                  std::string const& password = "pencil") {
    ClientOptions options;
    options.nonce = "fyko+d2lbbFgONRv9qkxdawL";
    options.channel_binding = std::move(binding);
    std::optional<Client> client = Client::create(mechanism, {"user", password, ""}, options);
    REQUIRE(client.has_value());
    return std::move(*client);
}

Server server_for(std::string const& mechanism, ChannelBinding binding) {
    ServerOptions options;
    options.accounts.push_back({"user", "pencil", ""});
    options.scram_iterations = 64;
    options.channel_binding = std::move(binding);
    std::optional<Server> server = Server::create(mechanism, options);
    REQUIRE(server.has_value());
    return std::move(*server);
}

/// Client against server as the SMTP layer runs them; the server's last step.
ServerStep run(Client& client, Server& server) {
    ServerStep step = server.start();
    for (int round = 0; round < 8 && step.kind == ServerStep::Kind::challenge; ++round) {
        ClientStep const answer = client.respond(step.data);
        if (answer.kind == ClientStep::Kind::cancel)
            return {ServerStep::Kind::malformed, answer.error, {}};
        step = server.respond(answer.data);
    }
    return step;
}

} // namespace

TEST_CASE("the -PLUS mechanisms are implemented on both sides", "[core][sasl]") {
    for (char const* mechanism : {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "scram-sha-1-plus"}) {
        CHECK(smtpprobe::sasl::client_implements(mechanism));
        CHECK(smtpprobe::sasl::server_implements(mechanism));
        CHECK(smtpprobe::sasl::binds_channel(mechanism));
    }
    CHECK_FALSE(smtpprobe::sasl::binds_channel("SCRAM-SHA-256"));
    CHECK_FALSE(smtpprobe::sasl::binds_channel("X-PLUS"));
    CHECK(smtpprobe::sasl::channel_binding_name(ChannelBinding::Type::tls_exporter) ==
          "tls-exporter");
    CHECK(smtpprobe::sasl::channel_binding_name(ChannelBinding::Type::tls_unique) == "tls-unique");
    CHECK(smtpprobe::sasl::channel_binding_name(ChannelBinding::Type::none).empty());
}

TEST_CASE("RFC 9266: tls-unique while the handshake has one, else tls-exporter", "[core][sasl]") {
    // TLS 1.2 has both: tls-unique stays the default there (RFC 9266 §4 leaves 1.2 as it was).
    ChannelBinding const tls12 = smtpprobe::sasl::choose_channel_binding("fin", "exp");
    CHECK(tls12.type == ChannelBinding::Type::tls_unique);
    CHECK(tls12.data == "fin");
    // TLS 1.3 has no tls-unique.
    ChannelBinding const tls13 = smtpprobe::sasl::choose_channel_binding("", "exp");
    CHECK(tls13.type == ChannelBinding::Type::tls_exporter);
    CHECK(tls13.data == "exp");
    CHECK(smtpprobe::sasl::choose_channel_binding("", "").type == ChannelBinding::Type::none);
}

TEST_CASE("SCRAM-SHA-256-PLUS names the binding in the gs2-header and sends it in c=",
          "[core][sasl]") {
    Client client = client_for("SCRAM-SHA-256-PLUS", exporter);
    ClientStep const first = client.respond("");
    REQUIRE(first.kind == ClientStep::Kind::respond);
    CHECK(first.data == "p=tls-exporter,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    ClientStep const final_step =
        client.respond("r=fyko+d2lbbFgONRv9qkxdawLserver-part,s=c2FsdA==,i=64");
    REQUIRE(final_step.kind == ClientStep::Kind::respond);
    REQUIRE(final_step.data.starts_with("c="));
    std::string const c = final_step.data.substr(2, final_step.data.find(',') - 2);
    CHECK(base64_decode(c) == "p=tls-exporter,," + exporter.data);
}

TEST_CASE("an authorisation identity sits between the binding and the user", "[core][sasl]") {
    ClientOptions options;
    options.nonce = "abc";
    options.authzid = "admin";
    options.channel_binding = unique;
    std::optional<Client> client =
        Client::create("SCRAM-SHA-1-PLUS", {"user", "pencil", ""}, options);
    REQUIRE(client.has_value());
    CHECK(client->respond("").data == "p=tls-unique,a=admin,n=user,r=abc");
}

TEST_CASE("client and server agree on both bindings and both hashes", "[core][sasl]") {
    for (char const* mechanism : {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"}) {
        for (ChannelBinding const& binding : {exporter, unique}) {
            INFO(mechanism << " " << smtpprobe::sasl::channel_binding_name(binding.type));
            Client client = client_for(mechanism, binding);
            Server server = server_for(mechanism, binding);
            ServerStep const last = run(client, server);
            CHECK(last.kind == ServerStep::Kind::success);
            CHECK(client.server_verified());
        }
    }
}

TEST_CASE("the server refuses a binding that is not its connection's", "[core][sasl]") {
    ChannelBinding other = exporter;
    other.data[0] = '\x7f';
    struct Case {
        char const* what;
        char const* client_mechanism;
        ChannelBinding client_binding;
        char const* server_mechanism;
        ChannelBinding server_binding;
        char const* password;
    };
    Case const cases[] = {
        {"other data: a man in the middle holds two TLS sessions", "SCRAM-SHA-256-PLUS", other,
         "SCRAM-SHA-256-PLUS", exporter, "pencil"},
        {"another type", "SCRAM-SHA-256-PLUS", unique, "SCRAM-SHA-256-PLUS", exporter, "pencil"},
        {"a -PLUS server without TLS",
         "SCRAM-SHA-256-PLUS",
         exporter,
         "SCRAM-SHA-256-PLUS",
         {},
         "pencil"},
        {"a client that does not bind, on a -PLUS exchange", "SCRAM-SHA-256", exporter,
         "SCRAM-SHA-256-PLUS", exporter, "pencil"},
        {"a client that binds, on an exchange without -PLUS", "SCRAM-SHA-256-PLUS", exporter,
         "SCRAM-SHA-256", exporter, "pencil"},
        {"the wrong password with the right binding", "SCRAM-SHA-1-PLUS", exporter,
         "SCRAM-SHA-1-PLUS", exporter, "wrong"},
    };
    for (Case const& c : cases) {
        INFO(c.what);
        Client client = client_for(c.client_mechanism, c.client_binding, c.password);
        Server server = server_for(c.server_mechanism, c.server_binding);
        CHECK(run(client, server).kind == ServerStep::Kind::failure);
    }
}

TEST_CASE("SCRAM-*-PLUS without a TLS channel cancels before sending anything", "[core][sasl]") {
    Client client = client_for("SCRAM-SHA-256-PLUS", {});
    ClientStep const step = client.respond("");
    CHECK(step.kind == ClientStep::Kind::cancel);
    CHECK(step.error.find("TLS") != std::string::npos);
    CHECK(client.responses().empty());
}

TEST_CASE("the server refuses a malformed channel-binding name", "[core][sasl]") {
    Server server = server_for("SCRAM-SHA-256-PLUS", exporter);
    server.start();
    CHECK(server.respond("p=tls exporter,,n=user,r=abc").kind == ServerStep::Kind::malformed);
    Server again = server_for("SCRAM-SHA-256-PLUS", exporter);
    again.start();
    CHECK(again.respond("p=tls-exporter\x01,,n=user,r=abc").kind == ServerStep::Kind::malformed);
}
