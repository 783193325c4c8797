#pragma once
// The emulator's server-side TLS context: the profile's protocol versions, the certificate
// chain and key of a Pki, and the SNI behaviour (require it, or another certificate without it).

#include "emulator/cert.hpp"
#include "emulator/profile.hpp"

#include "net/openssl_ptr.hpp"

#include <optional>

namespace smtpprobe::emulator {

class TlsContext {
public:
    /// Throws std::runtime_error with OpenSSL's reason (unusable key, unsupported version).
    /// no_sni: the certificate for ClientHellos without SNI; none: the same for everyone.
    /// client_ca_pem: with the profile's request_client_certificate, the CA certificates a
    /// client certificate is checked against and named in the CertificateRequest.
    TlsContext(Profile const& profile, Pki const& pki, std::optional<Pki> const& no_sni,
               std::string const& client_ca_pem = {});
    TlsContext(TlsContext const&) = delete;
    TlsContext& operator=(TlsContext const&) = delete;

    /// The SSL_CTX* for net::TcpTransport::accept_tls.
    void* native() const noexcept { return context_.get(); }

private:
    /// What the SNI callback reads; `this` is its argument, so the object does not move.
    struct SniPolicy {
        bool require = false;
        SSL_CTX* no_sni = nullptr; ///< the context to switch to when no SNI came; may be null
    };
    static int on_server_name(SSL* ssl, int* alert, void* arg);

    net::SslCtxPtr context_;
    net::SslCtxPtr no_sni_context_;
    SniPolicy sni_policy_;
};

} // namespace smtpprobe::emulator
