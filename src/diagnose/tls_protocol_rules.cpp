#include "diagnose/tls_protocol_rules.hpp"

#include "report/words.hpp"

namespace smtpprobe::diagnose {
namespace {

struct Adder {
    std::vector<Finding>& out;
    void operator()(std::string id, Severity severity, std::string title, std::string detail,
                    std::vector<std::string> evidence) const {
        out.push_back(
            {std::move(id), severity, std::move(title), std::move(detail), std::move(evidence)});
    }
};

} // namespace

// See engine.cpp (Run::tls_checks) for when each SNI check runs.
void sni_findings(Report const& r, std::vector<Finding>& out) {
    ServerFacts const& s = r.server;
    Adder const add{out};
    if (!r.sni_check)
        return;
    SniCheck const& check = *r.sni_check;
    auto describe = [](SniCheck const& c) {
        if (!c.handshake_ok || !c.tls)
            return "handshake failed: " + c.error;
        net::TlsInfo const& t = *c.tls;
        std::string text = "certificate " + (t.chain.empty() ? "(none)" : t.chain.front().subject);
        text += t.verified() ? ", verified" : ", NOT verified";
        if (!t.chain_verified)
            text += " (" + t.verify_error + ")";
        if (t.host_checked && !t.host_verified)
            text += " (not valid for " + t.verify_name + ")";
        return text;
    };
    if (!check.sni.empty()) {
        // The main session sent no SNI and failed; this one sent the host name.
        if (!check.handshake_ok || !check.tls || !check.tls->verified())
            return;
        std::string const without =
            !s.tls_error.empty()
                ? "handshake failed: " + s.tls_error
                : (s.tls ? "certificate " +
                               (s.tls->chain.empty() ? std::string("(none)")
                                                     : s.tls->chain.front().subject) +
                               ", NOT verified"
                         : std::string("no TLS session"));
        add("tls.sni_required",
            s.tls && s.tls->verification_skipped ? Severity::warning : Severity::error,
            "The server needs SNI: without it, " +
                std::string(!s.tls_error.empty() ? "the handshake fails"
                                                 : "it presents a certificate that does "
                                                   "not verify") +
                ", with SNI " + check.sni + " it presents a valid certificate",
            "This run sent no SNI (--no-sni). Clients must send the server name in SNI (RFC "
            "6066 §3); current TLS libraries do, but clients that connect by IP address or use "
            "an old or embedded TLS stack do not, and fail like this run.",
            {"without SNI: " + without, "with SNI " + check.sni + ": " + describe(check)});
        return;
    }
    // The main session sent SNI and verified; this one sent none.
    if (!s.tls || !s.tls->verified())
        return;
    bool const refused = !check.handshake_ok && check.handshake_failed;
    bool other_certificate = false;
    if (check.handshake_ok && check.tls && !check.tls->chain.empty() && !s.tls->chain.empty())
        other_certificate = check.tls->chain.front().sha256 != s.tls->chain.front().sha256 &&
                            !check.tls->verified();
    if (!refused && !other_certificate)
        return;
    add("tls.sni_required", Severity::warning,
        refused ? "The server needs SNI: without it, the handshake fails"
                : "The server needs SNI: without it, it presents a certificate that does not "
                  "verify",
        "With SNI " + s.tls->sni +
            " everything verifies. Clients that send no SNI (those that connect by IP address, "
            "old or embedded TLS stacks) " +
            (refused ? "cannot connect." : "get the other certificate and refuse it.") +
            " RFC 6066 §3 defines SNI; nothing needs fixing for current clients.",
        {"with SNI " + s.tls->sni + ": certificate " + s.tls->chain.front().subject + ", verified",
         "without SNI: " + describe(check)});
}

void version_findings(Report const& r, std::vector<Finding>& out) {
    Adder const add{out};
    if (!r.tls_versions)
        return;
    std::vector<std::string> legacy, accepted;
    std::vector<std::string> evidence;
    bool tested_12 = false, accepted_12 = false, tested_13 = false, accepted_13 = false;
    for (TlsVersionResult const& v : *r.tls_versions) {
        evidence.push_back(
            "TLS " + v.version + ": " +
            (v.tested ? (v.accepted ? "accepted (" : "refused (") + v.detail + ")" : v.detail));
        if (v.accepted)
            accepted.push_back(v.version);
        if (v.accepted && net::tls_version_number(v.version) < 12)
            legacy.push_back("TLS " + v.version);
        if (v.version == "1.2") {
            tested_12 = v.tested;
            accepted_12 = v.accepted;
        }
        if (v.version == "1.3") {
            tested_13 = v.tested;
            accepted_13 = v.accepted;
        }
    }
    if (!legacy.empty())
        add("tls.legacy_version", Severity::warning, "The server accepts " + list_words(legacy),
            "RFC 8996 deprecates TLS 1.0 and 1.1: they MUST NOT be used. Turn them off in the "
            "server's TLS settings (Postfix 3.6+: smtpd_tls_protocols = >=TLSv1.2; OpenSSL "
            "servers generally: MinProtocol = TLSv1.2).",
            evidence);
    if (!accepted.empty() && !accepted_12 && !accepted_13 && (tested_12 || tested_13))
        add("tls.no_modern_version", Severity::error,
            "The server accepts nothing newer than TLS " + accepted.back(),
            "Current clients refuse TLS 1.0 and 1.1 by default (RFC 8996; OpenSSL 3 does not "
            "offer them at its default security level). Enable TLS 1.2 and 1.3 on the server.",
            evidence);
    if (tested_12 && !accepted_12 && accepted_13)
        add("tls.tls13_only", Severity::warning, "The server accepts only TLS 1.3",
            "Clients without TLS 1.3 cannot connect: OpenSSL 1.0.2 and older, and older Java "
            "and Windows TLS stacks. Enable TLS 1.2 unless they are meant to be locked out.",
            evidence);
    if (tested_13 && !accepted_13 && accepted_12)
        add("tls.no_tls13", Severity::info, "The server does not accept TLS 1.3",
            "TLS 1.2 works with every current client; TLS 1.3 (RFC 8446) is faster to set up "
            "and drops weak algorithms.",
            evidence);
}

} // namespace smtpprobe::diagnose
