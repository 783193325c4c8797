#include "diagnose/tls_rules.hpp"

#include "diagnose/tls_protocol_rules.hpp"

#include "report/words.hpp"

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>

namespace smtpprobe::diagnose {
namespace {

std::string count_of(long n, std::string_view unit) {
    return std::to_string(n) + " " + std::string(unit) + (n == 1 ? "" : "s");
}

/// The CN of an RFC 2253 name ("CN=mail.example.net,O=Example"), or the whole name.
std::string common_name(std::string const& name) {
    std::size_t start = name.rfind("CN=", 0) == 0 ? 0 : name.find(",CN=");
    if (start == std::string::npos)
        return name;
    start += start == 0 ? 3 : 4;
    std::size_t end = start;
    while (end < name.size() && name[end] != ',') {
        if (name[end] == '\\')
            ++end;
        ++end;
    }
    return name.substr(start, end - start);
}

/// The names a certificate is valid for: its DNS and IP subjectAltNames, or its CN when it has
/// none (X509_check_host(3) falls back to the CN only without DNS names).
std::vector<std::string> certificate_names(net::CertificateInfo const& cert) {
    std::vector<std::string> names;
    for (std::string const& san : cert.subject_alt_names) {
        std::size_t const colon = san.find(':');
        names.push_back(colon == std::string::npos ? san : san.substr(colon + 1));
    }
    if (names.empty() && cert.subject.find("CN=") != std::string::npos)
        names.push_back(common_name(cert.subject));
    return names;
}

std::string names_phrase(std::vector<std::string> const& names) {
    if (names.empty())
        return "no name at all";
    if (names.size() <= 3)
        return list_words(names);
    return names.front() + " and " + count_of(static_cast<long>(names.size()) - 1, "other name");
}

bool is_version_error(std::string const& text) {
    for (char const* marker : {"protocol version", "unsupported protocol", "no protocols available",
                               "wrong version number"})
        if (text.find(marker) != std::string::npos)
            return true;
    return false;
}

class TlsRules {
public:
    TlsRules(Report const& report, Expectations const& expect)
        : r_(report), expect_(expect), s_(report.server),
          severity_(report.server.tls && report.server.tls->verification_skipped
                        ? Severity::warning
                        : Severity::error) {}

    std::vector<Finding> run() {
        handshake();
        if (s_.tls) {
            verification(*s_.tls);
            host_name(*s_.tls);
            expiry(*s_.tls);
            session_version(*s_.tls);
        }
        return std::move(out_);
    }

private:
    void add(std::string id, Severity severity, std::string title, std::string detail,
             std::vector<std::string> evidence) {
        out_.push_back({std::move(id), std::move(severity), std::move(title), std::move(detail),
                        std::move(evidence)});
    }
    bool has(std::string_view id) const {
        return std::any_of(out_.begin(), out_.end(), [&](Finding const& f) { return f.id == id; });
    }
    std::string consequence(net::TlsInfo const& t) const {
        return t.verification_skipped
                   ? " --insecure was given, so the probe went on; credentials are still not "
                     "sent unless --allow-insecure-auth is given."
                   : " Clients that verify certificates (most do, and RFC 4954 §14 requires it "
                     "before AUTH PLAIN) refuse this server.";
    }
    static std::string issue_evidence(net::VerifyIssue const& issue) {
        return "OpenSSL: " + issue.reason + " (code " + std::to_string(issue.code) + ", depth " +
               std::to_string(issue.depth) + "): " + issue.subject;
    }
    bool issue_at(net::TlsInfo const& t, long code, std::string const& subject) const {
        return std::any_of(
            t.verify_issues.begin(), t.verify_issues.end(),
            [&](net::VerifyIssue const& i) { return i.code == code && i.subject == subject; });
    }

    void handshake();
    void verification(net::TlsInfo const& t);
    void expired(net::TlsInfo const& t, net::VerifyIssue const& issue);
    void not_yet_valid(net::TlsInfo const& t, net::VerifyIssue const& issue);
    void missing_issuer(net::TlsInfo const& t, net::VerifyIssue const& issue);
    void host_name(net::TlsInfo const& t);
    void expiry(net::TlsInfo const& t);
    void session_version(net::TlsInfo const& t);

    Report const& r_;
    Expectations const& expect_;
    ServerFacts const& s_;
    Severity severity_;
    std::vector<Finding> out_;
};

void TlsRules::handshake() {
    if (s_.tls_error.empty())
        return;
    std::string detail = s_.tls_error + ".";
    if (is_version_error(s_.tls_error))
        detail += " The client and the server have no TLS version in common: check --tls-min "
                  "and --tls-max, and run with --tls-versions to see which versions the server "
                  "accepts (RFC 8996 retires TLS 1.0 and 1.1; OpenSSL 3 no longer offers them "
                  "by default).";
    else if (s_.tls_error.find("unrecognized name") != std::string::npos)
        detail += " The server refused the name sent in SNI, or the lack of one: check --sni "
                  "and --no-sni (with an address as the target no SNI is sent; give the host "
                  "name, or --sni NAME).";
    else if (s_.tls_error.find("handshake failure") != std::string::npos)
        detail += " The server found nothing acceptable in the ClientHello: no common cipher or "
                  "group, or it wants something not sent (SNI, a client certificate).";
    add("tls.handshake_failed", Severity::error, "The TLS handshake failed", detail,
        {"OpenSSL: " + s_.tls_error});
}

// One finding per distinct problem; OpenSSL reports each error with the depth it occurred at
// (X509_STORE_CTX_get_error_depth(3)), so problems deeper in the chain are named as such.
void TlsRules::verification(net::TlsInfo const& t) {
    if (t.chain_verified)
        return;
    bool missing_issuer_seen = false;
    for (net::VerifyIssue const& issue : t.verify_issues) {
        switch (issue.code) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            expired(t, issue);
            break;
        case X509_V_ERR_CERT_NOT_YET_VALID:
            not_yet_valid(t, issue);
            break;
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            add("tls.self_signed", severity_, "The certificate is self-signed",
                "The server's certificate (" + issue.subject +
                    ") is signed by its own key, so no CA vouches for it. Use a certificate from "
                    "a CA clients trust (e.g. Let's Encrypt), or give each client this "
                    "certificate as a trust anchor (for smtpprobe: --ca-file)." +
                    consequence(t),
                {issue_evidence(issue),
                 "SHA-256: " + (t.chain.empty() ? std::string("(none)") : t.chain.front().sha256)});
            break;
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            if (!missing_issuer_seen)
                missing_issuer(t, issue);
            missing_issuer_seen = true;
            break;
        default:
            add("tls.not_verified", severity_, "The certificate did not verify: " + issue.reason,
                "OpenSSL stopped at depth " + std::to_string(issue.depth) + " (" + issue.subject +
                    "): " + issue.reason + "." + consequence(t),
                {issue_evidence(issue)});
        }
    }
    if (t.verify_issues.empty()) {
        std::vector<std::string> evidence{"OpenSSL: " + t.verify_error};
        if (!t.chain.empty())
            evidence.push_back("subject: " + t.chain.front().subject +
                               "; issuer: " + t.chain.front().issuer);
        add("tls.not_verified", severity_, "The certificate did not verify: " + t.verify_error,
            t.verify_error + "." + consequence(t), evidence);
    }
}

void TlsRules::expired(net::TlsInfo const& t, net::VerifyIssue const& issue) {
    long const ago = -issue.days_left;
    std::string const when = ago <= 0 ? "less than a day ago" : count_of(ago, "day") + " ago";
    std::string const what =
        issue.depth == 0 ? "The certificate" : "The CA certificate " + common_name(issue.subject);
    add("tls.cert_expired", severity_, what + " expired " + when,
        (issue.depth == 0 ? "The server's certificate (" + issue.subject + ")"
                          : "The CA certificate at depth " + std::to_string(issue.depth) + " (" +
                                issue.subject + ")") +
            " was valid until " + issue.not_after + ". " +
            (issue.depth == 0
                 ? "Renew it and make the server load the new one (with ACME, check that the "
                   "renewal job runs and that the mail server is reloaded afterwards)."
                 : "The server sends an outdated chain: install the current intermediate "
                   "certificate from the CA.") +
            consequence(t),
        {issue_evidence(issue), "notAfter: " + issue.not_after});
}

void TlsRules::not_yet_valid(net::TlsInfo const& t, net::VerifyIssue const& issue) {
    long const in = issue.days_until_valid;
    add("tls.cert_not_yet_valid", severity_,
        "The certificate is not valid yet: it starts on " + issue.not_before +
            (in > 0 ? " (in " + count_of(in, "day") + ")" : ""),
        "Either the certificate (" + issue.subject +
            ") was issued with a start date in the future, or this machine's clock is behind. "
            "Check the clock here and on the clients; otherwise install a certificate that is "
            "valid now." +
            consequence(t),
        {issue_evidence(issue), "notBefore: " + issue.not_before});
}

// "unable to get local issuer certificate" / "unable to verify the first certificate" at the
// leaf while the leaf's issuer is not among the certificates sent: the server leaves out an
// intermediate. A client cannot tell that from a leaf issued directly by a root it lacks, so an
// issuer whose name says "root" is taken for one (public roots mostly say so; intermediates
// hardly ever do), and both fixes are named either way. Otherwise the chain sent is complete
// but ends at an untrusted CA.
void TlsRules::missing_issuer(net::TlsInfo const& t, net::VerifyIssue const& issue) {
    bool issuer_sent = false;
    bool issuer_is_root = false;
    if (!t.chain.empty()) {
        for (std::size_t i = 1; i < t.chain.size(); ++i)
            if (t.chain[i].subject == t.chain.front().issuer)
                issuer_sent = true;
        std::string cn = common_name(t.chain.front().issuer);
        std::transform(cn.begin(), cn.end(), cn.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        issuer_is_root = cn.find("root") != std::string::npos;
    }
    std::vector<std::string> sent;
    for (net::CertificateInfo const& c : t.chain)
        sent.push_back(common_name(c.subject));
    std::string const sent_line = "the server sent " +
                                  count_of(static_cast<long>(t.chain.size()), "certificate") +
                                  (sent.empty() ? "" : ": " + join(sent, " <- "));
    if (issue.depth == 0 && issue.code != X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN && !issuer_sent &&
        !issuer_is_root && !t.chain.empty()) {
        std::string const issuer = t.chain.front().issuer;
        add("tls.chain_incomplete", severity_,
            "Chain incomplete: the server does not send the intermediate certificate (" +
                common_name(issuer) + ")",
            "The server sends its own certificate without the one that issued it (" + issuer +
                "), and that issuer is not in the trust store, so clients cannot build a chain "
                "to a root they trust. Configure the server to send its certificate followed by "
                "the intermediate(s) (the CA's \"full chain\" file; Postfix: "
                "smtpd_tls_chain_files or a fullchain.pem in smtpd_tls_cert_file). If " +
                common_name(issuer) +
                " is a private root CA rather than an intermediate, trust it instead: "
                "--ca-file." +
                consequence(t),
            {issue_evidence(issue), sent_line, "leaf issuer: " + issuer});
        return;
    }
    std::string const anchor =
        issue.code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ? issue.subject : issue.issuer;
    add("tls.untrusted_ca", severity_,
        "The certificate chain ends at a CA that is not trusted: " + common_name(anchor),
        "The chain the server sends leads to " + anchor +
            ", which is not in the trust store used. If it is a private CA, give its "
            "certificate with --ca-file FILE (or --ca-path DIR), and install it on the clients "
            "too; if the server should have a public certificate, it presents the wrong one." +
            (issuer_sent || issue.depth > 0
                 ? std::string()
                 : " (Should " + common_name(anchor) +
                       " be an intermediate CA, the server must send it after its own "
                       "certificate.)") +
            consequence(t),
        {issue_evidence(issue), sent_line});
}

void TlsRules::host_name(net::TlsInfo const& t) {
    if (!t.host_checked || t.host_verified || t.chain.empty())
        return;
    net::CertificateInfo const& leaf = t.chain.front();
    std::vector<std::string> const names = certificate_names(leaf);
    std::string detail =
        "Clients compare the name they connect to with the certificate's subjectAltName "
        "(RFC 6125; wildcards only in the left-most label), and " +
        t.verify_name + " is not among " + names_phrase(names) +
        ". Connect with a name the certificate lists (--sni NAME checks another name), or get a "
        "certificate that includes " +
        t.verify_name + ".";
    if (t.sni.empty())
        detail += " No SNI was sent: a server with several certificates may pick another one "
                  "when it gets none.";
    std::vector<std::string> evidence{
        "subjectAltName: " + (leaf.subject_alt_names.empty() ? std::string("(none)")
                                                             : join(leaf.subject_alt_names, ", ")),
        "subject: " + leaf.subject,
        "name checked: " + t.verify_name + (t.sni.empty() ? "; no SNI sent" : "; SNI " + t.sni)};
    add("tls.host_mismatch", severity_,
        "The certificate is for " + names_phrase(names) + ", not " + t.verify_name,
        detail + consequence(t), evidence);
}

void TlsRules::expiry(net::TlsInfo const& t) {
    for (std::size_t depth = 0; depth < t.chain.size(); ++depth) {
        net::CertificateInfo const& c = t.chain[depth];
        // A self-signed root sent along is not used by clients (they have their own copy).
        if (depth > 0 && c.subject == c.issuer)
            continue;
        if (c.days_left < 0 || issue_at(t, X509_V_ERR_CERT_HAS_EXPIRED, c.subject) ||
            c.days_left >= expect_.cert_warn_days)
            continue;
        bool const critical = c.days_left < expect_.cert_crit_days;
        std::string const when =
            c.days_left == 0 ? "within a day" : "in " + count_of(c.days_left, "day");
        std::string const what = depth == 0
                                     ? "The certificate"
                                     : "The intermediate certificate " + common_name(c.subject);
        add("tls.cert_expiring", critical ? Severity::error : Severity::warning,
            what + " expires " + when + " (" + c.not_after + ")",
            "Fewer than " +
                (critical ? std::to_string(expect_.cert_crit_days) + " days (--cert-crit-days)"
                          : std::to_string(expect_.cert_warn_days) + " days (--cert-warn-days)") +
                " are left. Renew it before " + c.not_after +
                "; from then on clients refuse the server (with ACME: check that renewal runs "
                "and the mail server is reloaded).",
            {"subject: " + c.subject, "notAfter: " + c.not_after});
    }
}

void TlsRules::session_version(net::TlsInfo const& t) {
    int const version = net::tls_version_number(t.version);
    if (r_.tls_versions || version == 0 || version >= 12)
        return;
    add("tls.legacy_version", Severity::warning, "The session used " + t.version,
        "RFC 8996 forbids TLS 1.0 and 1.1. The server negotiated " + t.version +
            ", so it either prefers it or accepts nothing newer; run with --tls-versions.",
        {"negotiated: " + t.version + ", " + t.cipher});
}

} // namespace

std::vector<Finding> tls_findings(Report const& report, Expectations const& expect) {
    std::vector<Finding> out = TlsRules(report, expect).run();
    sni_findings(report, out);
    version_findings(report, out);
    return out;
}

} // namespace smtpprobe::diagnose
