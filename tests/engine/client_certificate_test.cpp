// --cert/--key and EXTERNAL against the emulator's client-certificate server side: the
// certificate is offered when the server asks, the report names it, EXTERNAL authenticates
// with it, and what cannot load is a named error.

#include "net/tls.hpp"
#include "support/client_certificate.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

Setup with_certificate(Emulated const& server, std::string const& cert, std::string const& key) {
    Setup s = server.options();
    s.options.tls.client_certificate.cert_file = cert;
    s.options.tls.client_certificate.key_file = key;
    return s;
}

net::ClientCertificateError::Kind load_error(net::ClientCertificate const& c) {
    net::TlsClientOptions o;
    o.use_system_store = false;
    o.client_certificate = c;
    try {
        net::TlsClientContext context(o);
    } catch (net::ClientCertificateError const& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(client_key_passphrase) == std::string::npos);
        return e.kind();
    }
    FAIL("the client certificate loaded");
    return {};
}

} // namespace

TEST_CASE("EXTERNAL with a client certificate from the server's CA: 235, and the report names "
          "the certificate offered",
          "[engine][external]") {
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    REQUIRE(server.server().client_pki());
    ClientFiles files(*server.server().client_pki());
    Probed const p = probe(with_certificate(server, files.cert, files.key));
    MechanismRow const& external = row(p.report, "EXTERNAL");
    CHECK(external.authentication.status == Status::accepted);
    CHECK(external.authentication.reply->code == 235);
    REQUIRE(p.report.server.tls);
    net::TlsInfo const& tls = *p.report.server.tls;
    CHECK(tls.client_certificate_requested);
    REQUIRE(tls.client_certificate);
    CHECK(tls.client_certificate->subject == "CN=smtpprobe emulator client,O=smtpprobe emulator");
    CHECK(tls.client_certificate->issuer.find("smtpprobe emulator client CA") != std::string::npos);
    CHECK(tls.client_certificate->sha256.size() == 95);
    CHECK_FALSE(tls.client_certificate->not_after.empty());
    REQUIRE(tls.client_certificate_authorities.size() == 1);
    CHECK(tls.client_certificate_authorities[0].find("client CA") != std::string::npos);
    CHECK(p.text.find("Client cert  requested by the server; offered CN=smtpprobe emulator "
                      "client") != std::string::npos);
    nlohmann::json const doc = nlohmann::json::parse(p.json);
    CHECK(doc["server"]["tls"]["client_certificate_requested"] == true);
    CHECK(doc["server"]["tls"]["client_certificate"]["sha256"] == tls.client_certificate->sha256);
    CHECK(doc["credentials"]["client_certificate_given"] == true);
    // No user: the other rows are recognised only, EXTERNAL sends no secret.
    CHECK(row(p.report, "PLAIN").authentication.status == Status::skipped);
    // The emulator saw "AUTH EXTERNAL" then, on the same connection ("cN: "), an empty
    // response (no authzid). Other connections' lines may come in between.
    bool empty_response = false;
    std::vector<std::string> const lines = server.server().received();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!lines[i].ends_with(": AUTH EXTERNAL"))
            continue;
        std::string const prefix = lines[i].substr(0, lines[i].size() - 13); // "cN: "
        for (std::size_t j = i + 1; j < lines.size(); ++j)
            if (lines[j].starts_with(prefix)) {
                empty_response = empty_response || lines[j] == prefix;
                break;
            }
    }
    CHECK(empty_response);
}

TEST_CASE("EXTERNAL with --authzid: the identity of the certificate is granted, another one is "
          "refused",
          "[engine][external]") {
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    ClientFiles files(*server.server().client_pki());
    Setup s = with_certificate(server, files.cert, files.key);
    s.options.authzid = "CN=smtpprobe emulator client,O=smtpprobe emulator";
    CHECK(row(probe(s).report, "EXTERNAL").authentication.status == Status::accepted);
    s.options.authzid = "postmaster";
    CHECK(row(probe(s).report, "EXTERNAL").authentication.status == Status::rejected);
}

TEST_CASE("without a client certificate EXTERNAL cannot be tried: the server's request is "
          "reported",
          "[engine][external]") {
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    Setup s = server.options();
    s.options.credentials = sasl::Credentials{"alice@example.test", "client-cert-pw-not-real", ""};
    Probed const p = probe(s);
    MechanismRow const& external = row(p.report, "EXTERNAL");
    CHECK(external.recognition.status == Status::recognised);
    CHECK(external.authentication.status == Status::skipped);
    CHECK(external.authentication.cannot_try);
    CHECK(external.authentication.reason == "cannot try (no client certificate: --cert/--key)");
    CHECK(row(p.report, "PLAIN").authentication.status == Status::accepted);
    REQUIRE(p.report.server.tls);
    CHECK(p.report.server.tls->client_certificate_requested);
    CHECK_FALSE(p.report.server.tls->client_certificate);
    CHECK(p.text.find("requested by the server; none offered (--cert/--key)") != std::string::npos);
    CHECK(p.text.find("EXTERNAL: cannot try (no client certificate: --cert/--key)") !=
          std::string::npos);
}

TEST_CASE("a certificate from another CA is offered and EXTERNAL is refused with 535",
          "[engine][external]") {
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    ClientFiles files(stranger_pki());
    Probed const p = probe(with_certificate(server, files.cert, files.key));
    MechanismRow const& external = row(p.report, "EXTERNAL");
    CHECK(external.authentication.status == Status::rejected);
    CHECK(external.authentication.reply->code == 535);
    REQUIRE(p.report.server.tls->client_certificate);
    CHECK(p.report.server.tls->client_certificate->subject.find("CN=stranger") !=
          std::string::npos);
}

TEST_CASE("an encrypted key opens with its passphrase, which appears in no output",
          "[engine][external]") {
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    ClientFiles files(*server.server().client_pki());
    Setup s = with_certificate(server, files.cert, files.encrypted_key);
    s.options.tls.client_certificate.passphrase = client_key_passphrase;
    Probed const p = probe(s);
    CHECK(row(p.report, "EXTERNAL").authentication.status == Status::accepted);
    for (std::string const* out : {&p.text, &p.json, &p.transcript})
        CHECK(out->find(client_key_passphrase) == std::string::npos);
}

TEST_CASE("EXTERNAL follows the credential policy: not over TLS that did not verify",
          "[engine][external]") {
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    ClientFiles files(*server.server().client_pki());
    Setup s = with_certificate(server, files.cert, files.key);
    s.options.tls.ca_pem = stranger_pki().ca_pem; // the server's certificate does not verify
    MechanismRow const withheld = row(probe(s).report, "EXTERNAL");
    CHECK(withheld.authentication.status == Status::skipped);
    CHECK(withheld.authentication.withheld == Withheld::unverified_chain);
    s.options.allow_insecure_auth = true;
    Probed const sent = probe(s);
    CHECK(row(sent.report, "EXTERNAL").authentication.status == Status::accepted);
    CHECK(sent.report.credentials_sent_insecurely);
}

TEST_CASE("client certificates that do not load are named errors", "[engine][external]") {
    using Kind = net::ClientCertificateError::Kind;
    ClientFiles mine(stranger_pki());
    ClientFiles other(stranger_pki());
    std::string const text = mine.write("not-pem.txt", "just some text\n");
    CHECK(load_error({mine.cert + ".missing", mine.key, ""}) == Kind::missing_file);
    CHECK(load_error({mine.cert, mine.key + ".missing", ""}) == Kind::missing_file);
    CHECK(load_error({text, mine.key, ""}) == Kind::not_pem);
    CHECK(load_error({mine.cert, text, ""}) == Kind::not_pem);
    CHECK(load_error({mine.cert, other.key, ""}) == Kind::key_mismatch);
    CHECK(load_error({mine.cert, mine.encrypted_key, ""}) == Kind::passphrase);
    CHECK(load_error({mine.cert, mine.encrypted_key, "wrong-passphrase"}) == Kind::passphrase);
    // The certificate and its key in one file (--cert alone) load; the certificate alone
    // does not.
    emulator::Pki const pki = stranger_pki();
    net::TlsClientOptions o;
    o.use_system_store = false;
    o.client_certificate.cert_file = mine.write("both.pem", pki.cert_pem + pki.key_pem);
    CHECK_NOTHROW(net::TlsClientContext(o));
    CHECK(load_error({mine.cert, "", ""}) == Kind::not_pem);
}

TEST_CASE("all addresses (--all-addresses) are offered the certificate and EXTERNAL works on each",
          "[engine][external][addresses]") {
    emulator::Pki const client = emulator::make_pki(emulator::client_certificate_spec(
        "pool client", "smtpprobe test pool client CA (not for production)"));
    emulator::ServerOptions first, second;
    first.listen_host = "127.0.0.1";
    second.listen_host = "127.0.0.2";
    first.client_ca_pem = second.client_ca_pem = client.ca_pem;
    emulator::Profile const profile =
        emulator::parse_profile(client_certificate_profile(), "test profile");
    Emulated a(profile, first), b(profile, second);
    ClientFiles files(client);
    Setup s = with_certificate(a, files.cert, files.key);
    s.options.tls.ca_pem = a.server().ca_pem() + b.server().ca_pem();
    s.options.all_addresses = true;
    std::vector<net::Endpoint> const endpoints{{"127.0.0.1", a.server().port(), AF_INET},
                                               {"127.0.0.2", b.server().port(), AF_INET}};
    s.options.resolve = [endpoints](std::string const&, unsigned short, net::Family,
                                    net::Deadline) { return endpoints; };
    Probed const p = probe(s);
    REQUIRE(p.report.address_probes.size() == 2);
    for (AddressProbe const& address : p.report.address_probes) {
        INFO(address.address);
        REQUIRE(address.tls);
        CHECK(address.tls->client_certificate);
        bool accepted = false;
        for (MechanismRow const& m : address.rows)
            if (m.name == "EXTERNAL")
                accepted = m.authentication.status == Status::accepted;
        CHECK(accepted);
    }
}

TEST_CASE("a server that asks for a certificate without offering EXTERNAL gets it too: one that "
          "does not ask gets none",
          "[engine][external]") {
    nlohmann::json profile = client_certificate_profile();
    profile["ehlo"]["after_tls"] = {"AUTH PLAIN"};
    profile["auth"]["mechanisms"] = {"PLAIN"};
    Emulated asking = Emulated::inline_profile(profile);
    ClientFiles files(*asking.server().client_pki());
    Probed const asked = probe(with_certificate(asking, files.cert, files.key));
    REQUIRE(asked.report.server.tls);
    CHECK(asked.report.server.tls->client_certificate_requested);
    REQUIRE(asked.report.server.tls->client_certificate);
    CHECK(row(asked.report, "EXTERNAL").recognition.status == Status::not_supported);

    profile["request_client_certificate"] = false;
    Emulated silent = Emulated::inline_profile(profile);
    Probed const not_asked = probe(with_certificate(silent, files.cert, files.key));
    REQUIRE(not_asked.report.server.tls);
    CHECK_FALSE(not_asked.report.server.tls->client_certificate_requested);
    CHECK_FALSE(not_asked.report.server.tls->client_certificate);
    CHECK(not_asked.text.find("Client cert  not requested by the server (--cert not sent)") !=
          std::string::npos);
}
