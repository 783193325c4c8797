#include "net/tls_trust_store.hpp"

#include "net/openssl_ptr.hpp"
#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace smtpprobe::net {

namespace {

/// Who a file or directory is and which version of it, without reading it.
struct FileStamp {
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    long long modified_ns = 0;
    long long changed_ns = 0;

    bool operator==(FileStamp const&) const = default;
};

long long nanoseconds(timespec const& t) {
    return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_nsec;
}

/// stat() follows symlinks, so a symlink swapped to a new target (a Kubernetes secret
/// volume) is a new inode; a directory's times change when an entry is added or removed.
FileStamp stamp_of(std::string const& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0)
        return {};
    return {
        true, st.st_dev, st.st_ino, st.st_size, nanoseconds(st.st_mtim), nanoseconds(st.st_ctim)};
}

/// Where a store comes from: the cache key.
struct TrustSource {
    std::string ca_file;
    std::string ca_path;
    std::string ca_pem;
    bool system = false;
    std::string system_file; ///< as OpenSSL resolves it now (SSL_CERT_FILE or the default)
    std::string system_dir;  ///< likewise (SSL_CERT_DIR, a ':'-separated list, or the default)

    auto operator<=>(TrustSource const&) const = default;

    /// The files and directories whose identity decides whether the store is current.
    std::vector<std::string> watched() const {
        std::vector<std::string> out{ca_file, ca_path};
        if (system) {
            out.push_back(system_file);
            std::string::size_type start = 0;
            while (start <= system_dir.size()) {
                std::string::size_type const end = system_dir.find(':', start);
                out.push_back(system_dir.substr(start, end - start));
                if (end == std::string::npos)
                    break;
                start = end + 1;
            }
        }
        return out;
    }
};

/// OpenSSL reads these through ossl_safe_getenv(), which ignores the environment in a
/// setuid program, as secure_getenv() does.
std::string system_location(char const* variable, char const* fallback) {
    char const* value = ::secure_getenv(variable);
    return value != nullptr ? value : fallback;
}

std::atomic<std::uint64_t> loads{0};

/// An OpenSSL subject-hash link: eight hex digits, a dot, a decimal suffix ("3513523f.0").
bool is_hash_link_name(std::string_view name) {
    if (name.size() < 10 || name[8] != '.')
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char const c = name[i];
        bool const ok = i < 8   ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                        : i > 8 ? c >= '0' && c <= '9'
                                : true;
        if (!ok)
            return false;
    }
    return true;
}

bool has_hash_links(std::string const& directory) {
    DIR* const dir = ::opendir(directory.c_str());
    if (dir == nullptr)
        return false;
    bool found = false;
    while (dirent const* entry = ::readdir(dir))
        if (is_hash_link_name(entry->d_name)) {
            found = true;
            break;
        }
    ::closedir(dir);
    return found;
}

/// The canonical path, or "" when it does not resolve.
std::string resolved(char const* path) {
    char buffer[PATH_MAX];
    return path != nullptr && ::realpath(path, buffer) != nullptr ? std::string(buffer)
                                                                  : std::string();
}

/// True when the system store is the distribution's default bundle and directory (named by
/// SSL_CERT_FILE / SSL_CERT_DIR or not), the bundle lives in that directory, and the directory
/// holds hash links: a distribution that keeps both from one list, as Debian's
/// update-ca-certificates does (/usr/lib/ssl/cert.pem is a link to
/// /etc/ssl/certs/ca-certificates.crt, and /etc/ssl/certs a hash link for each of its
/// certificates). The directory alone then trusts the same certificates, and a probe reads the
/// one or two its chains need instead of parsing about 144 (about 20 ms of CPU). Any other
/// bundle (a private SSL_CERT_FILE, Fedora's /etc/pki/tls/cert.pem outside a hashed
/// directory) is read the way OpenSSL reads it.
bool bundle_mirrors_hashed_directory(TrustSource const& source) {
    if (source.system_dir.find(':') != std::string::npos)
        return false;
    std::string const file = resolved(source.system_file.c_str());
    std::string const dir = resolved(source.system_dir.c_str());
    if (file.empty() || dir.empty() || file != resolved(X509_get_default_cert_file()) ||
        dir != resolved(X509_get_default_cert_dir()))
        return false;
    std::string const prefix = dir + "/";
    return file.starts_with(prefix) && file.find('/', prefix.size()) == std::string::npos &&
           has_hash_links(dir);
}

StorePtr read_store(TrustSource const& source) {
    ++loads;
    StorePtr store(X509_STORE_new());
    if (!store)
        throw std::runtime_error("TLS: " + openssl_error_text());
    if (!source.ca_file.empty() || !source.ca_path.empty()) {
        if (X509_STORE_load_locations(
                store.get(), source.ca_file.empty() ? nullptr : source.ca_file.c_str(),
                source.ca_path.empty() ? nullptr : source.ca_path.c_str()) != 1)
            throw std::runtime_error("cannot load CA certificates from " +
                                     (source.ca_file.empty() ? source.ca_path : source.ca_file) +
                                     ": " + openssl_error_text());
    }
    if (!source.ca_pem.empty()) {
        BioPtr bio(BIO_new_mem_buf(source.ca_pem.data(), static_cast<int>(source.ca_pem.size())));
        while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
            X509_STORE_add_cert(store.get(), cert);
            X509_free(cert);
        }
        ERR_clear_error();
    }
    if (source.system && bundle_mirrors_hashed_directory(source)) {
        // Only the hashed directory: OpenSSL reads the one certificate a chain needs, when it
        // needs it (and keeps it in the store), instead of parsing the whole bundle up front.
        X509_LOOKUP* const lookup = X509_STORE_add_lookup(store.get(), X509_LOOKUP_hash_dir());
        if (lookup == nullptr ||
            X509_LOOKUP_add_dir(lookup, source.system_dir.c_str(), X509_FILETYPE_PEM) != 1)
            ERR_clear_error();
        return store;
    }
    // The same calls SSL_CTX_set_default_verify_paths() makes on a context's own store:
    // the bundle file now, the hashed directory and the default OSSL_STORE looked up lazily.
    if (source.system && X509_STORE_set_default_paths(store.get()) != 1)
        ERR_clear_error(); // as before: a missing system store trusts nothing, it is no error
    return store;
}

/// Enough for the sources of a run and of an exporter's modules; past it, the store used
/// least recently is dropped (contexts holding it keep their reference).
constexpr std::size_t max_cached_stores = 16;

class TrustStoreCache {
public:
    StorePtr acquire(TrustSource const& source) {
        // One lock for reading too: concurrent first uses of a source read it once, and the
        // wait is the read the waiter would otherwise have done itself.
        std::lock_guard const lock(mutex_);
        std::vector<FileStamp> stamps;
        for (std::string const& path : source.watched())
            stamps.push_back(stamp_of(path));
        auto it = entries_.find(source);
        if (it == entries_.end() || it->second.stamps != stamps) {
            if (it != entries_.end())
                entries_.erase(it);
            // Stamped before reading: a file replaced while it is read leaves the older
            // stamp here, so the next call reads it again instead of keeping a stale store.
            StorePtr store = read_store(source);
            if (entries_.size() >= max_cached_stores)
                entries_.erase(least_recently_used());
            it = entries_.emplace(source, Entry{std::move(stamps), std::move(store), 0}).first;
        }
        it->second.last_used = ++clock_;
        X509_STORE_up_ref(it->second.store.get());
        return StorePtr(it->second.store.get());
    }

private:
    struct Entry {
        std::vector<FileStamp> stamps;
        StorePtr store;
        std::uint64_t last_used = 0;
    };

    std::map<TrustSource, Entry>::iterator least_recently_used() {
        auto oldest = entries_.begin();
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
            if (it->second.last_used < oldest->second.last_used)
                oldest = it;
        return oldest;
    }

    std::mutex mutex_;
    std::map<TrustSource, Entry> entries_;
    std::uint64_t clock_ = 0;
};

} // namespace

void* acquire_trust_store(TlsClientOptions const& options) {
    TrustSource source;
    source.ca_file = options.ca_file;
    source.ca_path = options.ca_path;
    source.ca_pem = options.ca_pem;
    bool const custom =
        !options.ca_file.empty() || !options.ca_path.empty() || !options.ca_pem.empty();
    source.system = !custom && options.use_system_store;
    if (!custom && !source.system)
        return nullptr;
    if (source.system) {
        source.system_file =
            system_location(X509_get_default_cert_file_env(), X509_get_default_cert_file());
        source.system_dir =
            system_location(X509_get_default_cert_dir_env(), X509_get_default_cert_dir());
    }
    // Leaked on purpose: contexts may still be freed while static objects are destroyed.
    static TrustStoreCache* const cache = new TrustStoreCache;
    return cache->acquire(source).release();
}

std::uint64_t trust_store_loads() noexcept {
    return loads.load();
}

} // namespace smtpprobe::net
