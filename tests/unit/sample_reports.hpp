#pragma once
// Reports built by hand for the tests of evaluate() and the renderers: no emulator, no socket,
// every fact chosen by the test. Each builder gives the smallest Report that a real probe of
// that situation would return; tests change the fields they are about.

#include "diagnose/evaluate.hpp"
#include "report/report.hpp"
#include "smtp/capabilities.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace smtpprobe::test {

inline bool contains(std::string const& text, std::string const& part) {
    return text.find(part) != std::string::npos;
}

inline smtp::Reply reply(int code, std::vector<std::string> lines) {
    return smtp::Reply{code, std::move(lines)};
}

inline net::CertificateInfo leaf_certificate(long days_left) {
    net::CertificateInfo c;
    c.subject = "CN=mail.example.test";
    c.issuer = "CN=Example Test CA";
    c.subject_alt_names = {"DNS:mail.example.test"};
    c.not_before = "2026-01-01T00:00:00Z";
    c.not_after = "2027-06-30T12:00:00Z";
    c.days_left = days_left;
    c.key = "EC 256";
    c.signature_algorithm = "ecdsa-with-SHA256";
    c.sha256 = "AA:BB";
    return c;
}

/// A verified TLS 1.3 session whose leaf certificate has `days_left` days left.
inline net::TlsInfo verified_tls(long days_left = 200) {
    net::TlsInfo t;
    t.established = true;
    t.version = "TLSv1.3";
    t.cipher = "TLS_AES_256_GCM_SHA384";
    t.group = "X25519";
    t.sni = "mail.example.test";
    t.chain_verified = true;
    t.host_checked = true;
    t.host_verified = true;
    t.verify_name = "mail.example.test";
    t.chain = {leaf_certificate(days_left)};
    return t;
}

inline MechanismRow mechanism(std::string name, Status status, smtp::Reply first_reply) {
    MechanismRow m;
    m.name = std::move(name);
    m.catalogue = true;
    m.implemented = true;
    m.recognition.status = status;
    m.recognition.reply = std::move(first_reply);
    m.authentication.status = Status::skipped;
    m.connection = 2;
    return m;
}

/// A report of `host`:`port`, resolved to and connected at `address`.
inline Report report_for(std::string host, unsigned short port, std::string address) {
    Report r;
    r.host = std::move(host);
    r.server_name = r.host;
    r.port = port;
    r.addresses = {address};
    r.connected_address = std::move(address);
    return r;
}

/// The seed case (Azure Communication Services): STARTTLS on 587, no AUTH before TLS, only
/// LOGIN after it; AUTH PLAIN and CRAM-MD5 get 504 5.7.4. No credentials given.
inline Report seed_report() {
    Report r = report_for("mail.example.test", 587, "192.0.2.25");
    r.tls_mode = TlsMode::auto_;
    r.tls_used = TlsMode::starttls;
    r.ehlo_name = "client.example.test";
    ServerFacts& s = r.server;
    s.banner = reply(220, {"mail.example.test Microsoft ESMTP MAIL Service ready"});
    s.ehlo_reply = reply(250, {"mail.example.test Hello [198.51.100.7]", "SIZE 36700160",
                               "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME"});
    s.before_tls = smtp::parse_capabilities(*s.ehlo_reply);
    s.starttls_offered = true;
    s.starttls_attempted = true;
    s.starttls_reply = reply(220, {"2.0.0 SMTP server ready"});
    s.tls = verified_tls();
    s.ehlo_after_tls_reply = reply(250, {"mail.example.test Hello [198.51.100.7]", "SIZE 36700160",
                                         "AUTH LOGIN", "ENHANCEDSTATUSCODES", "8BITMIME"});
    s.after_tls = smtp::parse_capabilities(*s.ehlo_after_tls_reply);
    s.ready = true;
    s.phase = Phase::ehlo_after_tls;
    s.timings.resolve = 1.5;
    s.timings.connect = 12.25;
    s.timings.banner = 40.0;
    s.timings.ehlo = 20.0;
    s.timings.starttls = 18.0;
    s.timings.tls_handshake = 35.5;
    s.timings.ehlo_after_tls = 21.0;

    MechanismRow plain = mechanism("PLAIN", Status::not_supported,
                                   reply(504, {"5.7.4 Unrecognized authentication type"}));
    MechanismRow login = mechanism("LOGIN", Status::recognised, reply(334, {"VXNlcm5hbWU6"}));
    login.advertised_after_tls = true;
    login.recognition.challenge = "Username:";
    login.recognition.cancel_reply = reply(501, {"5.7.0 Authentication cancelled"});
    MechanismRow cram = mechanism("CRAM-MD5", Status::not_supported,
                                  reply(504, {"5.7.4 Unrecognized authentication type"}));
    r.rows = {plain, login, cram};

    r.auth_ms = 80.0;
    r.total_ms = 412.5;
    r.connections = 3;
    r.parallel = 4;
    r.session_established = true;
    return r;
}

/// The seed case with credentials: LOGIN is tried with them and the server answers `final`
/// (235 accepted, 535 rejected).
inline Report seed_report_with_credentials(smtp::Reply final) {
    Report r = seed_report();
    r.credentials_given = true;
    r.user_shown = "user@example.test";
    for (MechanismRow& m : r.rows) {
        if (m.name != "LOGIN")
            continue;
        m.authentication.status = final.code == 235 ? Status::accepted : Status::rejected;
        m.authentication.reply = std::move(final);
        break;
    }
    return r;
}

/// No session: the port accepted the TCP connection and sent nothing within 10 s.
/// (Report::fatal is set here and only here; fatal_error() words it.)
inline Report no_banner_report() {
    Report r = report_for("tarpit.example.test", 25, "192.0.2.26");
    r.server.timings.connect = 3.0;
    r.server.phase = Phase::banner;
    FatalError f;
    f.phase = Phase::banner;
    f.kind = FailureKind::timeout;
    f.limit = std::chrono::seconds(10);
    f.bytes_received = 0;
    f.elapsed_ms = 10000.0;
    r.fatal = f;
    r.server.failure = f;
    r.total_ms = 10004.0;
    r.connections = 1;
    r.parallel = 4;
    return r;
}

inline Finding const* find_finding(Verdict const& v, std::string const& id) {
    auto const it = std::find_if(v.findings.begin(), v.findings.end(),
                                 [&](Finding const& f) { return f.id == id; });
    return it == v.findings.end() ? nullptr : &*it;
}

inline Check const* find_check(Verdict const& v, std::string const& id) {
    auto const it =
        std::find_if(v.checks.begin(), v.checks.end(), [&](Check const& c) { return c.id == id; });
    return it == v.checks.end() ? nullptr : &*it;
}

inline ClientRow const* find_client(Verdict const& v, std::string const& client) {
    auto const it = std::find_if(v.clients.begin(), v.clients.end(),
                                 [&](ClientRow const& c) { return c.client == client; });
    return it == v.clients.end() ? nullptr : &*it;
}

} // namespace smtpprobe::test
