#pragma once
// The trust stores of a process: each one read once and shared by every TLS client context.
// OpenSSL stays inside net/tls_trust_store.cpp.

#include <cstdint>
#include <string>

namespace smtpprobe::net {

struct TlsClientOptions;

/// A new reference (X509_STORE*, X509_STORE_up_ref) to the trust store `options` choose:
/// its ca_file and ca_path, its ca_pem, or the system store when none of them is given and
/// use_system_store is set; nullptr when there is nothing to trust. The caller owns the
/// reference (SSL_CTX_set_cert_store takes it over).
///
/// Reading Debian's bundle (about 144 certificates) costs about 20 ms of CPU. Where the
/// system's default bundle lives in its hashed directory and lists what the directory's hash
/// links do (Debian's update-ca-certificates), the system store is that directory alone, looked
/// up lazily: a probe reads the one or two certificates its chains need. Each store is
/// read once per process and then shared, read-only, by every context, probe, batch target,
/// address and exporter scrape; OpenSSL's X509_STORE locks its own lookups, so threads may
/// verify against it at once. A store is keyed by where it comes from (the option values, and
/// for the system store the file and directory OpenSSL resolves now, SSL_CERT_FILE and
/// SSL_CERT_DIR included) and remembers the identity of each file and directory it came from
/// (device, inode, size, modification and change time, taken with stat() before reading). A
/// later call whose stat() differs reads the source again, so a rotated CA file (replaced by
/// rename, rewritten in place, or a new symlink target) or an update-ca-certificates run is
/// picked up by the next context; contexts made before keep the store they have. Throws
/// std::runtime_error when the source cannot be read; failures are not cached. Thread-safe:
/// concurrent calls for the same source read it once.
void* acquire_trust_store(TlsClientOptions const& options);

/// How many times this process has read a trust store from its source, successful or not
/// (for tests and benchmarks: N probes over one source must read it once).
std::uint64_t trust_store_loads() noexcept;

} // namespace smtpprobe::net
