// TLS diagnostics against the emulator with certificates generated per run (emulator/cert.hpp):
// valid, expired, not yet valid, wrong host, self-signed, intermediate sent or not, untrusted
// root, expiring; protocol version enumeration; SNI; STARTTLS injection evidence; the trust
// store read once per process and again when its file changes.

#include "emulator/cert.hpp"
#include "engine/probe.hpp"
#include "net/tls.hpp"
#include "net/tls_trust_store.hpp"
#include "smtp/base64.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <openssl/ssl.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace smtpprobe;
using namespace smtpprobe::test;
using Json = nlohmann::json;

namespace {

std::string const tls_user = "tls-user@example.test";
std::string const tls_password = "tls-test-password-not-real";

Json base_profile(Json extra = Json::object()) {
    Json profile = {{"name", "tls-test"},
                    {"tls", "starttls"},
                    {"ehlo", {{"before_tls", {"STARTTLS"}}, {"after_tls", {"AUTH PLAIN LOGIN"}}}},
                    {"auth",
                     {{"mechanisms", {"PLAIN", "LOGIN"}},
                      {"accounts", {{{"user", tls_user}, {"password", tls_password}}}}}}};
    profile.update(extra);
    return profile;
}

Emulated serve(emulator::Pki const& pki, Json const& profile = base_profile(),
               std::optional<emulator::Pki> no_sni_pki = std::nullopt) {
    emulator::ServerOptions options;
    options.pki = pki;
    options.no_sni_pki = std::move(no_sni_pki);
    return Emulated(emulator::parse_profile(profile, "tls test profile"), options);
}

/// Options against `server` trusting `ca_pem` (the server's own test CA by default).
Setup options_for(Emulated const& server, std::string const& ca_pem = {}) {
    Setup o = server.options();
    if (!ca_pem.empty())
        o.options.tls.ca_pem = ca_pem;
    o.options.mechanisms = {"PLAIN", "LOGIN"};
    return o;
}

/// Options against `server` trusting only the CA file at `path` (--ca-file).
Setup options_with_ca_file(Emulated const& server, std::string const& path) {
    Setup o = options_for(server);
    o.options.tls.ca_pem.clear();
    o.options.tls.ca_file = path;
    return o;
}

bool contains(std::string const& text, std::string const& part) {
    return text.find(part) != std::string::npos;
}

/// No TLS finding of severity error (tls.*).
bool no_tls_errors(Verdict const& report) {
    for (Finding const& f : report.findings)
        if (f.id.rfind("tls.", 0) == 0 && f.severity == Severity::error)
            return false;
    return true;
}

/// An unrelated CA: trusting it means trusting nothing the server sends.
std::string const& stranger_ca() {
    static std::string const pem = emulator::make_pki({}).ca_pem;
    return pem;
}

class TempFile {
public:
    explicit TempFile(std::string const& content) {
        char name[] = "/tmp/smtpprobe-tls-test-XXXXXX";
        int const fd = ::mkstemp(name);
        if (fd < 0)
            throw std::runtime_error("mkstemp failed");
        ::close(fd);
        path_ = name;
        std::ofstream(path_) << content;
    }
    ~TempFile() { std::remove(path_.c_str()); }
    TempFile(TempFile const&) = delete;
    TempFile& operator=(TempFile const&) = delete;
    std::string const& path() const noexcept { return path_; }

private:
    std::string path_;
};

void print_example(std::string const& label, Probed const& p) {
    if (std::getenv("SMTPPROBE_PRINT_EXAMPLES") != nullptr)
        std::printf("===== %s =====\n%s\n", label.c_str(), p.text.c_str());
}

} // namespace

TEST_CASE("a valid certificate verifies with --ca-file of the test CA", "[engine][tls]") {
    emulator::Pki const pki = emulator::make_pki({});
    Emulated server = serve(pki);
    TempFile ca(pki.ca_pem);
    Setup o = options_with_ca_file(server, ca.path());
    Probed p = probe(o);
    print_example("valid", p);
    Report const& r = p.report;
    Verdict const& v = p.verdict;
    REQUIRE(r.server.tls);
    net::TlsInfo const& t = *r.server.tls;
    CHECK(t.verified());
    CHECK(t.verify_issues.empty());
    CHECK(t.verify_depth == -1);
    REQUIRE(t.chain.size() == 1);
    CHECK(t.chain.front().days_left == 365);
    CHECK(t.chain.front().key == "EC 256");
    CHECK(no_tls_errors(v));
    CHECK(v.exit_code == exit_code::ok);

    Json const doc = Json::parse(p.json);
    Json const& tls = doc["server"]["tls"];
    CHECK(tls["verified"] == true);
    CHECK(tls["chain_verified"] == true);
    CHECK(tls["verify_depth"].is_null());
    CHECK(tls["verify_errors"].empty());
    CHECK(tls["sni_sent"] == false); // 127.0.0.1: RFC 6066 forbids an address in SNI
    CHECK(tls["chain"][0]["sha256"].get<std::string>().size() == 95);
    CHECK(doc["certificate_thresholds"]["warn_days"] == 30);
    CHECK(contains(p.text, "Chain        verified"));
    CHECK(contains(p.text, "Host name    127.0.0.1: matches the certificate"));
    CHECK(contains(p.text, "Certificates #0 CN=localhost"));
}

TEST_CASE("an expired certificate: how long ago, at which depth, exit 1", "[engine][tls]") {
    emulator::CertSpec spec;
    spec.not_before_days = -400;
    spec.not_after_days = -12;
    Emulated server = serve(emulator::make_pki(spec));
    Probed p = probe(options_for(server));
    print_example("expired", p);
    Report const& r = p.report;
    Verdict const& v = p.verdict;
    REQUIRE(r.server.tls);
    CHECK(r.server.tls->verify_code == 10);
    CHECK(r.server.tls->verify_depth == 0);
    Finding const& f = finding(v, "tls.cert_expired");
    CHECK(f.severity == Severity::error);
    CHECK(f.title == "The certificate expired 12 days ago");
    CHECK(contains(p.text, "The certificate expired 12 days ago"));
    CHECK(contains(p.text, "NOT verified: certificate has expired (depth 0: CN=localhost"));
    CHECK_FALSE(has_finding(v, "tls.cert_expiring"));
    CHECK_FALSE(has_finding(v, "tls.not_verified"));
    CHECK(v.exit_code == exit_code::problems);
    Json const doc = Json::parse(p.json);
    CHECK(doc["server"]["tls"]["verify_code"] == 10);
    CHECK(doc["server"]["tls"]["verify_depth"] == 0);
    CHECK(doc["server"]["tls"]["verify_errors"][0]["reason"] == "certificate has expired");
    CHECK(doc["findings"].dump().find("tls.cert_expired") != std::string::npos);
    CHECK(doc["exit_code"] == 1);
}

TEST_CASE("a certificate that is not valid yet", "[engine][tls]") {
    emulator::CertSpec spec;
    spec.not_before_days = 3;
    Emulated server = serve(emulator::make_pki(spec));
    Probed p = probe(options_for(server));
    print_example("not yet valid", p);
    Finding const& f = finding(p.verdict, "tls.cert_not_yet_valid");
    CHECK(f.severity == Severity::error);
    CHECK(contains(f.title, "(in 3 days)"));
    CHECK(p.report.server.tls->verify_code == 9);
    CHECK(p.verdict.exit_code == exit_code::problems);
}

TEST_CASE("a certificate for another host: names it, lists the SANs, sends no credentials",
          "[engine][tls][auth]") {
    emulator::CertSpec spec;
    spec.common_name = "mail.example.net";
    spec.dns_names = {"mail.example.net"};
    spec.ip_addresses = {};
    Emulated server = serve(emulator::make_pki(spec));
    Setup o = options_for(server);
    o.target.sni = "smtp.example.com";
    o.options.credentials = sasl::Credentials{tls_user, tls_password, ""};
    Probed p = probe(o);
    print_example("wrong host", p);
    Report const& r = p.report;
    Verdict const& v = p.verdict;
    REQUIRE(r.server.tls);
    CHECK(r.server.tls->chain_verified); // the chain is fine: only the name is wrong
    CHECK_FALSE(r.server.tls->host_verified);
    Finding const& f = finding(v, "tls.host_mismatch");
    CHECK(f.severity == Severity::error);
    CHECK(f.title == "The certificate is for mail.example.net, not smtp.example.com");
    CHECK(contains(f.evidence.front(), "DNS:mail.example.net"));
    CHECK(contains(p.text, "smtp.example.com: does NOT match the certificate"));
    CHECK(has_finding(v, "auth.credentials_not_sent"));
    for (char const* name : {"PLAIN", "LOGIN"}) {
        INFO(name);
        MechanismRow const& m = row(r, name);
        CHECK(m.recognition.status == Status::recognised);
        CHECK(m.authentication.status == Status::skipped);
        CHECK(m.authentication.reason ==
              "not sending credentials: the certificate is not valid for smtp.example.com");
    }
    // The matrix says "cannot try"; the reason follows the table once for all such rows.
    CHECK(contains(p.text, "cannot try"));
    CHECK(contains(p.text, ": not sending credentials: the certificate is not valid for"));
    Json const doc = Json::parse(p.json);
    for (Json const& m : doc["mechanisms"]) {
        CHECK(m["authentication"]["status"] == "skipped");
        CHECK(contains(m["authentication"]["reason"].get<std::string>(), "not valid for"));
    }
    // Nothing secret reached the server: only "AUTH <MECH>" and the "*" that cancels it.
    for (std::string const& line : server.server().received()) {
        CHECK_FALSE(contains(line, smtp::base64_encode(tls_password)));
        CHECK_FALSE(contains(line, smtp::base64_encode(tls_user)));
        CHECK_FALSE(contains(line, smtp::base64_encode(std::string(1, '\0') + tls_user +
                                                       std::string(1, '\0') + tls_password)));
    }
    CHECK(v.exit_code == exit_code::problems);
}

TEST_CASE("a chain failure also keeps credentials back: --allow-insecure-auth sends them",
          "[engine][tls][auth]") {
    emulator::CertSpec spec;
    spec.not_before_days = -400;
    spec.not_after_days = -2;
    Emulated server = serve(emulator::make_pki(spec));
    Setup o = options_for(server);
    o.options.credentials = sasl::Credentials{tls_user, tls_password, ""};
    Probed p = probe(o);
    MechanismRow const& plain = row(p.report, "PLAIN");
    CHECK(plain.authentication.status == Status::skipped);
    CHECK(plain.authentication.reason ==
          "not sending credentials: the certificate did not verify (certificate has expired)");
    for (std::string const& line : server.server().received())
        CHECK_FALSE(contains(line, smtp::base64_encode(tls_password)));

    o.options.tls.insecure = true;
    o.options.allow_insecure_auth = true;
    Probed sent = probe(o);
    CHECK(row(sent.report, "PLAIN").authentication.status == Status::accepted);
    CHECK(finding(sent.verdict, "tls.cert_expired").severity == Severity::warning); // --insecure
    CHECK(has_finding(sent.verdict, "auth.credentials_sent_insecurely"));
    CHECK(contains(sent.text, "(--insecure: not enforced)"));
    CHECK(Json::parse(sent.json)["server"]["tls"]["verification_enforced"] == false);
}

TEST_CASE("a self-signed certificate", "[engine][tls]") {
    emulator::CertSpec spec;
    spec.self_signed = true;
    Emulated server = serve(emulator::make_pki(spec));
    Probed p = probe(options_for(server, stranger_ca()));
    print_example("self-signed", p);
    Finding const& f = finding(p.verdict, "tls.self_signed");
    CHECK(f.severity == Severity::error);
    CHECK(f.title == "The certificate is self-signed");
    CHECK(p.report.server.tls->verify_code == 18);
    CHECK_FALSE(has_finding(p.verdict, "tls.chain_incomplete"));
    CHECK(p.verdict.exit_code == exit_code::problems);

    // Trusting the certificate itself (what --ca-file with it does) makes it verify.
    Probed trusted = probe(options_for(server));
    CHECK(trusted.report.server.tls->verified());
}

TEST_CASE("an intermediate the server does not send: chain incomplete", "[engine][tls]") {
    emulator::CertSpec spec;
    spec.with_intermediate = true;
    spec.send_intermediate = false;
    Emulated server = serve(emulator::make_pki(spec));
    Probed p = probe(options_for(server));
    print_example("chain incomplete", p);
    Report const& r = p.report;
    Verdict const& v = p.verdict;
    REQUIRE(r.server.tls);
    CHECK(r.server.tls->chain.size() == 1);
    CHECK(r.server.tls->verify_depth == 0);
    Finding const& f = finding(v, "tls.chain_incomplete");
    CHECK(f.severity == Severity::error);
    CHECK(f.title == "Chain incomplete: the server does not send the intermediate certificate "
                     "(smtpprobe emulator test intermediate CA)");
    CHECK_FALSE(has_finding(v, "tls.untrusted_ca"));
    CHECK(v.exit_code == exit_code::problems);
}

TEST_CASE("an intermediate the server sends: the chain verifies", "[engine][tls]") {
    emulator::CertSpec spec;
    spec.with_intermediate = true;
    emulator::Pki const pki = emulator::make_pki(spec);
    Emulated server = serve(pki);
    Probed p = probe(options_for(server));
    REQUIRE(p.report.server.tls);
    CHECK(p.report.server.tls->verified());
    CHECK(p.report.server.tls->chain.size() == 2);
    CHECK(contains(p.text, "#1 CN=smtpprobe emulator test intermediate CA"));
    CHECK(no_tls_errors(p.verdict));
    CHECK(p.verdict.exit_code == exit_code::ok);

    // The same complete chain under a root nobody here trusts.
    Probed untrusted = probe(options_for(server, stranger_ca()));
    print_example("untrusted root", untrusted);
    Finding const& f = finding(untrusted.verdict, "tls.untrusted_ca");
    CHECK(f.title == "The certificate chain ends at a CA that is not trusted: smtpprobe emulator "
                     "test root CA (not for production)");
    CHECK(contains(f.detail, "--ca-file"));
    CHECK(untrusted.report.server.tls->verify_depth == 1);
    CHECK_FALSE(has_finding(untrusted.verdict, "tls.chain_incomplete"));
}

TEST_CASE("expiry against --cert-warn-days and --cert-crit-days", "[engine][tls]") {
    emulator::CertSpec soon;
    soon.not_after_days = 5;
    Emulated server = serve(emulator::make_pki(soon));
    Probed p = probe(options_for(server));
    print_example("expiring", p);
    Finding const& f = finding(p.verdict, "tls.cert_expiring");
    CHECK(f.severity == Severity::error);
    CHECK(contains(f.title, "The certificate expires in 5 days"));
    CHECK(p.verdict.exit_code == exit_code::problems);

    Setup lenient = options_for(server);
    lenient.expect.cert_warn_days = 6;
    lenient.expect.cert_crit_days = 3;
    Probed warned = probe(lenient);
    CHECK(finding(warned.verdict, "tls.cert_expiring").severity == Severity::warning);
    CHECK(warned.verdict.exit_code == exit_code::ok);
    CHECK(Json::parse(warned.json)["certificate_thresholds"]["crit_days"] == 3);

    lenient.expect.cert_warn_days = 5;
    CHECK_FALSE(has_finding(probe(lenient).verdict, "tls.cert_expiring"));
}

TEST_CASE("no TLS version in common: the handshake fails, exit 2, with the reason",
          "[engine][tls][versions]") {
    Emulated server = serve(emulator::make_pki({}), base_profile({{"tls_min", "1.3"}}));
    Setup o = options_for(server);
    o.options.tls.max_version = "1.2";
    Probed p = probe(o);
    print_example("no common version", p);
    CHECK_FALSE(p.report.session_established);
    CHECK(p.verdict.exit_code == exit_code::no_session);
    Finding const& f = finding(p.verdict, "tls.handshake_failed");
    CHECK(contains(f.detail, "no TLS version in common"));
    CHECK(contains(p.text, "handshake failed"));
}

TEST_CASE("version enumeration: a TLS 1.2-only server", "[engine][tls][versions]") {
    Emulated server =
        serve(emulator::make_pki({}), base_profile({{"tls_min", "1.2"}, {"tls_max", "1.2"}}));
    Setup o = options_for(server);
    o.options.tls_versions = true;
    Probed p = probe(o);
    print_example("TLS 1.2 only", p);
    REQUIRE(p.report.tls_versions);
    std::vector<TlsVersionResult> const& v = *p.report.tls_versions;
    REQUIRE(v.size() == 4);
    CHECK_FALSE(v[0].accepted);
    CHECK_FALSE(v[1].accepted);
    CHECK(v[2].accepted);
    CHECK(v[2].tested);
    CHECK_FALSE(v[3].accepted);
    CHECK(v[3].tested);
    CHECK(v[3].detail == "tlsv1 alert protocol version");
    CHECK(has_finding(p.verdict, "tls.no_tls13"));
    CHECK_FALSE(has_finding(p.verdict, "tls.legacy_version"));
    Json const doc = Json::parse(p.json);
    Json const& versions = doc["server"]["tls_versions"];
    REQUIRE(versions.size() == 4);
    CHECK(versions[2]["version"] == "1.2");
    CHECK(versions[2]["accepted"] == true);
    CHECK(versions[3]["accepted"] == false);
    CHECK(contains(p.text, "TLS versions 1.0 "));
    CHECK(p.verdict.exit_code == exit_code::ok);
}

TEST_CASE("version enumeration: TLS 1.2 and 1.3, then everything from 1.0",
          "[engine][tls][versions]") {
    Emulated modern = serve(emulator::make_pki({}));
    Setup o = options_for(modern);
    o.options.tls_versions = true;
    Probed p = probe(o);
    REQUIRE(p.report.tls_versions);
    std::vector<TlsVersionResult> const& v = *p.report.tls_versions;
    CHECK_FALSE(v[0].accepted);
    CHECK_FALSE(v[1].accepted);
    CHECK(v[2].accepted);
    CHECK(v[3].accepted);
    CHECK_FALSE(has_finding(p.verdict, "tls.legacy_version"));
    CHECK_FALSE(has_finding(p.verdict, "tls.no_tls13"));

    Emulated legacy =
        serve(emulator::make_pki({}), base_profile({{"tls_min", "1.0"}, {"tls_max", "1.3"}}));
    Setup lo = options_for(legacy);
    lo.options.tls_versions = true;
    Probed old = probe(lo);
    print_example("TLS 1.0 accepted", old);
    REQUIRE(old.report.tls_versions);
    TlsVersionResult const& v10 = old.report.tls_versions->front();
    if (!v10.tested) {
        // This machine's OpenSSL cannot offer TLS 1.0 at all; the report must say so.
        CHECK(contains(v10.detail, "local OpenSSL"));
    } else {
        CHECK(v10.accepted);
        Finding const& f = finding(old.verdict, "tls.legacy_version");
        CHECK(f.severity == Severity::warning);
        CHECK(contains(f.title, "The server accepts TLS 1.0"));
    }
}

TEST_CASE("a server that needs SNI: --no-sni fails, and one handshake with SNI shows why",
          "[engine][tls][sni]") {
    Emulated server = serve(emulator::make_pki({}), base_profile({{"require_sni", true}}));
    Setup o = options_for(server);
    o.target.host = "localhost";
    o.options.connection.family = net::Family::ipv4;
    o.options.no_sni = true;
    Probed p = probe(o);
    print_example("SNI required", p);
    CHECK_FALSE(p.report.session_established);
    CHECK(p.verdict.exit_code == exit_code::no_session);
    CHECK(has_finding(p.verdict, "tls.handshake_failed"));
    REQUIRE(p.report.sni_check);
    CHECK(p.report.sni_check->sni == "localhost");
    CHECK(p.report.sni_check->handshake_ok);
    Finding const& f = finding(p.verdict, "tls.sni_required");
    CHECK(f.severity == Severity::error);
    CHECK(contains(f.title, "The server needs SNI: without it, the handshake fails"));
    CHECK(contains(p.text, "unrecognized name"));

    // With SNI the run works; --tls-versions adds the handshake without SNI.
    Setup with_sni = o;
    with_sni.options.no_sni = false;
    with_sni.options.tls_versions = true;
    Probed ok = probe(with_sni);
    CHECK(ok.report.session_established);
    CHECK(ok.report.server.tls->sni == "localhost");
    REQUIRE(ok.report.sni_check);
    CHECK(ok.report.sni_check->sni.empty());
    CHECK_FALSE(ok.report.sni_check->handshake_ok);
    CHECK(finding(ok.verdict, "tls.sni_required").severity == Severity::warning);
    CHECK(ok.verdict.exit_code == exit_code::ok);
    CHECK(Json::parse(ok.json)["server"]["sni_check"]["handshake_ok"] == false);
}

TEST_CASE("a server that shows another certificate without SNI", "[engine][tls][sni]") {
    emulator::CertSpec other;
    other.common_name = "default.example.net";
    other.dns_names = {"default.example.net"};
    other.ip_addresses = {};
    Emulated server = serve(emulator::make_pki({}), base_profile(), emulator::make_pki(other));
    Setup o = options_for(server);
    o.target.host = "localhost";
    o.options.connection.family = net::Family::ipv4;
    o.options.no_sni = true;
    Probed p = probe(o);
    print_example("other certificate without SNI", p);
    CHECK(p.report.session_established);
    Finding const& host = finding(p.verdict, "tls.host_mismatch");
    CHECK(host.title == "The certificate is for default.example.net, not localhost");
    CHECK(contains(host.detail, "No SNI was sent"));
    CHECK(has_finding(p.verdict, "tls.untrusted_ca")); // another CA signed that one
    Finding const& sni = finding(p.verdict, "tls.sni_required");
    CHECK(contains(sni.title, "presents a certificate that does not verify"));
    CHECK(p.verdict.exit_code == exit_code::problems);
}

TEST_CASE("STARTTLS injection: the bytes are evidence, shown escaped, never capabilities",
          "[engine][tls][starttls]") {
    Emulated server = Emulated::sample("starttls-inject-same-segment");
    Probed p = probe(server.options());
    print_example("STARTTLS injection", p);
    Report const& r = p.report;
    Verdict const& v = p.verdict;
    Finding const& f = finding(v, "starttls.injection");
    CHECK(f.severity == Severity::error);
    REQUIRE(f.evidence.size() == 1);
    CHECK(f.evidence.front() ==
          "bytes after the 220: 250-inject.example.test\\r\\n250 AUTH PLAIN\\r\\n");
    CHECK(contains(p.text, "data after the 220, before the handshake: "
                           "250-inject.example.test\\r\\n250 AUTH"));
    REQUIRE(r.server.before_tls);
    CHECK(r.server.before_tls->auth.empty());
    // The injected "250 AUTH PLAIN" is not the capability list: the one sent inside TLS is.
    REQUIRE(r.server.after_tls.has_value());
    CHECK(r.server.after_tls->auth == std::vector<std::string>{"PLAIN", "LOGIN"});
    CHECK(Json::parse(p.json)["server"]["starttls"]["injected_bytes"] ==
          "250-inject.example.test\r\n250 AUTH PLAIN\r\n");
    // The client table says who is exposed.
    Json const clients = Json::parse(p.json)["clients"];
    bool php_exposed = false;
    for (Json const& c : clients)
        if (c["client"] == "PHPMailer")
            php_exposed = c["starttls_injection"] == "exposed";
    CHECK(php_exposed);
    CHECK(contains(p.text, "Exposed to the STARTTLS injection: PHPMailer"));
    CHECK(v.exit_code == exit_code::problems);
}

namespace {

/// Writes `content` to a new file and renames it over `path`: a new inode, as a certificate
/// manager's atomic rotation gives.
void replace_by_rename(std::string const& path, std::string const& content) {
    std::string const next = path + ".next";
    std::ofstream(next) << content;
    std::filesystem::rename(next, path);
}

/// Sets an environment variable for its lifetime. Made before any thread it could race with
/// (the emulator's), and gone after they stop.
class ScopedEnv {
public:
    ScopedEnv(char const* name, std::string const& value) : name_(name) {
        if (char const* old = std::getenv(name))
            old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(ScopedEnv const&) = delete;
    ScopedEnv& operator=(ScopedEnv const&) = delete;

private:
    char const* name_;
    std::optional<std::string> old_;
};

X509_STORE* store_of(net::TlsClientContext const& context) {
    return SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(context.native()));
}

} // namespace

TEST_CASE("a --ca-file is read once for every probe, thread, connection and context",
          "[engine][tls][trust_store]") {
    emulator::Pki const pki = emulator::make_pki({});
    Emulated server = serve(pki);
    TempFile ca(pki.ca_pem);
    Setup o = options_with_ca_file(server, ca.path());
    std::uint64_t const before = net::trust_store_loads();

    // 4 threads of 2 probes, each on 4 connections; one also enumerates the TLS versions (four
    // more contexts). Catch2's assertions are not thread-safe: the threads count, the test checks.
    constexpr int threads = 4;
    constexpr int probes_per_thread = 2;
    std::atomic<int> verified{0};
    std::atomic<int> connections{0};
    std::atomic<int> versions_enumerated{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < probes_per_thread; ++i) {
                Setup mine = o;
                mine.options.tls_versions = t == 0 && i == 0;
                Probed const p = probe(mine);
                if (p.report.server.tls && p.report.server.tls->verified())
                    ++verified;
                connections += p.report.connections;
                if (p.report.tls_versions && p.report.tls_versions->at(3).accepted)
                    ++versions_enumerated;
            }
        });
    for (std::thread& thread : pool)
        thread.join();
    CHECK(verified == threads * probes_per_thread);
    CHECK(versions_enumerated == 1);
    CHECK(connections > threads * probes_per_thread);
    CHECK(net::trust_store_loads() - before == 1);

    // Contexts made now share that store: the same X509_STORE, and still no read.
    net::TlsClientContext const a(o.options.tls);
    net::TlsClientOptions legacy = o.options.tls;
    legacy.legacy = true;
    legacy.max_version = "1.1";
    net::TlsClientContext const b(legacy);
    CHECK(store_of(a) == store_of(b));
    CHECK(net::trust_store_loads() - before == 1);

    // --ca-pem (the emulator's in-memory CA) is a source of its own, read once too.
    std::uint64_t const before_pem = net::trust_store_loads();
    Setup in_memory = options_for(server, pki.ca_pem);
    CHECK(probe(in_memory).report.server.tls->verified());
    CHECK(probe(in_memory).report.server.tls->verified());
    CHECK(net::trust_store_loads() - before_pem == 1);
}

TEST_CASE("a rotated --ca-file is read again: rewritten in place, replaced by rename, removed",
          "[engine][tls][trust_store]") {
    emulator::Pki const pki = emulator::make_pki({});
    Emulated server = serve(pki);
    TempFile ca(stranger_ca());
    Setup o = options_with_ca_file(server, ca.path());
    std::uint64_t const before = net::trust_store_loads();

    Probed const stranger = probe(o);
    REQUIRE(stranger.report.server.tls);
    CHECK_FALSE(stranger.report.server.tls->chain_verified);
    CHECK(probe(o).report.server.tls->verify_code == stranger.report.server.tls->verify_code);
    CHECK(net::trust_store_loads() - before == 1); // unchanged: not read again

    // Same inode, new content. A size of its own as well, so that a file system whose
    // timestamps are coarser than this test is fast still shows the change (a PEM reader
    // skips the extra line).
    std::string rotated = pki.ca_pem;
    if (rotated.size() == stranger_ca().size())
        rotated += "\n";
    std::ofstream(ca.path(), std::ios::trunc) << rotated;
    Probed const rewritten = probe(o);
    REQUIRE(rewritten.report.server.tls);
    CHECK(rewritten.report.server.tls->verified());
    CHECK(net::trust_store_loads() - before == 2);

    replace_by_rename(ca.path(), stranger_ca());
    Probed const renamed = probe(o);
    REQUIRE(renamed.report.server.tls);
    CHECK_FALSE(renamed.report.server.tls->chain_verified);
    CHECK(net::trust_store_loads() - before == 3);

    // A store that can no longer be read is an error, as at the first read, not the old store.
    std::remove(ca.path().c_str());
    CHECK_THROWS_WITH(net::TlsClientContext(o.options.tls),
                      Catch::Contains("cannot load CA certificates from " + ca.path()));
    replace_by_rename(ca.path(), pki.ca_pem);
    CHECK(probe(o).report.server.tls->verified());
}

TEST_CASE("the system store (SSL_CERT_FILE here) is read once, and again when it changes",
          "[engine][tls][trust_store]") {
    emulator::Pki const pki = emulator::make_pki({});
    TempFile bundle(pki.ca_pem);
    std::filesystem::path const empty_dir = bundle.path() + ".d";
    std::filesystem::create_directory(empty_dir);
    {
        ScopedEnv const file("SSL_CERT_FILE", bundle.path());
        ScopedEnv const dir("SSL_CERT_DIR", empty_dir.string());
        Emulated server = serve(pki);
        Setup o = options_for(server);
        o.options.tls.ca_pem.clear();
        o.options.tls.use_system_store = true;
        std::uint64_t const before = net::trust_store_loads();
        CHECK(probe(o).report.server.tls->verified());
        CHECK(probe(o).report.server.tls->verified());
        CHECK(net::trust_store_loads() - before == 1);

        replace_by_rename(bundle.path(), stranger_ca());
        CHECK_FALSE(probe(o).report.server.tls->chain_verified);
        CHECK(net::trust_store_loads() - before == 2);

        // Without the system store nothing is read, and nothing is trusted.
        o.options.tls.use_system_store = false;
        CHECK_FALSE(probe(o).report.server.tls->chain_verified);
        CHECK(net::trust_store_loads() - before == 2);
    }
    std::filesystem::remove(empty_dir);
}
