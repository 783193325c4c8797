#pragma once
// Transport failures: the property under test could not be observed (verdict "error").

#include <system_error>

namespace smtpprobe::net {

enum class errc {
    timeout = 1,          ///< a deadline passed
    closed_by_peer,       ///< EOF where a reply was expected
    connect_failed,       ///< no address accepted the connection
    resolve_failed,       ///< the name did not resolve
    tls_handshake_failed, ///< the TLS handshake did not complete
    tls_io_failed,        ///< TLS record layer error after the handshake
    interrupted,          ///< SIGINT
    proxy_failed,         ///< the proxy refused, failed or broke its handshake
};

std::error_category const& net_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), net_category()};
}

} // namespace smtpprobe::net

template <> struct std::is_error_code_enum<smtpprobe::net::errc> : std::true_type {};
