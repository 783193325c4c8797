// The /probe exposition rendered from real reports: probes of the in-process emulator for
// every sample profile. Every exposition is kept under test-outputs for the secret scan.

#include "exporter/probe_metrics.hpp"

#include "exporter/exposition.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <filesystem>

#include <sys/socket.h>

using namespace smtpprobe;
using namespace smtpprobe::test;
using exporter::render_probe_metrics;

TEST_CASE("azure-acs: PLAIN not recognised, LOGIN recognised, only after TLS",
          "[exporter][metrics]") {
    Emulated acs = Emulated::sample("azure-acs");
    Probed const p = probe(acs.options());
    std::string const m = render_probe_metrics(p.report, p.verdict, true);
    record_output("exporter-azure-acs.prom", m);
    CHECK(sample(m, "smtpprobe_probe_success") == 1);
    CHECK(sample(m, "smtpprobe_auth_recognised{mechanism=\"PLAIN\"}") == 0);
    CHECK(sample(m, "smtpprobe_auth_recognised{mechanism=\"LOGIN\"}") == 1);
    CHECK(sample(m, "smtpprobe_auth_advertised{mechanism=\"LOGIN\",stage=\"before_tls\"}") == 0);
    CHECK(sample(m, "smtpprobe_auth_advertised{mechanism=\"LOGIN\",stage=\"after_tls\"}") == 1);
    CHECK(
        sample(m,
               "smtpprobe_auth_reply_info{code=\"504\",enhanced=\"5.7.4\",mechanism=\"PLAIN\"}") ==
        1);
    CHECK(sample(m, "smtpprobe_auth_reply_info{code=\"334\",enhanced=\"\",mechanism=\"LOGIN\"}") ==
          1);
    CHECK(sample(m, "smtpprobe_starttls_offered") == 1);
    // Is TLS mandatory? ACS refuses MAIL before STARTTLS and, under TLS, before AUTH.
    CHECK(sample(m, "smtpprobe_mail_without_tls") == 0);
    CHECK(sample(m, "smtpprobe_mail_without_auth") == 0);
    CHECK(sample(m, "smtpprobe_size_limit_bytes") == 31457280);
    CHECK(sample(m, "smtpprobe_tls_verified") == 1);
    CHECK(sample(m, "smtpprobe_tls_version_info{version=\"TLSv1.3\"}") == 1);
    CHECK(sample(m, "smtpprobe_check_status{check=\"session\"}") == 0);
    // No credentials: no authentication series at all.
    CHECK(m.find("smtpprobe_auth_authenticated") == std::string::npos);
    // The phases of a STARTTLS session, in seconds.
    for (char const* phase : {"connect", "banner", "ehlo", "starttls", "tls", "ehlo_after_tls"}) {
        INFO(phase);
        std::optional<double> v =
            sample(m, std::string("smtpprobe_phase_duration_seconds{phase=\"") + phase + "\"}");
        REQUIRE(v);
        CHECK(*v >= 0);
        CHECK(*v < 5);
    }
    // The certificate's NotAfter: the emulator's fresh certificate is valid for months.
    std::optional<double> not_after = sample(m, "smtpprobe_tls_cert_not_after_timestamp_seconds");
    REQUIRE(not_after);
    double const now = static_cast<double>(std::time(nullptr));
    CHECK(*not_after > now);
    CHECK(*not_after < now + 20 * 365 * 86400.0);
    // A finding of the diagnosis for the LOGIN-only server, with its severity.
    CHECK(m.find("smtpprobe_finding{id=\"") != std::string::npos);
    // Text format 0.0.4: HELP and TYPE before every family.
    CHECK(m.find("# HELP smtpprobe_probe_success ") != std::string::npos);
    CHECK(m.find("# TYPE smtpprobe_probe_success gauge") != std::string::npos);
}

TEST_CASE("postfix-submission with credentials: PLAIN recognised and authenticated",
          "[exporter][metrics]") {
    Emulated postfix = Emulated::sample("postfix-submission");
    Setup o = postfix.options();
    o.options.credentials =
        sasl::Credentials{"alice@example.test", "postfix-test-password-not-real", ""};
    Observer observer;
    Report const report = smtpprobe::probe(o.target, o.options, observer);
    std::string const m =
        observer.redactor().redact(render_probe_metrics(report, evaluate(report, {}), true));
    record_output("exporter-postfix-credentials.prom", m);
    CHECK(sample(m, "smtpprobe_auth_recognised{mechanism=\"PLAIN\"}") == 1);
    CHECK(sample(m, "smtpprobe_auth_authenticated{mechanism=\"PLAIN\"}") == 1);
    CHECK(sample(m, "smtpprobe_auth_authenticated{mechanism=\"LOGIN\"}") == 1);
    CHECK(m.find("alice") == std::string::npos);
    CHECK(m.find("postfix-test-password-not-real") == std::string::npos);
}

TEST_CASE("a probe that found no server: success 0, no TLS or AUTH series", "[exporter][metrics]") {
    Target target;
    target.host = "127.0.0.1";
    target.port = 1; // nothing listens on port 1 here
    ProbeOptions o;
    o.connect_timeout = std::chrono::milliseconds(1000);
    o.total_timeout = std::chrono::milliseconds(2000);
    Observer observer;
    Report const report = smtpprobe::probe(target, o, observer);
    std::string const m = render_probe_metrics(report, evaluate(report, {}), false);
    record_output("exporter-refused.prom", m);
    CHECK(sample(m, "smtpprobe_probe_success") == 0);
    CHECK(sample(m, "smtpprobe_check_status{check=\"session\"}") == 2);
    CHECK(m.find("smtpprobe_tls_") == std::string::npos);
    CHECK(m.find("smtpprobe_auth_recognised") == std::string::npos);
    CHECK(m.find("smtpprobe_starttls_offered") == std::string::npos);
}

TEST_CASE("every sample profile renders, with bounded labels", "[exporter][metrics]") {
    for (auto const& entry : std::filesystem::directory_iterator(source_path("samples/servers"))) {
        std::string const name = entry.path().stem().string();
        INFO(name);
        Emulated e(emulator::load_profile(entry.path()));
        Probed const p = probe(e.options());
        std::string const m =
            render_probe_metrics(p.report, p.verdict, p.report.session_established);
        record_output("exporter-" + name + ".prom", m);
        CHECK(sample(m, "smtpprobe_probe_success").has_value());
        // No free text in labels: no banner, host name or reply text.
        CHECK(m.find(e.server().profile().hostname) == std::string::npos);
        std::size_t series = 0;
        std::istringstream in(m);
        for (std::string line; std::getline(in, line);)
            series += !line.empty() && line[0] != '#';
        CHECK(series < 200);
    }
}

TEST_CASE("NotAfter timestamps", "[exporter][metrics]") {
    CHECK(exporter::parse_utc_timestamp("1970-01-02T00:00:00Z") == 86400);
    CHECK(exporter::parse_utc_timestamp("2027-03-01T12:00:00Z") == 1803902400);
    CHECK_FALSE(exporter::parse_utc_timestamp("2027-03-01 12:00:00"));
    CHECK_FALSE(exporter::parse_utc_timestamp(""));
}

TEST_CASE("an all_addresses probe: per-address series under an address label",
          "[exporter][metrics]") {
    emulator::ServerOptions second;
    second.listen_host = "127.0.0.2";
    second.certificate = emulator::CertificateKind::expired;
    Emulated good = Emulated::sample("azure-acs");
    Emulated expired(emulator::load_profile(source_path("samples/servers/postfix-submission.json")),
                     second);
    Setup o = good.options();
    o.target.host = "localhost"; // in both certificates
    o.options.tls.ca_pem = good.server().ca_pem() + expired.server().ca_pem();
    o.options.all_addresses = true;
    std::vector<net::Endpoint> const endpoints{{"127.0.0.1", good.server().port(), AF_INET},
                                               {"127.0.0.2", expired.server().port(), AF_INET}};
    o.options.resolve = [endpoints](std::string const&, unsigned short, net::Family,
                                    net::Deadline) { return endpoints; };
    Probed const p = probe(o);
    std::string const m = render_probe_metrics(p.report, p.verdict, true);
    record_output("exporter-all-addresses.prom", m);
    CHECK(sample(m, "smtpprobe_addresses{state=\"resolved\"}") == 2);
    CHECK(sample(m, "smtpprobe_addresses{state=\"probed\"}") == 2);
    CHECK(sample(m, "smtpprobe_address_session_established{address=\"127.0.0.2\"}") == 1);
    CHECK(sample(m, "smtpprobe_address_tls_verified{address=\"127.0.0.1\"}") == 1);
    CHECK(sample(m, "smtpprobe_address_tls_verified{address=\"127.0.0.2\"}") == 0);
    CHECK(
        sample(m, "smtpprobe_address_auth_recognised{address=\"127.0.0.1\",mechanism=\"PLAIN\"}") ==
        0);
    CHECK(
        sample(m, "smtpprobe_address_auth_recognised{address=\"127.0.0.2\",mechanism=\"PLAIN\"}") ==
        1);
    CHECK(sample(m, "smtpprobe_finding{id=\"addresses.auth_differs\",severity=\"error\"}") == 1);
    std::optional<double> const expiry =
        sample(m, "smtpprobe_address_tls_cert_not_after_timestamp_seconds{address=\"127.0.0.2\"}");
    REQUIRE(expiry);
    CHECK(*expiry < static_cast<double>(std::time(nullptr)));
}

TEST_CASE("the envelope's reply codes, one series per step", "[exporter][metrics][envelope]") {
    Emulated postfix = Emulated::sample("postfix-submission");
    Setup o = postfix.options();
    o.options.credentials =
        sasl::Credentials{"alice@example.test", "postfix-test-password-not-real", ""};
    o.options.envelope = probes::EnvelopeRequest{
        "alice@example.test", {"carol@example.test", "dave@example.test"}, {}, false, false,
        std::nullopt};
    Observer observer;
    Report const report = smtpprobe::probe(o.target, o.options, observer);
    std::string const m =
        observer.redactor().redact(render_probe_metrics(report, evaluate(report, {}), true));
    record_output("exporter-envelope.prom", m);
    CHECK(sample(m, "smtpprobe_envelope_reply_code{step=\"mail\"}") == 250);
    CHECK(sample(m, "smtpprobe_envelope_reply_code{step=\"rcpt\"}") == 250);
    CHECK(sample(m, "smtpprobe_envelope_reply_code{step=\"rset\"}") == 250);
    CHECK(sample(m, "smtpprobe_envelope_reply_code{step=\"quit\"}") == 221);
    CHECK_FALSE(sample(m, "smtpprobe_envelope_reply_code{step=\"data\"}"));

    // Without mail_from: no envelope family at all.
    Probed const plain = probe(postfix.options());
    CHECK(render_probe_metrics(plain.report, plain.verdict, true).find("smtpprobe_envelope") ==
          std::string::npos);
}

TEST_CASE("postfix-submission takes MAIL before STARTTLS: smtpprobe_mail_without_tls 1",
          "[exporter][metrics]") {
    Emulated postfix = Emulated::sample("postfix-submission");
    Probed const p = probe(postfix.options());
    std::string const m = render_probe_metrics(p.report, p.verdict, true);
    record_output("exporter-postfix-submission-mail.prom", m);
    CHECK(sample(m, "smtpprobe_mail_without_tls") == 1);
    CHECK(sample(m, "smtpprobe_mail_without_auth") == 1);
    CHECK(sample(m, "smtpprobe_finding{id=\"mail.without_tls\",severity=\"warning\"}") == 1);
}

TEST_CASE("implicit TLS has no plaintext moment: no smtpprobe_mail_without_tls series",
          "[exporter][metrics]") {
    Emulated tls = Emulated::sample("implicit-tls");
    Probed const p = probe(tls.options());
    std::string const m = render_probe_metrics(p.report, p.verdict, true);
    CHECK(m.find("smtpprobe_mail_without_tls") == std::string::npos);
    CHECK(sample(m, "smtpprobe_mail_without_auth"));
}
