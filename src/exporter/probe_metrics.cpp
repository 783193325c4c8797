#include "exporter/probe_metrics.hpp"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

namespace smtpprobe::exporter {
namespace {

using prometheus::Gauge;
using prometheus::Labels;

std::vector<std::string> label_key(prometheus::ClientMetric const& metric) {
    std::vector<std::string> key;
    for (prometheus::ClientMetric::Label const& label : metric.label)
        key.push_back(label.value);
    return key;
}

class Families {
public:
    prometheus::Family<Gauge>& gauge(std::string const& name, std::string const& help) {
        return prometheus::BuildGauge().Name(name).Help(help).Register(registry_);
    }
    std::vector<prometheus::MetricFamily> collect() const {
        std::vector<prometheus::MetricFamily> out = registry_.Collect();
        // A family with no sample (e.g. no TLS, so no version) is left out rather than
        // exposed as a bare HELP/TYPE pair.
        std::erase_if(out, [](prometheus::MetricFamily const& f) { return f.metric.empty(); });
        // Families keep their samples in a hash map: sort them by label values, so that the
        // same report always gives the same text (readable diffs, stable debug output).
        for (prometheus::MetricFamily& family : out)
            std::sort(family.metric.begin(), family.metric.end(),
                      [](prometheus::ClientMetric const& a, prometheus::ClientMetric const& b) {
                          return label_key(a) < label_key(b);
                      });
        return out;
    }

private:
    prometheus::Registry registry_;
};

double boolean(bool value) {
    return value ? 1.0 : 0.0;
}

/// Recognition outcomes that answer "does the server know this mechanism?"; errors and skips
/// leave the series out (absent = unknown, not "no").
bool recognition_known(Status s) {
    return s == Status::recognised || s == Status::accepted || s == Status::not_supported ||
           s == Status::refused || s == Status::temporary_failure || s == Status::rejected;
}

void phases(Report const& r, prometheus::Family<Gauge>& family) {
    Timings const& t = r.server.timings;
    std::pair<char const*, std::optional<double>> const items[] = {
        {"resolve", t.resolve},
        {"connect", t.connect},
        {"banner", t.banner},
        {"ehlo", t.ehlo},
        {"starttls", t.starttls},
        {"tls", t.tls_handshake},
        {"ehlo_after_tls", t.ehlo_after_tls},
        {"auth", r.auth_ms},
    };
    for (auto const& [phase, ms] : items)
        if (ms)
            family.Add({{"phase", phase}}).Set(*ms / 1000.0);
}

/// With an all_addresses module: the per-address summary under an `address` label (at most
/// ProbeOptions::max_addresses values, numeric addresses only).
void address_series(Report const& r, Families& f);

} // namespace

std::optional<double> parse_utc_timestamp(std::string const& text) noexcept {
    std::tm tm{};
    char zone = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &zone) != 7 ||
        zone != 'Z')
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<double>(::timegm(&tm));
}

std::vector<prometheus::MetricFamily> probe_families(Report const& r, Verdict const& verdict,
                                                     bool success) {
    Families f;
    f.gauge("smtpprobe_probe_success",
            "1 when the SMTP session came up and every expectation of the module was met")
        .Add({})
        .Set(boolean(success));
    f.gauge("smtpprobe_probe_duration_seconds", "Wall time of the whole probe")
        .Add({})
        .Set(r.total_ms / 1000.0);
    phases(r, f.gauge("smtpprobe_phase_duration_seconds",
                      "Wall time of each phase of the first session (auth: first AUTH probe "
                      "sent to last reply)"));
    f.gauge("smtpprobe_probe_connections", "SMTP connections the probe opened")
        .Add({})
        .Set(static_cast<double>(r.connections));

    ServerFacts const& s = r.server;
    if (s.before_tls && r.tls_used != TlsMode::implicit)
        f.gauge("smtpprobe_starttls_offered", "1 when EHLO before TLS advertised STARTTLS")
            .Add({})
            .Set(boolean(s.starttls_offered));
    if (s.tls && s.tls->established) {
        f.gauge("smtpprobe_tls_version_info", "The negotiated TLS version (value 1)")
            .Add({{"version", s.tls->version}})
            .Set(1);
        f.gauge("smtpprobe_tls_verified", "1 when the certificate chain and the host name verified")
            .Add({})
            .Set(boolean(s.tls->verified()));
        if (!s.tls->chain.empty())
            if (std::optional<double> t = parse_utc_timestamp(s.tls->chain.front().not_after))
                f.gauge("smtpprobe_tls_cert_not_after_timestamp_seconds",
                        "NotAfter of the server's leaf certificate, as a Unix time")
                    .Add({})
                    .Set(*t);
    }

    auto& advertised =
        f.gauge("smtpprobe_auth_advertised", "1 when EHLO advertised the mechanism at that stage");
    auto& recognised = f.gauge("smtpprobe_auth_recognised",
                               "1 when AUTH <mechanism> got 334 (or 235), 0 when refused; absent "
                               "when unknown (not probed, connection error)");
    auto& reply = f.gauge("smtpprobe_auth_reply_info",
                          "The code and enhanced status code of the first reply to AUTH "
                          "<mechanism> (value 1)");
    auto& authenticated = f.gauge("smtpprobe_auth_authenticated",
                                  "With credentials: 1 when the exchange ended in 235, else 0");
    bool const before_stage = s.before_tls && r.tls_used != TlsMode::implicit;
    for (MechanismRow const& row : r.rows) {
        if (before_stage)
            advertised.Add({{"mechanism", row.name}, {"stage", "before_tls"}})
                .Set(boolean(row.advertised_before_tls));
        if (s.after_tls)
            advertised.Add({{"mechanism", row.name}, {"stage", "after_tls"}})
                .Set(boolean(row.advertised_after_tls));
        Recognition const& rec = row.recognition;
        if (recognition_known(rec.status))
            recognised.Add({{"mechanism", row.name}})
                .Set(boolean(rec.status == Status::recognised || rec.status == Status::accepted));
        if (rec.reply && rec.reply->code >= 200 && rec.reply->code <= 599)
            reply
                .Add({{"mechanism", row.name},
                      {"code", std::to_string(rec.reply->code)},
                      {"enhanced", rec.reply->enhanced()}})
                .Set(1);
        if ((r.credentials_given || r.client_certificate_given) &&
            row.authentication.status != Status::skipped &&
            row.authentication.status != Status::pending)
            authenticated.Add({{"mechanism", row.name}})
                .Set(boolean(row.authentication.status == Status::accepted));
    }

    // "Is TLS mandatory?" (issue 20): 1 when MAIL FROM:<> got 2xx at that moment, 0 when
    // refused; no series when it was not tested or has no such moment (implicit TLS has no
    // plaintext, a plaintext session no TLS).
    auto mail_gate = [&f](char const* name, char const* help, MailGate gate) {
        if (gate == MailGate::accepted || gate == MailGate::refused)
            f.gauge(name, help).Add({}).Set(boolean(gate == MailGate::accepted));
    };
    mail_gate("smtpprobe_mail_without_tls",
              "1 when MAIL FROM:<> before STARTTLS (or on a plaintext session) got 2xx, 0 when "
              "refused (530: TLS required)",
              r.mail_without_tls());
    mail_gate("smtpprobe_mail_without_auth",
              "1 when MAIL FROM:<> under TLS before AUTH got 2xx, 0 when refused (530 5.7.57: "
              "AUTH required)",
              r.mail_without_auth());
    if (smtp::Capabilities const* caps = s.final_capabilities(); caps && caps->size)
        f.gauge("smtpprobe_size_limit_bytes",
                "The message size limit the server advertised (EHLO SIZE; 0: no fixed limit)")
            .Add({})
            .Set(static_cast<double>(*caps->size));

    if (r.envelope) {
        // One series per step; with several recipients "rcpt" carries the highest code of
        // their replies (a refusal outweighs an acceptance). No reply: no series.
        auto& envelope =
            f.gauge("smtpprobe_envelope_reply_code",
                    "The reply code of each envelope step (module keys mail_from, rcpt): mail, "
                    "rcpt (the highest of the recipients' replies), rset, quit");
        std::map<std::string, int> codes;
        for (EnvelopeStep const& step : r.envelope->steps)
            if (step.reply) {
                int& code = codes[std::string(to_string(step.kind))];
                code = std::max(code, step.reply->code);
            }
        for (auto const& [step, code] : codes)
            envelope.Add({{"step", step}}).Set(static_cast<double>(code));
    }
    auto& finding = f.gauge("smtpprobe_finding", "A finding of the diagnosis (value 1)");
    for (Finding const& item : verdict.findings)
        finding.Add({{"id", item.id}, {"severity", std::string(to_string(item.severity))}}).Set(1);
    auto& check = f.gauge("smtpprobe_check_status",
                          "State of a monitoring check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN");
    for (Check const& item : verdict.checks)
        check.Add({{"check", item.id}}).Set(static_cast<double>(static_cast<int>(item.status)));
    address_series(r, f);
    return f.collect();
}

namespace {

void address_series(Report const& r, Families& f) {
    if (r.address_probes.empty())
        return;
    auto& count =
        f.gauge("smtpprobe_addresses", "Addresses of the target's name: resolved, and probed");
    count.Add({{"state", "resolved"}}).Set(static_cast<double>(r.addresses.size()));
    count.Add({{"state", "probed"}}).Set(static_cast<double>(r.address_probes.size()));
    auto& up = f.gauge("smtpprobe_address_session_established",
                       "Per address: 1 when its session got as far as AUTH");
    auto& verified = f.gauge("smtpprobe_address_tls_verified",
                             "Per address: 1 when its certificate chain and host name verified");
    auto& not_after = f.gauge("smtpprobe_address_tls_cert_not_after_timestamp_seconds",
                              "Per address: NotAfter of its leaf certificate, as a Unix time");
    auto& recognised = f.gauge("smtpprobe_address_auth_recognised",
                               "Per address: 1 when AUTH <mechanism> got 334 (or 235), 0 when "
                               "refused; absent when unknown");
    for (AddressProbe const& a : r.address_probes) {
        Labels const where{{"address", a.address}};
        up.Add(where).Set(boolean(a.session_established));
        if (a.tls && a.tls->established) {
            verified.Add(where).Set(boolean(a.tls->verified()));
            if (!a.tls->chain.empty())
                if (std::optional<double> t = parse_utc_timestamp(a.tls->chain.front().not_after))
                    not_after.Add(where).Set(*t);
        }
        for (MechanismRow const& row : a.rows)
            if (recognition_known(row.recognition.status))
                recognised.Add({{"address", a.address}, {"mechanism", row.name}})
                    .Set(boolean(row.recognition.status == Status::recognised ||
                                 row.recognition.status == Status::accepted));
    }
}

} // namespace

std::string serialize(std::vector<prometheus::MetricFamily> const& families) {
    return prometheus::TextSerializer().Serialize(families);
}

std::string render_probe_metrics(Report const& report, Verdict const& verdict, bool success) {
    return serialize(probe_families(report, verdict, success));
}

} // namespace smtpprobe::exporter
