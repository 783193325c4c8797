#pragma once
// TLS facts and options. OpenSSL stays inside net/tls.cpp and net/tcp_transport.cpp.

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace smtpprobe::net {

/// One certificate of the peer's chain, as sent (depth 0 = leaf).
struct CertificateInfo {
    std::string subject;
    std::string issuer;
    std::vector<std::string> subject_alt_names; ///< "DNS:x", "IP:y"
    std::string not_before;                     ///< ISO 8601 UTC
    std::string not_after;
    long days_left = 0; ///< days until not_after, rounded to the nearest day (negative: expired)
    long days_until_valid = 0; ///< days until not_before, rounded; positive: not yet valid
    std::string key;           ///< "EC 256", "RSA 2048"
    std::string signature_algorithm;
    std::string sha256; ///< colon-separated hex fingerprint
};

/// One error the chain verification met (X509_STORE_CTX_get_error and friends, read in the
/// verify callback). `depth` counts from the leaf (0) along the chain OpenSSL built, which
/// can hold certificates from the trust store that the server did not send.
struct VerifyIssue {
    long code = 0;       ///< X509_V_ERR_*
    std::string reason;  ///< X509_verify_cert_error_string(code) of the running library
    int depth = 0;       ///< where in the built chain it failed
    std::string subject; ///< the certificate at that depth
    std::string issuer;  ///< its issuer (the one that could not be found, for codes 2/20/21)
    std::string not_before;
    std::string not_after;
    long days_left = 0;        ///< as CertificateInfo::days_left
    long days_until_valid = 0; ///< as CertificateInfo::days_until_valid
};

/// What a TLS handshake established and how the peer verified.
struct TlsInfo {
    bool established = false;
    std::string version; ///< "TLSv1.3"
    std::string cipher;
    std::string group; ///< key-exchange group, when OpenSSL reports it
    bool resumed = false;
    std::string sni; ///< the SNI sent; empty when none
    bool chain_verified = false;
    long verify_code = 0;     ///< the first error's X509_V_ERR_* (X509_V_OK when verified)
    std::string verify_error; ///< the first error's reason, empty when chain_verified
    int verify_depth = -1;    ///< the first error's depth; -1 when verified
    /// Every verification error in the order OpenSSL met them (at most 16). The handshake
    /// goes on past each one, so all of them are known, not only the first.
    std::vector<VerifyIssue> verify_issues;
    bool host_checked = false; ///< a host name or address was checked against the leaf
    bool host_verified = false;
    std::string verify_name;           ///< the name checked
    bool verification_skipped = false; ///< --insecure: verification result not enforced
    std::vector<CertificateInfo> chain;
    /// The server sent a CertificateRequest (it asks for a client certificate, RFC 8446
    /// §4.3.2, RFC 5246 §7.4.4).
    bool client_certificate_requested = false;
    /// The CA names of that CertificateRequest ("certificate_authorities"; at most 16), as
    /// RFC 2253 text; empty when the server named none.
    std::vector<std::string> client_certificate_authorities;
    /// The client certificate offered in answer (--cert); none when not asked or none given.
    std::optional<CertificateInfo> client_certificate;
    /// Plaintext lines that came after the STARTTLS 220, in a read of their own, and before
    /// the server's first TLS record: injected (CVE-2011-0411 class), read and set aside by
    /// the transport instead of being fed to the handshake. Empty from an honest server.
    std::string plaintext_before_tls;

    bool verified() const noexcept { return chain_verified && host_verified; }
};

/// --cert/--key: the client certificate a client offers when the server asks for one.
struct ClientCertificate {
    std::string cert_file; ///< PEM: the certificate, then any intermediate certificates
    std::string key_file;  ///< PEM private key (PKCS#8 or traditional), possibly encrypted
    /// The key's passphrase: a secret, read by prepare() (--key-passphrase-env/-file), never
    /// from the command line; empty: none.
    std::string passphrase;

    bool given() const noexcept { return !cert_file.empty(); }
};

/// Why a client certificate or key does not load (TlsClientContext). The message names the
/// file and the reason, never the passphrase.
class ClientCertificateError : public std::runtime_error {
public:
    enum class Kind { missing_file, not_pem, key_mismatch, passphrase };
    ClientCertificateError(Kind kind, std::string const& message)
        : std::runtime_error(message), kind_(kind) {}
    Kind kind() const noexcept { return kind_; }

private:
    Kind kind_;
};

/// Client-side TLS settings for a whole run; the engine builds one and shares it.
struct TlsClientOptions {
    std::string ca_file;
    std::string ca_path;
    std::string ca_pem;           ///< in-memory trust anchors (the --demo emulator's CA)
    bool use_system_store = true; ///< when no CA option is given
    bool insecure = false;        ///< record verification failures but do not enforce them
    std::string min_version;      ///< "1.2", "1.3", or empty
    std::string max_version;
    /// Security level 0 and "DEFAULT:@SECLEVEL=0": lets OpenSSL 3 offer TLS 1.0/1.1 (and the
    /// SHA-1 signatures they need). Only for the contexts that enumerate server versions.
    bool legacy = false;
    ClientCertificate client_certificate;
};

class TlsClientContext {
public:
    /// Throws std::runtime_error with OpenSSL's reason (unreadable CA file, bad version), and
    /// ClientCertificateError when the client certificate or key does not load.
    explicit TlsClientContext(TlsClientOptions const& options);
    ~TlsClientContext();
    TlsClientContext(TlsClientContext const&) = delete;
    TlsClientContext& operator=(TlsClientContext const&) = delete;

    void* native() const noexcept { return ctx_; } ///< SSL_CTX*
    TlsClientOptions const& options() const noexcept { return options_; }
    /// Why this context cannot offer any protocol version with any cipher (the local OpenSSL
    /// was built or configured without it), or empty when it can send a ClientHello.
    std::string local_problem() const;

private:
    void* ctx_ = nullptr;
    TlsClientOptions options_;
};

/// Per-connection TLS parameters.
struct TlsConnectOptions {
    TlsClientContext const* context = nullptr;
    std::string sni;         ///< empty: send none
    std::string verify_name; ///< host name or IP literal checked against the certificate
    /// The handshake follows a STARTTLS 220: plaintext lines ahead of the server's first TLS
    /// record are set aside (TlsInfo::plaintext_before_tls), not fed to the handshake. Off
    /// for implicit TLS, where a plaintext banner must fail the handshake (that failure is
    /// how a plaintext port is recognised).
    bool after_starttls = false;
};

/// Prepares a client SSL* made from options.context: SNI, and the log the verify callback
/// fills (freed with the SSL). Call before the handshake. Used by the transport.
void prepare_client_ssl(void* ssl, TlsConnectOptions const& options);

/// Server side (the emulator): the subject of the client certificate of a finished handshake
/// (SSL*) when one was sent and it verified; else none.
std::optional<std::string> verified_client_subject(void* ssl);

/// Fills TlsInfo from a finished handshake (SSL*). Used by the transport.
TlsInfo describe_tls(void* ssl, TlsConnectOptions const& options);

/// The channel-binding inputs of an established TLS connection, for SASL's SCRAM-*-PLUS (the
/// choice between them is sasl::choose_channel_binding). Empty where the connection has none.
struct TlsChannelBindings {
    std::string tls_unique;   ///< RFC 5929: the first Finished of the handshake; TLS 1.2 and below
    std::string tls_exporter; ///< RFC 9266: 32 bytes of "EXPORTER-Channel-Binding", no context
};
/// Reads them from an SSL* (either side) whose handshake finished.
TlsChannelBindings channel_bindings(void* ssl);

/// "1.0", "1.1", "1.2", "1.3" as OpenSSL's protocol version number (TLS1_2_VERSION, ...); 0
/// for "" (no bound). Throws std::runtime_error for anything else.
int parse_tls_version(std::string const& text);
/// The TLS versions smtpprobe can name, oldest first, as options and reports spell them.
inline constexpr std::array<std::string_view, 4> tls_versions{"1.0", "1.1", "1.2", "1.3"};
/// 10 to 13 for "1.0" to "1.3" and for OpenSSL's names ("TLSv1", "TLSv1.1" ... "TLSv1.3");
/// 0 for anything else.
int tls_version_number(std::string_view text) noexcept;
inline bool is_tls_version(std::string_view text) noexcept {
    return !text.starts_with("TLSv") && tls_version_number(text) != 0;
}

/// The last OpenSSL error as text (and clears the queue).
std::string openssl_error_text();

} // namespace smtpprobe::net
