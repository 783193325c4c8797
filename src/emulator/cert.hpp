#pragma once
// An in-memory PKI for the emulator and the tests: a root CA, optionally an intermediate, and a
// server certificate signed by the last of them. Nothing is written to disk and nothing is
// committed, so no test certificate can expire in the repository.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::emulator {

/// PEM text of one generated PKI.
struct Pki {
    std::string ca_pem;    ///< the root a client must trust (the leaf itself when self-signed)
    std::string cert_pem;  ///< the server (leaf) certificate alone
    std::string key_pem;   ///< the leaf's private key, PKCS#8, unencrypted
    std::string chain_pem; ///< what the server sends: leaf, then the intermediate when sent
};

/// What to generate. Every knob changes the certificate for real, so TLS diagnostics can be
/// tested against an expired, not-yet-valid, self-signed or incomplete chain.
struct CertSpec {
    std::string common_name = "localhost";
    std::vector<std::string> dns_names{"localhost"};           ///< subjectAltName dNSName
    std::vector<std::string> ip_addresses{"127.0.0.1", "::1"}; ///< subjectAltName iPAddress
    int not_before_days = -1;       ///< leaf notBefore, in days from now (negative: in the past)
    int not_after_days = 365;       ///< leaf notAfter, in days from now (negative: already expired)
    bool self_signed = false;       ///< no CA: the leaf signs itself and ca_pem == cert_pem
    bool with_intermediate = false; ///< root -> intermediate -> leaf instead of root -> leaf
    bool send_intermediate = true;  ///< false: chain_pem omits the intermediate (broken chain)
    /// A client certificate (TLS client authentication, EXTERNAL): extendedKeyUsage
    /// clientAuth and no subjectAltName.
    bool client = false;
    std::string root_name = "smtpprobe emulator test root CA (not for production)";
};

/// A client PKI: a root named `root_name` and a client certificate for `common_name` from it.
CertSpec client_certificate_spec(std::string const& common_name, std::string const& root_name);

/// The certificates a profile (or `emulate --certificate`) can ask for.
enum class CertificateKind {
    valid,       ///< from the emulator's own root, for the hostname, localhost and loopback
    expired,     ///< the same, but it expired 12 days ago
    self_signed, ///< valid dates and names, but it signs itself
    wrong_host,  ///< from the root, valid, but only for "wrong-host.invalid" (no IP names)
};

/// The spelling in profiles and on the command line: "valid", "expired", "self-signed",
/// "wrong-host"; none for anything else.
std::optional<CertificateKind> parse_certificate_kind(std::string_view text) noexcept;

/// What the emulator generates for a server called `hostname` (see CertificateKind).
CertSpec certificate_spec(std::string const& hostname, CertificateKind kind);

/// Generates fresh ECDSA P-256 keys and certificates (SHA-256 signatures, random serials,
/// X.509 v3 with the extensions a verifying TLS client checks: basicConstraints, keyUsage,
/// extendedKeyUsage serverAuth, subjectAltName, subject and authority key identifiers).
/// The CAs are valid from before the leaf's notBefore to after its notAfter, so an expired or
/// not-yet-valid leaf fails for that reason alone.
/// Throws std::runtime_error carrying the OpenSSL error string, or naming the bad input
/// (e.g. an IP address that does not parse).
Pki make_pki(CertSpec const& spec);

} // namespace smtpprobe::emulator
