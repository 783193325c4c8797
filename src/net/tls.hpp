#pragma once
// TLS facts and options. OpenSSL stays inside net/tls.cpp and net/tcp_transport.cpp.

#include <memory>
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
    long days_left = 0; ///< whole days until not_after (negative: expired)
    std::string key;    ///< "EC 256", "RSA 2048"
    std::string signature_algorithm;
    std::string sha256; ///< colon-separated hex fingerprint
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
    long verify_code = 0;      ///< X509_V_OK or X509_V_ERR_*
    std::string verify_error;  ///< OpenSSL's reason, empty when chain_verified
    bool host_checked = false; ///< a host name or address was checked against the leaf
    bool host_verified = false;
    std::string verify_name;           ///< the name checked
    bool verification_skipped = false; ///< --insecure: verification result not enforced
    std::vector<CertificateInfo> chain;

    bool verified() const noexcept { return chain_verified && host_verified; }
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
};

class TlsClientContext {
public:
    /// Throws std::runtime_error with OpenSSL's reason (unreadable CA file, bad version).
    explicit TlsClientContext(TlsClientOptions const& options);
    ~TlsClientContext();
    TlsClientContext(TlsClientContext const&) = delete;
    TlsClientContext& operator=(TlsClientContext const&) = delete;

    void* native() const noexcept { return ctx_; } ///< SSL_CTX*
    TlsClientOptions const& options() const noexcept { return options_; }

private:
    void* ctx_ = nullptr;
    TlsClientOptions options_;
};

/// Per-connection TLS parameters.
struct TlsConnectOptions {
    TlsClientContext const* context = nullptr;
    std::string sni;         ///< empty: send none
    std::string verify_name; ///< host name or IP literal checked against the certificate
};

/// Fills TlsInfo from a finished handshake (SSL*). Used by the transport.
TlsInfo describe_tls(void* ssl, TlsConnectOptions const& options);

/// The last OpenSSL error as text (and clears the queue).
std::string openssl_error_text();

} // namespace smtpprobe::net
