#pragma once
// Owning pointers for the OpenSSL objects the program and its tests create, one place for
// the deleters instead of a set per file.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace smtpprobe::net {

/// Calls the OpenSSL free function `Free` (its return value, where it has one, carries nothing).
template <auto Free> struct OpenSslFree {
    template <typename T> void operator()(T* object) const noexcept { Free(object); }
};

using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslFree<BN_free>>;
using CertPtr = std::unique_ptr<X509, OpenSslFree<X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, OpenSslFree<X509_EXTENSION_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslFree<SSL_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE_free>>;

} // namespace smtpprobe::net
