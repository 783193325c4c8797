// --all-addresses through the resolver seam: a name with several addresses, each a real
// emulator on its own loopback address (127.0.0.1, 127.0.0.2), probed on its own.

#include "engine/probe.hpp"
#include "net/errc.hpp"

#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include <sys/socket.h>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

emulator::Profile pool_profile(std::string const& sample = "postfix-submission") {
    emulator::Profile p =
        emulator::load_profile(source_path("samples/servers/" + sample + ".json"));
    p.hostname = "pool.example";
    return p;
}

emulator::ServerOptions on(std::string const& address,
                           std::optional<emulator::CertificateKind> kind = std::nullopt) {
    emulator::ServerOptions o;
    o.listen_host = address;
    o.certificate = kind;
    return o;
}

/// A setup for the name pool.example, resolved (by the seam) to `endpoints`, trusting `cas`.
Setup pool(std::vector<net::Endpoint> endpoints, std::string const& cas, bool all = true) {
    Setup s;
    s.target.host = "pool.example";
    s.target.port = endpoints.front().port;
    s.options.tls.ca_pem = cas;
    s.options.tls.use_system_store = false;
    s.options.connect_timeout = std::chrono::milliseconds(2000);
    s.options.command_timeout = std::chrono::milliseconds(3000);
    s.options.total_timeout = std::chrono::milliseconds(20000);
    s.options.all_addresses = all;
    s.options.resolve = [endpoints](std::string const& host, unsigned short, net::Family,
                                    net::Deadline) {
        REQUIRE(host == "pool.example");
        return endpoints;
    };
    return s;
}

net::Endpoint endpoint(std::string const& address, unsigned short port) {
    return {address, port, AF_INET};
}

} // namespace

TEST_CASE("all addresses names the node whose certificate expired, in text and JSON",
          "[engine][addresses]") {
    Emulated good(pool_profile(), on("127.0.0.1"));
    Emulated expired(pool_profile(), on("127.0.0.2", emulator::CertificateKind::expired));
    Setup const s = pool({endpoint("127.0.0.1", good.server().port()),
                          endpoint("127.0.0.2", expired.server().port())},
                         good.server().ca_pem() + expired.server().ca_pem());
    Probed const p = probe(s);

    REQUIRE(p.report.address_probes.size() == 2);
    CHECK(p.report.address_probes[0].address == "127.0.0.1");
    CHECK(p.report.address_probes[1].address == "127.0.0.2");
    CHECK(p.report.address_probes[0].tls->verified());
    CHECK_FALSE(p.report.address_probes[1].tls->verified());
    CHECK(p.report.connected_address == "127.0.0.1");
    CHECK(p.report.connections ==
          p.report.address_probes[0].connections + p.report.address_probes[1].connections);

    Finding const& f = finding(p.verdict, "addresses.certificate_differs");
    CHECK(f.severity == Severity::error);
    CHECK(f.title == "127.0.0.1 presents a valid certificate; 127.0.0.2 presents an expired one");
    CHECK(p.verdict.exit_code == exit_code::problems);
    CHECK(p.text.find("127.0.0.2 presents an expired one") != std::string::npos);
    CHECK(p.text.find("Addresses  2 of 2") != std::string::npos);

    nlohmann::json const j = nlohmann::json::parse(p.json);
    REQUIRE(j["target"]["address_probes"].size() == 2);
    CHECK(j["target"]["address_probes"][1]["address"] == "127.0.0.2");
    CHECK(j["target"]["address_probes"][1]["tls"]["verified"] == false);
    CHECK(j["target"]["address_probes"][1]["tls"]["certificate"]["days_left"].get<long>() < 0);
    CHECK(j["target"]["address_probes"][0]["tls"]["verified"] == true);
    CHECK(j["connections"] == p.report.connections);
    bool in_json = false;
    for (auto const& jf : j["findings"])
        in_json =
            in_json || (jf["id"] == "addresses.certificate_differs" &&
                        jf["title"].get<std::string>().find("127.0.0.2") != std::string::npos);
    CHECK(in_json);
}

TEST_CASE("all addresses: each connection of the transcript goes to one address, numbered "
          "once over the run",
          "[engine][addresses]") {
    Emulated a(pool_profile(), on("127.0.0.1"));
    Emulated b(pool_profile(), on("127.0.0.2"));
    Setup const s =
        pool({endpoint("127.0.0.1", a.server().port()), endpoint("127.0.0.2", b.server().port())},
             a.server().ca_pem() + b.server().ca_pem());
    TranscriptObserver observer;
    Report const r = smtpprobe::probe(s.target, s.options, observer);
    std::map<int, std::set<std::string>> peers; // connection -> addresses it says it reached
    for (TranscriptEvent const& e : observer.transcript().events())
        if (e.text.starts_with("Connected to "))
            peers[e.session].insert(e.text.substr(13, e.text.find(" port") - 13));
    CHECK(static_cast<int>(peers.size()) == r.connections);
    int to_b = 0;
    for (auto const& [id, addresses] : peers) {
        CHECK(addresses.size() == 1);
        to_b += addresses.count("127.0.0.2") ? 1 : 0;
    }
    CHECK(to_b == r.address_probes[1].connections);
    CHECK(b.server().connections_accepted() == static_cast<std::size_t>(to_b));
    // The same configuration, each node with its own (valid) certificate: that is the one
    // difference, and only an info.
    Verdict const v = evaluate(r, {});
    for (Finding const& f : v.findings)
        if (f.id.starts_with("addresses."))
            CHECK(f.id == "addresses.certificates_differ");
    CHECK(finding(v, "addresses.certificates_differ").severity == Severity::info);
    CHECK(v.exit_code == exit_code::ok);
}

TEST_CASE("all addresses: AUTH that differs between nodes is one finding naming both",
          "[engine][addresses]") {
    Emulated postfix(pool_profile("postfix-submission"), on("127.0.0.1"));
    Emulated acs(pool_profile("azure-acs"), on("127.0.0.2"));
    Setup const s = pool({endpoint("127.0.0.1", postfix.server().port()),
                          endpoint("127.0.0.2", acs.server().port())},
                         postfix.server().ca_pem() + acs.server().ca_pem());
    Probed const p = probe(s);
    Finding const& f = finding(p.verdict, "addresses.auth_differs");
    CHECK(f.severity == Severity::error);
    CHECK(f.title.starts_with("AUTH PLAIN: 334 on 127.0.0.1, 504 on 127.0.0.2"));
    CHECK(has_finding(p.verdict, "addresses.banner_differs"));
}

TEST_CASE("all addresses: a dead node among live ones is an error naming it: the report is "
          "the live node's",
          "[engine][addresses]") {
    Emulated live(pool_profile(), on("127.0.0.1"));
    Setup const s = pool({endpoint("127.0.0.1", closed_loopback_port()),
                          endpoint("127.0.0.1", live.server().port())},
                         live.server().ca_pem());
    Probed const p = probe(s);
    REQUIRE(p.report.address_probes.size() == 2);
    CHECK_FALSE(p.report.address_probes[0].session_established);
    CHECK(p.report.address_probes[1].session_established);
    CHECK(p.report.session_established);
    Finding const& f = finding(p.verdict, "addresses.session_differs");
    CHECK(f.severity == Severity::error);
    CHECK(f.title.find("gets no session (connect:") != std::string::npos);
    CHECK(p.verdict.exit_code == exit_code::problems);
}

TEST_CASE("without --all-addresses, a name with several addresses gets an info finding",
          "[engine][addresses]") {
    Emulated a(pool_profile(), on("127.0.0.1"));
    Emulated b(pool_profile(), on("127.0.0.2"));
    Setup const s =
        pool({endpoint("127.0.0.1", a.server().port()), endpoint("127.0.0.2", b.server().port())},
             a.server().ca_pem(), false);
    Probed const p = probe(s);
    CHECK(p.report.address_probes.empty());
    CHECK(b.server().connections_accepted() == 0);
    Finding const& f = finding(p.verdict, "addresses.not_all_probed");
    CHECK(f.severity == Severity::info);
    CHECK(f.title == "pool.example has 2 addresses; only 127.0.0.1 was probed");
    CHECK(f.detail.find("--all-addresses") != std::string::npos);
}

TEST_CASE("all addresses probes at most max_addresses and says how many were left",
          "[engine][addresses]") {
    Emulated a(pool_profile(), on("127.0.0.1"));
    Emulated b(pool_profile(), on("127.0.0.2"));
    Setup s =
        pool({endpoint("127.0.0.1", a.server().port()), endpoint("127.0.0.2", b.server().port()),
              endpoint("127.0.0.3", b.server().port())},
             a.server().ca_pem() + b.server().ca_pem());
    s.options.max_addresses = 2;
    Probed const p = probe(s);
    CHECK(p.report.address_probes.size() == 2);
    CHECK(p.report.addresses.size() == 3);
    CHECK(p.report.addresses_not_probed == 1);
    CHECK(finding(p.verdict, "addresses.over_limit").title == "2 of 3 addresses probed");
}

TEST_CASE("an interrupt while the name resolves is an interrupted run (exit 130), not a failed one",
          "[engine][interrupt]") {
    Setup s = pool({endpoint("127.0.0.1", 1)}, "");
    s.options.resolve = [](std::string const&, unsigned short, net::Family,
                           net::Deadline) -> std::vector<net::Endpoint> {
        throw std::system_error(make_error_code(net::errc::interrupted), "interrupted");
    };
    Observer observer;
    Report const r = smtpprobe::probe(s.target, s.options, observer);
    REQUIRE(r.fatal);
    CHECK(r.fatal->phase == Phase::resolve);
    CHECK(r.fatal->kind == FailureKind::interrupted);
    CHECK(r.interrupted);
    CHECK(evaluate(r, {}).exit_code == exit_code::interrupted);
}

TEST_CASE("all addresses: the front end's redactor learns the SASL responses of every address",
          "[engine][addresses][secrets]") {
    Emulated a(pool_profile(), on("127.0.0.1"));
    Emulated b(pool_profile(), on("127.0.0.2"));
    sasl::Credentials const credentials{"alice@example.test", "postfix-test-password-not-real", ""};
    Setup s =
        pool({endpoint("127.0.0.1", a.server().port()), endpoint("127.0.0.2", b.server().port())},
             a.server().ca_pem() + b.server().ca_pem());
    s.options.credentials = credentials;
    Observer all;
    Report const r = smtpprobe::probe(s.target, s.options, all);
    REQUIRE(r.address_probes.size() == 2);
    // The same server probed alone: what its redactor makes of each line the server received
    // is what the --all-addresses front end's must make of it.
    Setup one = a.options();
    one.options.credentials = credentials;
    Observer single;
    smtpprobe::probe(one.target, one.options, single);
    std::size_t responses = 0;
    for (Emulated* server : {&a, &b})
        for (std::string const& line : server->server().received()) {
            std::string const text = line.substr(line.find(": ") + 2);
            bool const verb =
                text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
            if (text.empty() || verb || text.find(' ') != std::string::npos || text == "*" ||
                text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789+/=") != std::string::npos)
                continue; // a command (QUIT, STARTTLS), not a SASL response line
            ++responses;
            INFO(text);
            CHECK(all.redactor().redact(text) != text);
            CHECK(all.redactor().redact(text) == single.redactor().redact(text));
        }
    CHECK(responses > 0);
}

TEST_CASE("all addresses: the envelope runs on the address the report is about",
          "[engine][addresses][envelope]") {
    Emulated a(pool_profile(), on("127.0.0.1"));
    Emulated b(pool_profile(), on("127.0.0.2"));
    Setup s =
        pool({endpoint("127.0.0.1", a.server().port()), endpoint("127.0.0.2", b.server().port())},
             a.server().ca_pem() + b.server().ca_pem());
    s.options.credentials =
        sasl::Credentials{"alice@example.test", "postfix-test-password-not-real", ""};
    s.options.envelope =
        probes::EnvelopeRequest{"bob@example.test", {"carol@example.test"}, {}, false};
    Probed const p = probe(s);
    REQUIRE(p.report.address_probes.size() == 2);
    REQUIRE(p.report.envelope);
    CHECK(p.report.envelope->authenticated);
    CHECK(p.report.envelope->steps.at(0).reply->code == 553);
    CHECK(has_finding(p.verdict, "envelope.sender_not_owned"));
}
