// The token preflight in the engine: probe() records it before any connection, for a single
// target and for each address of --all-addresses (two emulators on 127.0.0.1 and 127.0.0.2
// behind one name, through the resolver seam), against the clock ProbeOptions gives.

#include "engine/probe.hpp"

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include <sys/socket.h>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

std::string const sender = "sender@contoso.test";

std::string token(std::string const& name) {
    std::ifstream in(source_path("samples/tokens/" + name));
    std::string line;
    std::getline(in, line);
    return line;
}

emulator::ServerOptions on(std::string const& address) {
    emulator::ServerOptions o;
    o.listen_host = address;
    return o;
}

emulator::Profile implicit_profile() {
    return emulator::load_profile(source_path("samples/servers/implicit-tls.json"));
}

sasl::Credentials with_token(std::string const& name) {
    sasl::Credentials c;
    c.user = sender;
    c.token = token(name);
    return c;
}

} // namespace

TEST_CASE("token preflight: --all-addresses keeps it, judged against the given clock",
          "[engine][addresses][token]") {
    Emulated a(implicit_profile(), on("127.0.0.1"));
    Emulated b(implicit_profile(), on("127.0.0.2"));
    Setup s = a.options();
    s.target.host = "pool.example";
    s.options.tls.ca_pem = a.server().ca_pem() + b.server().ca_pem();
    s.target.sni = "smtps.example.test";
    s.options.all_addresses = true;
    s.options.resolve = [&](std::string const&, unsigned short, net::Family, net::Deadline) {
        return std::vector<net::Endpoint>{{"127.0.0.1", a.server().port(), AF_INET},
                                          {"127.0.0.2", b.server().port(), AF_INET}};
    };
    s.options.mechanisms = {"XOAUTH2"};
    s.options.credentials = with_token("m365-delegated.jwt");
    // A clock after the token's exp (2100-01-01): expired, though the token is "valid".
    s.options.clock = [] { return std::int64_t{4'102'444'800 + 3600}; };
    Probed const p = probe(s);
    REQUIRE(p.report.address_probes.size() == 2);
    CHECK(p.report.address_probes[0].session_established);
    CHECK(p.report.address_probes[1].session_established);
    REQUIRE(p.report.token);
    CHECK(p.report.token->checked_at == 4'102'444'800 + 3600);
    CHECK(finding(p.verdict, "oauth.token_expired").title == "The token expired 1 h 0 min ago");
    nlohmann::json const j = nlohmann::json::parse(p.json);
    CHECK(j["token"]["expired"] == true);
    CHECK(j["token"]["expires_in_s"] == -3600);
    for (std::string const* out : {&p.text, &p.json, &p.transcript}) {
        CHECK(out->find(s.options.credentials->token) == std::string::npos);
        CHECK(out->find(sender) == std::string::npos);
    }
}

TEST_CASE("token preflight: recorded before connecting (a refused connection keeps it); "
          "--show-username shows the token's user",
          "[engine][token]") {
    Setup s;
    s.target.host = "127.0.0.1";
    s.target.port = closed_loopback_port();
    s.options.connect_timeout = std::chrono::milliseconds(2000);
    s.options.credentials = with_token("m365-other-user.jwt");
    s.options.show_username = true;
    Probed const p = probe(s);
    CHECK_FALSE(p.report.session_established);
    REQUIRE(p.report.token);
    CHECK(p.report.token->user_shown == "someone.else@contoso.test");
    CHECK(p.report.token->user_claim == "upn");
    CHECK(p.report.token->user_matches == false);
    CHECK(finding(p.verdict, "oauth.token_user_mismatch").evidence ==
          std::vector<std::string>{"token user (upn): someone.else@contoso.test",
                                   "--user: " + sender});
    CHECK(p.text.find("User         someone.else@contoso.test (upn), not --user") !=
          std::string::npos);
}

TEST_CASE("token preflight: a password is not a token; no token, no preflight", "[engine][token]") {
    Setup s;
    s.target.host = "127.0.0.1";
    s.target.port = closed_loopback_port();
    s.options.connect_timeout = std::chrono::milliseconds(2000);
    sasl::Credentials c;
    c.user = sender;
    c.password = "not-the-password";
    s.options.credentials = c;
    CHECK_FALSE(probe(s).report.token);
}
