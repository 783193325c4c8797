// GSSAPI (RFC 4752): the client's step machine over a fake security context, and the
// security-layer message of §3.1 with malformed and hostile server messages. Kerberos itself is
// tested for real in tests/integration (a MIT KDC and Dovecot).

#include "sasl/gssapi.hpp"
#include "sasl/sasl.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace std::string_literals;
using namespace smtpprobe::sasl;

namespace {

/// What the fake context does, and what it was asked.
struct Script {
    GssFailure first_failure = GssFailure::none; ///< initiate("") fails like this
    bool mutual = true;      ///< false: the context completes with the first token
    bool bad_ap_rep = false; ///< initiate(AP-REP) fails
    bool unwrap_fails = false;
    std::vector<GssRequest> requests;
    std::vector<std::string> initiated; ///< the server tokens initiate() got
    int contexts = 0;
};

/// Tokens: the AP-REQ is "AP-REQ", the AP-REP "AP-REP"; wrap(m) is "W:" + m, and unwrap
/// takes the "W:" off (anything else does not unwrap).
class FakeContext final : public SecurityContext {
public:
    explicit FakeContext(Script& script) : script_(script) {}
    GssResult initiate(std::string_view server_token) override {
        script_.initiated.emplace_back(server_token);
        GssResult r;
        if (server_token.empty()) {
            if (script_.first_failure != GssFailure::none) {
                r.failure = script_.first_failure;
                r.error = "Unspecified GSS failure.  Minor code may provide more information: "
                          "Preauthentication failed";
                return r;
            }
            r.token = "AP-REQ";
            r.complete = !script_.mutual;
            return r;
        }
        if (script_.bad_ap_rep || server_token != "AP-REP") {
            r.failure = GssFailure::server_token;
            r.error = "A token was invalid";
            return r;
        }
        r.complete = true;
        return r;
    }
    GssResult wrap(std::string_view message) override {
        GssResult r;
        r.token = "W:" + std::string(message);
        return r;
    }
    GssResult unwrap(std::string_view message) override {
        GssResult r;
        if (script_.unwrap_fails || message.substr(0, 2) != "W:") {
            r.failure = GssFailure::server_token;
            r.error = "The token's validity period has expired"; // any text
            return r;
        }
        r.token = std::string(message.substr(2));
        return r;
    }

private:
    Script& script_;
};

ClientOptions options_for(Script& script) {
    ClientOptions options;
    options.host = "mx.example.test";
    options.gss_context = [&script](GssRequest const& request) -> std::unique_ptr<SecurityContext> {
        script.requests.push_back(request);
        ++script.contexts;
        return std::make_unique<FakeContext>(script);
    };
    return options;
}

Client gssapi_client(ClientOptions options, Credentials credentials = {"alice", "secret", {}}) {
    std::optional<Client> client = Client::create("gssapi", std::move(credentials), options);
    REQUIRE(client);
    return std::move(*client);
}

/// A client whose context is established (AP-REQ sent, AP-REP taken): next is the layer.
Client established(Script& script, std::string const& authzid = {}) {
    ClientOptions options = options_for(script);
    options.authzid = authzid;
    Client client = gssapi_client(options);
    REQUIRE(client.respond("").kind == ClientStep::Kind::respond);
    REQUIRE(client.respond("AP-REP").kind == ClientStep::Kind::respond);
    return client;
}

/// The server's wrapped layer message: layers, then the 3-octet maximum size.
std::string offer(unsigned char layers, std::string size = "\x00\x10\x00"s) {
    return "W:"s + static_cast<char>(layers) + size;
}

} // namespace

TEST_CASE("GSSAPI: AP-REQ, AP-REP, then the security layer (RFC 4752 §3.1)", "[sasl][gssapi]") {
    Script script;
    Client client = gssapi_client(options_for(script));
    CHECK(client_implements("GSSAPI"));
    CHECK(uses_ticket("GSSAPI"));

    ClientStep const first = client.respond("");
    REQUIRE(first.kind == ClientStep::Kind::respond);
    CHECK(first.data == "AP-REQ");
    CHECK(first.secret);
    CHECK_FALSE(client.server_verified());
    REQUIRE(script.requests.size() == 1);
    CHECK(script.requests[0].user == "alice");
    CHECK(script.requests[0].password == "secret");
    CHECK(script.requests[0].service_name == "smtp@mx.example.test");

    ClientStep const second = client.respond("AP-REP");
    REQUIRE(second.kind == ClientStep::Kind::respond);
    CHECK(second.data.empty()); // the context is complete: an empty response
    CHECK(client.server_verified());

    // The server offers "no security layer" and integrity, with a 4096-octet buffer.
    ClientStep const third = client.respond(offer(0x03));
    REQUIRE(third.kind == ClientStep::Kind::respond);
    CHECK(third.data == "W:\x01\x00\x00\x00"s); // no layer, max size 0, no authzid

    ClientStep const fourth = client.respond(offer(0x01));
    CHECK(fourth.kind == ClientStep::Kind::cancel);
    CHECK(script.contexts == 1);
    CHECK(client.responses().size() == 3);
}

TEST_CASE("GSSAPI: the authorisation identity follows the layer octets", "[sasl][gssapi]") {
    Script script;
    Client client = established(script, "shared@example.test");
    ClientStep const answer = client.respond(offer(0x01, "\x00\x00\x00"s));
    REQUIRE(answer.kind == ClientStep::Kind::respond);
    CHECK(answer.data == "W:\x01\x00\x00\x00shared@example.test"s);
}

TEST_CASE("GSSAPI: a context complete with the first token goes straight to the layer",
          "[sasl][gssapi]") {
    Script script;
    script.mutual = false;
    Client client = gssapi_client(options_for(script));
    CHECK(client.respond("").data == "AP-REQ");
    ClientStep const answer = client.respond(offer(0x01));
    REQUIRE(answer.kind == ClientStep::Kind::respond);
    CHECK(answer.data == "W:\x01\x00\x00\x00"s);
}

TEST_CASE("GSSAPI: the service principal", "[sasl][gssapi]") {
    CHECK(gssapi::service_name("", "mx.example") == "smtp@mx.example");
    CHECK(gssapi::service_name("smtp", "mx.example") == "smtp@mx.example");
    CHECK(gssapi::service_name("SMTP", "mx.example") == "SMTP@mx.example");
    CHECK(gssapi::service_name("smtp@relay.example", "mx.example") == "smtp@relay.example");

    Script script;
    ClientOptions options = options_for(script);
    options.gssapi_service = "submission";
    Client client = gssapi_client(options);
    client.respond("");
    REQUIRE(script.requests.size() == 1);
    CHECK(script.requests[0].service_name == "submission@mx.example.test");

    options.gssapi_service = "smtp@relay.example";
    Client other = gssapi_client(options);
    other.respond("");
    REQUIRE(script.requests.size() == 2);
    CHECK(script.requests[1].service_name == "smtp@relay.example");
}

TEST_CASE("GSSAPI: the client's own failures say what they mean for the row", "[sasl][gssapi]") {
    for (GssFailure failure : {GssFailure::credentials_refused, GssFailure::cannot_try}) {
        Script script;
        script.first_failure = failure;
        Client client = gssapi_client(options_for(script));
        ClientStep const step = client.respond("");
        REQUIRE(step.kind == ClientStep::Kind::cancel);
        CHECK(step.gss_failure == failure);
        CHECK(step.error.find("Preauthentication failed") != std::string::npos);
        CHECK(step.error.find("secret") == std::string::npos);
        CHECK(client.responses().empty());
        // The exchange is over.
        CHECK(client.respond("AP-REP").kind == ClientStep::Kind::cancel);
    }

    // No GSS-API library handed in: cannot try, nothing sent.
    Client bare = gssapi_client(ClientOptions{});
    ClientStep const none = bare.respond("");
    REQUIRE(none.kind == ClientStep::Kind::cancel);
    CHECK(none.gss_failure == GssFailure::cannot_try);

    // A control character in the service name never reaches the library.
    Script script;
    ClientOptions options = options_for(script);
    options.gssapi_service = "smtp@mx\r\nexample";
    Client hostile = gssapi_client(options);
    CHECK(hostile.respond("").gss_failure == GssFailure::cannot_try);
    CHECK(script.contexts == 0);
}

TEST_CASE("GSSAPI: malformed and hostile server messages are cancelled", "[sasl][gssapi]") {
    SECTION("a first challenge that is not empty") {
        Script script;
        Client client = gssapi_client(options_for(script));
        ClientStep const step = client.respond("hello");
        CHECK(step.kind == ClientStep::Kind::cancel);
        CHECK(script.contexts == 0);
    }
    SECTION("an AP-REP that does not verify") {
        Script script;
        script.bad_ap_rep = true;
        Client client = gssapi_client(options_for(script));
        client.respond("");
        ClientStep const step = client.respond("forged");
        REQUIRE(step.kind == ClientStep::Kind::cancel);
        CHECK(step.gss_failure == GssFailure::server_token);
        CHECK(step.error.find("does not verify") != std::string::npos);
        CHECK_FALSE(client.server_verified());
    }
    SECTION("a layer message that does not unwrap") {
        Script script;
        Client client = established(script);
        ClientStep const step = client.respond("\x01\x00\x10\x00"s); // not wrapped at all
        REQUIRE(step.kind == ClientStep::Kind::cancel);
        CHECK(step.gss_failure == GssFailure::server_token);
    }
    SECTION("layer messages the client refuses") {
        std::vector<std::pair<std::string, std::string>> const cases = {
            {"W:", "0 octets"},
            {"W:\x01"s, "1 octets"},
            {"W:\x01\x00\x00"s, "3 octets"},
            {"W:\x01\x00\x00\x00\x00"s, "5 octets"},
            {"W:" + std::string(70000, '\x01'), "70000 octets"},
            {offer(0x00), "no security layer at all"},
            {offer(0x02), "requires a GSSAPI security layer"},
            {offer(0x04), "requires a GSSAPI security layer"},
            {offer(0x06), "requires a GSSAPI security layer"},
            {offer(0x09), "bits RFC 4752"},
            {offer(0xff), "bits RFC 4752"},
        };
        for (auto const& [message, words] : cases) {
            INFO(words);
            Script script;
            Client client = established(script);
            ClientStep const step = client.respond(message);
            REQUIRE(step.kind == ClientStep::Kind::cancel);
            CHECK(step.error.find(words) != std::string::npos);
            CHECK(step.gss_failure == GssFailure::none);
            CHECK(client.responses().size() == 2); // nothing wrapped, nothing sent
        }
    }
    SECTION("an authorisation identity with a control character") {
        Script script;
        Client client = established(script, "a\nb");
        CHECK(client.respond(offer(0x01)).kind == ClientStep::Kind::cancel);
    }
    SECTION("endless challenges end within the step bound") {
        Script script;
        Client client = established(script);
        client.respond(offer(0x01));
        for (int i = 0; i < 10; ++i)
            CHECK(client.respond(offer(0x01)).kind == ClientStep::Kind::cancel);
    }
}

TEST_CASE("GSSAPI: the layer offer's octets", "[sasl][gssapi]") {
    gssapi::LayerOfferResult const r = gssapi::parse_layer_offer("\x07\xff\xff\xff"s);
    REQUIRE(r.offer);
    CHECK(r.offer->layers == 0x07);
    CHECK(r.offer->max_size == 0xffffff);
    gssapi::LayerOfferResult const zero = gssapi::parse_layer_offer("\x01\x00\x00\x00"s);
    REQUIRE(zero.offer);
    CHECK(zero.offer->max_size == 0);
    CHECK(gssapi::layer_answer("") == "\x01\x00\x00\x00"s);
}
