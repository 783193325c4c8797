#include "emulator/tls_context.hpp"

#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>
#include <string>

namespace smtpprobe::emulator {
namespace {

std::string openssl_errors() {
    std::string text = net::openssl_error_text();
    return text.empty() ? "(no OpenSSL error reported)" : text;
}

net::SslCtxPtr make_context(Pki const& pki, Profile const& profile) {
    ERR_clear_error();
    net::SslCtxPtr context{SSL_CTX_new(TLS_server_method())};
    if (!context) {
        throw std::runtime_error("emulator: SSL_CTX_new: " + openssl_errors());
    }
    if (SSL_CTX_set_min_proto_version(context.get(), net::parse_tls_version(profile.tls_min)) !=
            1 ||
        SSL_CTX_set_max_proto_version(context.get(), net::parse_tls_version(profile.tls_max)) !=
            1) {
        throw std::runtime_error("emulator: setting TLS " + profile.tls_min + " to " +
                                 profile.tls_max + ": " + openssl_errors());
    }
    if (net::parse_tls_version(profile.tls_min) < TLS1_2_VERSION) {
        // SSL_CTX_set_security_level(3), OpenSSL 3.0: level 1 and up refuse the SHA-1 and
        // MD5-SHA1 signatures of TLS 1.0 and 1.1; a profile that asks for them gets level 0.
        SSL_CTX_set_security_level(context.get(), 0);
        if (SSL_CTX_set_cipher_list(context.get(), "DEFAULT:@SECLEVEL=0") != 1) {
            throw std::runtime_error("emulator: cipher list for old TLS: " + openssl_errors());
        }
    }
    std::string const& chain = pki.chain_pem.empty() ? pki.cert_pem : pki.chain_pem;
    net::BioPtr bio{BIO_new_mem_buf(chain.data(), static_cast<int>(chain.size()))};
    net::CertPtr leaf{bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr};
    if (!leaf || SSL_CTX_use_certificate(context.get(), leaf.get()) != 1) {
        throw std::runtime_error("emulator: loading the server certificate: " + openssl_errors());
    }
    for (int i = 0; i < 16; ++i) {
        X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (extra == nullptr) {
            break;
        }
        if (SSL_CTX_add0_chain_cert(context.get(), extra) != 1) {
            X509_free(extra);
            throw std::runtime_error("emulator: adding a chain certificate: " + openssl_errors());
        }
    }
    ERR_clear_error();
    net::BioPtr key_bio{BIO_new_mem_buf(pki.key_pem.data(), static_cast<int>(pki.key_pem.size()))};
    net::KeyPtr key{key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)
                            : nullptr};
    if (!key || SSL_CTX_use_PrivateKey(context.get(), key.get()) != 1 ||
        SSL_CTX_check_private_key(context.get()) != 1) {
        throw std::runtime_error("emulator: loading the server key: " + openssl_errors());
    }
    return context;
}

// A client certificate that does not verify does not end the handshake (as Exim's
// tls_try_verify_hosts): the result is kept (SSL_get_verify_result) and EXTERNAL refuses.
int keep_going(int, X509_STORE_CTX*) {
    return 1;
}

/// Asks for a client certificate from the CAs of `pem`, named in the CertificateRequest.
void request_client_certificate(SSL_CTX* context, std::string const& pem) {
    X509_STORE* store = SSL_CTX_get_cert_store(context);
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    net::BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
    for (int i = 0; bio && names != nullptr && i < 64; ++i) {
        net::CertPtr ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
        if (!ca)
            break;
        X509_STORE_add_cert(store, ca.get());
        if (X509_NAME* name = X509_NAME_dup(X509_get_subject_name(ca.get())))
            sk_X509_NAME_push(names, name);
    }
    ERR_clear_error();
    if (names == nullptr || sk_X509_NAME_num(names) == 0) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        throw std::runtime_error("emulator: no CA certificate to check client certificates");
    }
    SSL_CTX_set_client_CA_list(context, names); // takes ownership
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, keep_going);
}

} // namespace

TlsContext::TlsContext(Profile const& profile, Pki const& pki, std::optional<Pki> const& no_sni,
                       std::string const& client_ca_pem)
    : context_(make_context(pki, profile)),
      no_sni_context_(no_sni ? make_context(*no_sni, profile) : nullptr) {
    if (profile.request_client_certificate) {
        request_client_certificate(context_.get(), client_ca_pem);
        if (no_sni_context_)
            request_client_certificate(no_sni_context_.get(), client_ca_pem);
    }
    sni_policy_.require = profile.require_sni;
    sni_policy_.no_sni = no_sni_context_.get();
    if (sni_policy_.require || sni_policy_.no_sni != nullptr) {
        SSL_CTX_set_tlsext_servername_callback(context_.get(), on_server_name);
        SSL_CTX_set_tlsext_servername_arg(context_.get(), &sni_policy_);
    }
}

// SSL_CTX_set_tlsext_servername_callback(3): the callback runs for every ClientHello, also
// one without SNI, which is the case handled here. SSL_set_SSL_CTX swaps in the other
// certificate; the protocol settings stay those of the first context.
int TlsContext::on_server_name(SSL* ssl, int* alert, void* arg) {
    SniPolicy const* policy = static_cast<SniPolicy const*>(arg);
    if (SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) != nullptr) {
        return SSL_TLSEXT_ERR_OK;
    }
    if (policy->require) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (policy->no_sni != nullptr && SSL_set_SSL_CTX(ssl, policy->no_sni) == nullptr) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

} // namespace smtpprobe::emulator
