#include "net/tls.hpp"

#include "net/openssl_ptr.hpp"
#include "net/resolve.hpp"
#include "net/tls_trust_store.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace smtpprobe::net {

std::string openssl_error_text() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(e, buffer, sizeof buffer);
        if (!out.empty())
            out += "; ";
        out += buffer;
    }
    return out;
}

int tls_version_number(std::string_view text) noexcept {
    if (text == "TLSv1")
        return 10;
    if (text.starts_with("TLSv"))
        text.remove_prefix(4);
    for (std::size_t i = 0; i < tls_versions.size(); ++i)
        if (text == tls_versions[i])
            return 10 + static_cast<int>(i);
    return 0;
}

int parse_tls_version(std::string const& text) {
    if (text.empty())
        return 0;
    switch (is_tls_version(text) ? tls_version_number(text) : 0) {
    case 10:
        return TLS1_VERSION;
    case 11:
        return TLS1_1_VERSION;
    case 12:
        return TLS1_2_VERSION;
    case 13:
        return TLS1_3_VERSION;
    default:
        throw std::runtime_error("unknown TLS version \"" + text + "\" (use 1.0, 1.1, 1.2 or 1.3)");
    }
}

namespace {

std::string name_text(X509_NAME const* name) {
    if (name == nullptr)
        return {};
    BIO* bio = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return out;
}

/// Days from now until `t`, to the nearest whole day (half away from zero), so that a
/// certificate issued for 5 days a second ago still shows 5.
long days_until(ASN1_TIME const* t) {
    int days = 0;
    int seconds = 0;
    if (t == nullptr || ASN1_TIME_diff(&days, &seconds, nullptr, t) != 1)
        return 0;
    // ASN1_TIME_diff(3): days and seconds have the same sign.
    long const total = static_cast<long>(days) * 86400L + seconds;
    return total >= 0 ? (total + 43200) / 86400 : -((-total + 43200) / 86400);
}

std::string time_text(ASN1_TIME const* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
        return {};
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

/// The fields CertificateInfo and VerifyIssue share: who, by whom, and when.
template <typename Described> void describe_identity(X509* cert, Described& out) {
    out.subject = name_text(X509_get_subject_name(cert));
    out.issuer = name_text(X509_get_issuer_name(cert));
    out.not_before = time_text(X509_get0_notBefore(cert));
    out.not_after = time_text(X509_get0_notAfter(cert));
    out.days_left = days_until(X509_get0_notAfter(cert));
    out.days_until_valid = days_until(X509_get0_notBefore(cert));
}

CertificateInfo describe_certificate(X509* cert) {
    CertificateInfo info;
    describe_identity(cert, info);
    GENERAL_NAMES* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
        GENERAL_NAME const* name = sk_GENERAL_NAME_value(names, i);
        if (name->type == GEN_DNS) {
            ASN1_STRING const* s = name->d.dNSName;
            info.subject_alt_names.push_back(
                "DNS:" + std::string(reinterpret_cast<char const*>(ASN1_STRING_get0_data(s)),
                                     static_cast<std::size_t>(ASN1_STRING_length(s))));
        } else if (name->type == GEN_IPADD) {
            ASN1_OCTET_STRING const* s = name->d.iPAddress;
            char text[INET6_ADDRSTRLEN] = {};
            int const length = ASN1_STRING_length(s);
            unsigned char const* bytes = ASN1_STRING_get0_data(s);
            if (length == 4 || length == 16)
                ::inet_ntop(length == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text);
            info.subject_alt_names.push_back("IP:" + std::string(text));
        }
    }
    GENERAL_NAMES_free(names);
    EVP_PKEY const* key = X509_get0_pubkey(cert);
    if (key != nullptr) {
        std::string type = EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "?";
        info.key = type + " " + std::to_string(EVP_PKEY_get_bits(key));
    }
    int const nid = X509_get_signature_nid(cert);
    info.signature_algorithm = nid != NID_undef ? OBJ_nid2ln(nid) : "";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (X509_digest(cert, EVP_sha256(), digest, &digest_size) == 1) {
        static char const hex[] = "0123456789ABCDEF";
        for (unsigned int i = 0; i < digest_size; ++i) {
            if (i != 0)
                info.sha256 += ':';
            info.sha256 += hex[digest[i] >> 4];
            info.sha256 += hex[digest[i] & 15];
        }
    }
    return info;
}

constexpr std::size_t max_verify_issues = 16;

struct VerifyLog {
    std::vector<VerifyIssue> issues;
    bool certificate_requested = false; ///< the server sent a CertificateRequest
};

void free_verify_log(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<VerifyLog*>(ptr);
}

int verify_log_index() {
    static int const index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_verify_log);
    return index;
}

// SSL_CTX_set_verify(3): with SSL_VERIFY_NONE the chain is still verified and this callback
// still runs for every error; SSL_get_verify_result(3) keeps only the last one, so the first
// error and its depth (X509_STORE_CTX_get_error_depth(3)) are kept here. Returning 1 lets the
// verification go on, so later errors (an expired leaf that is also self-signed) are seen too.
int record_verify_error(int preverify_ok, X509_STORE_CTX* store) {
    if (preverify_ok == 1)
        return 1;
    SSL* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    VerifyLog* log = ssl != nullptr
                         ? static_cast<VerifyLog*>(SSL_get_ex_data(ssl, verify_log_index()))
                         : nullptr;
    if (log == nullptr || log->issues.size() >= max_verify_issues)
        return 1;
    VerifyIssue issue;
    issue.code = X509_STORE_CTX_get_error(store);
    issue.depth = X509_STORE_CTX_get_error_depth(store);
    for (VerifyIssue const& seen : log->issues)
        if (seen.code == issue.code && seen.depth == issue.depth)
            return 1;
    issue.reason = X509_verify_cert_error_string(issue.code);
    if (X509* cert = X509_STORE_CTX_get_current_cert(store))
        describe_identity(cert, issue);
    log->issues.push_back(std::move(issue));
    return 1;
}

// SSL_CTX_set_cert_cb(3): on a client, called when the server requests a certificate, before
// one is sent; the certificate set with SSL_CTX_use_certificate is then offered as it is.
int record_certificate_request(SSL* ssl, void*) {
    if (VerifyLog* log = static_cast<VerifyLog*>(SSL_get_ex_data(ssl, verify_log_index())))
        log->certificate_requested = true;
    return 1;
}

using CertificateKind = ClientCertificateError::Kind;

std::string read_file(std::string const& path, char const* what) {
    BioPtr bio(BIO_new_file(path.c_str(), "rb"));
    if (!bio) {
        ERR_clear_error();
        throw ClientCertificateError(CertificateKind::missing_file,
                                     std::string("cannot read the ") + what + " file " + path +
                                         ": " + std::strerror(errno));
    }
    std::string out;
    char buffer[4096];
    int n = 0;
    // A certificate chain or a key is a few kilobytes; a megabyte is not one.
    while ((n = BIO_read(bio.get(), buffer, sizeof buffer)) > 0 && out.size() < (1u << 20))
        out.append(buffer, static_cast<std::size_t>(n));
    return out;
}

struct PassphraseUse {
    std::string const* passphrase;
    bool asked = false; ///< the key is encrypted: OpenSSL asked for the passphrase
};

int give_passphrase(char* buffer, int size, int, void* user) {
    PassphraseUse* use = static_cast<PassphraseUse*>(user);
    use->asked = true;
    std::string const& p = *use->passphrase;
    if (p.empty() || p.size() > static_cast<std::size_t>(size))
        return -1;
    std::memcpy(buffer, p.data(), p.size());
    return static_cast<int>(p.size());
}

/// --cert/--key into `ctx`: the certificate (and any intermediates after it), the key
/// (decrypted with the passphrase), and the check that they belong together.
void load_client_certificate(SSL_CTX* ctx, ClientCertificate const& c) {
    if (!c.given())
        return;
    std::string const key_path = c.key_file.empty() ? c.cert_file : c.key_file;
    std::string const cert_pem = read_file(c.cert_file, "client certificate");
    std::string const key_pem =
        key_path == c.cert_file ? cert_pem : read_file(key_path, "client key");
    ERR_clear_error();
    BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
    CertPtr leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!leaf) {
        ERR_clear_error();
        throw ClientCertificateError(
            CertificateKind::not_pem,
            "the client certificate file " + c.cert_file +
                " holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
    }
    if (SSL_CTX_use_certificate(ctx, leaf.get()) != 1)
        throw ClientCertificateError(CertificateKind::not_pem,
                                     "the client certificate " + c.cert_file +
                                         " cannot be used: " + openssl_error_text());
    for (int i = 0; i < 16; ++i) {
        X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
        if (extra == nullptr)
            break;
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1)
            X509_free(extra);
    }
    ERR_clear_error();
    bool const pem_key = key_pem.find("-----BEGIN") != std::string::npos &&
                         key_pem.find("PRIVATE KEY-----") != std::string::npos;
    if (!pem_key)
        throw ClientCertificateError(CertificateKind::not_pem,
                                     "the client key file " + key_path +
                                         " holds no PEM private key (\"-----BEGIN ... PRIVATE "
                                         "KEY-----\")");
    PassphraseUse use{&c.passphrase};
    BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, give_passphrase, &use));
    ERR_clear_error();
    if (!key && use.asked && c.passphrase.empty())
        throw ClientCertificateError(
            CertificateKind::passphrase,
            "the client key " + key_path +
                " is encrypted and no passphrase was given "
                "(--key-passphrase-env VAR or --key-passphrase-file FILE)");
    if (!key && use.asked)
        throw ClientCertificateError(CertificateKind::passphrase,
                                     "the passphrase does not decrypt the client key " + key_path);
    if (!key)
        throw ClientCertificateError(CertificateKind::not_pem,
                                     "the client key " + key_path +
                                         " is not a private key OpenSSL can read");
    if (X509_check_private_key(leaf.get(), key.get()) != 1) {
        ERR_clear_error();
        throw ClientCertificateError(CertificateKind::key_mismatch,
                                     "the client key " + key_path +
                                         " does not belong to the certificate " + c.cert_file +
                                         " (their public keys differ)");
    }
    if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
        throw ClientCertificateError(CertificateKind::key_mismatch,
                                     "the client key " + key_path +
                                         " cannot be used: " + openssl_error_text());
}

} // namespace

TlsClientContext::TlsClientContext(TlsClientOptions const& options) : options_(options) {
    // Owned by `guard` until the constructor finishes: a throw below (an unreadable CA file)
    // must not leak the context, and the destructor does not run for a half-built object.
    SslCtxPtr guard(SSL_CTX_new(TLS_client_method()));
    SSL_CTX* ctx = guard.get();
    if (ctx == nullptr)
        throw std::runtime_error("TLS: " + openssl_error_text());
    // The handshake always completes; verification is recorded (SSL_get_verify_result) and
    // judged by the engine, so that a bad certificate becomes a finding, not a dead end.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, record_verify_error);
    SSL_CTX_set_cert_cb(ctx, record_certificate_request, nullptr);
    load_client_certificate(ctx, options.client_certificate);
    if (int v = parse_tls_version(options.min_version); v != 0)
        SSL_CTX_set_min_proto_version(ctx, v);
    if (int v = parse_tls_version(options.max_version); v != 0)
        SSL_CTX_set_max_proto_version(ctx, v);
    if (options.legacy) {
        // SSL_CTX_set_security_level(3), OpenSSL 3.0: from level 1 on, SHA-1 and MD5 signatures
        // are refused, and TLS 1.0/1.1 sign their handshakes with MD5-SHA1 or SHA-1, so only
        // level 0 can ask a server whether it still accepts them.
        SSL_CTX_set_security_level(ctx, 0);
        if (SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0") != 1)
            ERR_clear_error();
    }
    // The trust store is shared by every context of the process (net/tls_trust_store.hpp):
    // reading the system bundle costs more CPU than a whole probe otherwise does.
    if (X509_STORE* store = static_cast<X509_STORE*>(acquire_trust_store(options)))
        SSL_CTX_set_cert_store(ctx, store); // takes over the reference
    ctx_ = guard.release();
}

TlsClientContext::~TlsClientContext() {
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

std::string TlsClientContext::local_problem() const {
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
    if (ssl == nullptr)
        return "SSL_new failed: " + openssl_error_text();
    // SSL_get1_supported_ciphers(3): the ciphers a ClientHello would offer, given the enabled
    // protocol versions and security level; none means no handshake can even start.
    STACK_OF(SSL_CIPHER)* ciphers = SSL_get1_supported_ciphers(ssl);
    bool const none = ciphers == nullptr || sk_SSL_CIPHER_num(ciphers) == 0;
    sk_SSL_CIPHER_free(ciphers);
    SSL_free(ssl);
    ERR_clear_error();
    if (!none)
        return {};
    std::string range = options_.min_version.empty() ? "any" : options_.min_version;
    if (options_.max_version != options_.min_version)
        range += " to " + (options_.max_version.empty() ? "any" : options_.max_version);
    return "the local OpenSSL (" + std::string(OpenSSL_version(OPENSSL_VERSION)) +
           ") offers no cipher for TLS " + range;
}

void prepare_client_ssl(void* native, TlsConnectOptions const& options) {
    SSL* ssl = static_cast<SSL*>(native);
    SSL_set_ex_data(ssl, verify_log_index(), new VerifyLog);
    if (!options.sni.empty())
        SSL_set_tlsext_host_name(ssl, options.sni.c_str());
}

std::optional<std::string> verified_client_subject(void* native) {
    SSL* ssl = static_cast<SSL*>(native);
    X509 const* peer = SSL_get0_peer_certificate(ssl);
    if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK)
        return std::nullopt;
    return name_text(X509_get_subject_name(peer));
}

TlsInfo describe_tls(void* native, TlsConnectOptions const& options) {
    SSL* ssl = static_cast<SSL*>(native);
    TlsInfo info;
    info.established = true;
    info.version = SSL_get_version(ssl);
    if (SSL_CIPHER const* cipher = SSL_get_current_cipher(ssl))
        info.cipher = SSL_CIPHER_get_name(cipher);
    int const group = static_cast<int>(SSL_get_negotiated_group(ssl));
    if (group != 0 && group != NID_undef) {
        char const* name = SSL_group_to_name(ssl, group);
        info.group = name != nullptr ? name : OBJ_nid2sn(group & ~TLSEXT_nid_unknown);
    }
    info.resumed = SSL_session_reused(ssl) == 1;
    info.sni = options.sni;
    info.verification_skipped = options.context != nullptr && options.context->options().insecure;
    info.verify_code = SSL_get_verify_result(ssl);
    if (VerifyLog const* log =
            static_cast<VerifyLog const*>(SSL_get_ex_data(ssl, verify_log_index()));
        log != nullptr && !log->issues.empty()) {
        info.verify_issues = log->issues;
        info.verify_code = log->issues.front().code;
        info.verify_depth = log->issues.front().depth;
    }
    info.chain_verified = info.verify_code == X509_V_OK;
    if (!info.chain_verified)
        info.verify_error = X509_verify_cert_error_string(info.verify_code);
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
    for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i)
        info.chain.push_back(describe_certificate(sk_X509_value(chain, i)));
    if (VerifyLog const* log =
            static_cast<VerifyLog const*>(SSL_get_ex_data(ssl, verify_log_index()));
        log != nullptr && log->certificate_requested) {
        info.client_certificate_requested = true;
        // SSL_get0_peer_CA_list(3): the names of the server's CertificateRequest.
        STACK_OF(X509_NAME) const* names = SSL_get0_peer_CA_list(ssl);
        for (int i = 0; names != nullptr && i < sk_X509_NAME_num(names) && i < 16; ++i)
            info.client_certificate_authorities.push_back(name_text(sk_X509_NAME_value(names, i)));
        if (X509* mine = SSL_get_certificate(ssl))
            info.client_certificate = describe_certificate(mine);
    }
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr) {
        info.chain_verified = false;
        info.verify_error = "the server sent no certificate";
    } else if (!options.verify_name.empty()) {
        info.host_checked = true;
        info.verify_name = options.verify_name;
        // RFC 6125 host check, done apart from the chain so the report can tell them apart.
        if (is_ip_literal(options.verify_name))
            info.host_verified = X509_check_ip_asc(leaf, options.verify_name.c_str(), 0) == 1;
        else
            info.host_verified =
                X509_check_host(leaf, options.verify_name.c_str(), 0,
                                X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    }
    return info;
}

TlsChannelBindings channel_bindings(void* native) {
    SSL* ssl = static_cast<SSL*>(native);
    TlsChannelBindings bindings;
    if (ssl == nullptr || !SSL_is_init_finished(ssl)) {
        return bindings;
    }
    // RFC 5929 §3.1: the first Finished message of the latest handshake: the client's after a
    // full handshake, the server's after a resumption. RFC 9266 §3: undefined for TLS 1.3.
    if (SSL_version(ssl) < TLS1_3_VERSION) {
        unsigned char finished[EVP_MAX_MD_SIZE];
        bool const own_first = (SSL_is_server(ssl) != 0) == (SSL_session_reused(ssl) != 0);
        std::size_t const size = own_first ? SSL_get_finished(ssl, finished, sizeof finished)
                                           : SSL_get_peer_finished(ssl, finished, sizeof finished);
        if (size > 0 && size <= sizeof finished) {
            bindings.tls_unique.assign(reinterpret_cast<char const*>(finished), size);
        }
    }
    static constexpr char label[] = "EXPORTER-Channel-Binding";
    unsigned char exported[32];
    if (SSL_export_keying_material(ssl, exported, sizeof exported, label, sizeof label - 1, nullptr,
                                   0, 0) == 1) {
        bindings.tls_exporter.assign(reinterpret_cast<char const*>(exported), sizeof exported);
    }
    return bindings;
}

} // namespace smtpprobe::net
