#include "emulator/cert.hpp"

#include "net/openssl_ptr.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace smtpprobe::emulator {
namespace {

using net::BioPtr;
using net::BnPtr;
using net::CertPtr;
using net::ExtPtr;
using net::KeyPtr;
using net::NamesPtr;

constexpr long seconds_per_day = 86400;
// RFC 5280 §4.1.2.2: at most 20 octets, positive; 159 random bits stay within both.
constexpr int serial_bits = 159;

[[noreturn]] void fail(std::string_view what) {
    std::string message = "make_pki: ";
    message += what;
    unsigned long code = ERR_get_error();
    if (code == 0) {
        message += ": (no OpenSSL error reported)";
    }
    for (int i = 0; code != 0 && i < 8; ++i) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        message += ": ";
        message += buffer;
        code = ERR_get_error();
    }
    ERR_clear_error();
    throw std::runtime_error(message);
}

void check(int ok, std::string_view what) {
    if (ok != 1) {
        fail(what);
    }
}

KeyPtr make_key() {
    KeyPtr key{EVP_EC_gen("P-256")};
    if (!key) {
        fail("generating a P-256 key");
    }
    return key;
}

void add_extension(X509* cert, X509* issuer, int nid, char const* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
    ExtPtr extension{X509V3_EXT_conf_nid(nullptr, &context, nid, value)};
    if (!extension) {
        fail(std::string("building extension ") + OBJ_nid2sn(nid) + "=" + value);
    }
    check(X509_add_ext(cert, extension.get(), -1), "adding an extension");
}

void add_subject_alt_names(X509* cert, CertSpec const& spec) {
    NamesPtr names{GENERAL_NAMES_new()};
    if (!names) {
        fail("allocating subjectAltName");
    }
    for (std::string const& dns : spec.dns_names) {
        GENERAL_NAME* name = GENERAL_NAME_new();
        ASN1_IA5STRING* text = ASN1_IA5STRING_new();
        if (name == nullptr || text == nullptr ||
            ASN1_STRING_set(text, dns.data(), static_cast<int>(dns.size())) != 1) {
            GENERAL_NAME_free(name);
            ASN1_IA5STRING_free(text);
            fail("building a dNSName");
        }
        GENERAL_NAME_set0_value(name, GEN_DNS, text);
        sk_GENERAL_NAME_push(names.get(), name);
    }
    for (std::string const& ip : spec.ip_addresses) {
        ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
        if (octets == nullptr) {
            ERR_clear_error();
            throw std::runtime_error("make_pki: not an IP address: \"" + ip + "\"");
        }
        GENERAL_NAME* name = GENERAL_NAME_new();
        if (name == nullptr) {
            ASN1_OCTET_STRING_free(octets);
            fail("building an iPAddress");
        }
        GENERAL_NAME_set0_value(name, GEN_IPADD, octets);
        sk_GENERAL_NAME_push(names.get(), name);
    }
    if (sk_GENERAL_NAME_num(names.get()) == 0) {
        return;
    }
    check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT),
          "adding subjectAltName");
}

struct Issued {
    CertPtr cert;
    KeyPtr key;
};

enum class Role { root, intermediate, leaf };

/// One certificate, signed by issuer, or by itself when issuer is null.
Issued issue(Role role, std::string const& common_name, int not_before_days, int not_after_days,
             Issued const* issuer, CertSpec const& spec) {
    Issued out{CertPtr{X509_new()}, make_key()};
    X509* cert = out.cert.get();
    if (cert == nullptr) {
        fail("allocating a certificate");
    }
    check(X509_set_version(cert, 2), "setting the version");

    BnPtr serial{BN_new()};
    if (!serial || BN_rand(serial.get(), serial_bits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
        fail("generating a serial number");
    }

    if (X509_gmtime_adj(X509_getm_notBefore(cert), not_before_days * seconds_per_day) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert), not_after_days * seconds_per_day) == nullptr) {
        fail("setting the validity period");
    }

    X509_NAME* subject = X509_get_subject_name(cert);
    check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                     reinterpret_cast<unsigned char const*>("smtpprobe emulator"),
                                     -1, -1, 0),
          "setting O");
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<unsigned char const*>(common_name.c_str()),
                                     -1, -1, 0),
          "setting CN");
    X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
    EVP_PKEY* signing_key = issuer != nullptr ? issuer->key.get() : out.key.get();
    check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)), "setting the issuer");
    check(X509_set_pubkey(cert, out.key.get()), "setting the public key");

    switch (role) {
    case Role::root:
        add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
        break;
    case Role::intermediate:
        add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
        break;
    case Role::leaf:
        add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
        add_extension(cert, issuer_cert, NID_ext_key_usage,
                      spec.client ? "clientAuth" : "serverAuth");
        if (!spec.client)
            add_subject_alt_names(cert, spec);
        break;
    }
    add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
    add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");

    if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) {
        fail("signing the certificate");
    }
    return out;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    if (size <= 0 || data == nullptr) {
        return {};
    }
    return std::string(data, static_cast<std::size_t>(size));
}

std::string cert_pem(X509* cert) {
    BioPtr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        fail("writing a certificate as PEM");
    }
    return bio_text(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
    BioPtr bio{BIO_new(BIO_s_mem())};
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        fail("writing a key as PEM");
    }
    return bio_text(bio.get());
}

} // namespace

Pki make_pki(CertSpec const& spec) {
    ERR_clear_error();
    Pki pki;
    if (spec.self_signed) {
        Issued leaf = issue(Role::leaf, spec.common_name, spec.not_before_days, spec.not_after_days,
                            nullptr, spec);
        pki.cert_pem = cert_pem(leaf.cert.get());
        pki.key_pem = key_pem(leaf.key.get());
        pki.ca_pem = pki.cert_pem;
        pki.chain_pem = pki.cert_pem;
        return pki;
    }

    int const ca_not_before = std::min(spec.not_before_days, 0) - 1;
    int const ca_not_after = std::max(spec.not_after_days, 30) + 1;
    Issued root = issue(Role::root, spec.root_name, ca_not_before, ca_not_after, nullptr, spec);
    pki.ca_pem = cert_pem(root.cert.get());

    if (!spec.with_intermediate) {
        Issued leaf = issue(Role::leaf, spec.common_name, spec.not_before_days, spec.not_after_days,
                            &root, spec);
        pki.cert_pem = cert_pem(leaf.cert.get());
        pki.key_pem = key_pem(leaf.key.get());
        pki.chain_pem = pki.cert_pem;
        return pki;
    }

    Issued intermediate = issue(Role::intermediate, "smtpprobe emulator test intermediate CA",
                                ca_not_before, ca_not_after, &root, spec);
    Issued leaf = issue(Role::leaf, spec.common_name, spec.not_before_days, spec.not_after_days,
                        &intermediate, spec);
    pki.cert_pem = cert_pem(leaf.cert.get());
    pki.key_pem = key_pem(leaf.key.get());
    pki.chain_pem = pki.cert_pem;
    if (spec.send_intermediate) {
        pki.chain_pem += cert_pem(intermediate.cert.get());
    }
    return pki;
}

std::optional<CertificateKind> parse_certificate_kind(std::string_view text) noexcept {
    if (text == "valid") {
        return CertificateKind::valid;
    }
    if (text == "expired") {
        return CertificateKind::expired;
    }
    if (text == "self-signed") {
        return CertificateKind::self_signed;
    }
    if (text == "wrong-host") {
        return CertificateKind::wrong_host;
    }
    return std::nullopt;
}

CertSpec client_certificate_spec(std::string const& common_name, std::string const& root_name) {
    CertSpec spec;
    spec.common_name = common_name;
    spec.dns_names = {};
    spec.ip_addresses = {};
    spec.client = true;
    spec.root_name = root_name;
    return spec;
}

CertSpec certificate_spec(std::string const& hostname, CertificateKind kind) {
    CertSpec spec;
    spec.common_name = hostname;
    spec.dns_names = {hostname};
    if (hostname != "localhost") {
        spec.dns_names.push_back("localhost");
    }
    switch (kind) {
    case CertificateKind::valid:
        break;
    case CertificateKind::expired:
        spec.not_before_days = -400;
        spec.not_after_days = -12;
        break;
    case CertificateKind::self_signed:
        spec.self_signed = true;
        break;
    case CertificateKind::wrong_host:
        spec.common_name = "wrong-host.invalid";
        spec.dns_names = {"wrong-host.invalid"};
        spec.ip_addresses = {};
        break;
    }
    return spec;
}

} // namespace smtpprobe::emulator
