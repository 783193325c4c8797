#pragma once
// The one ordered table of SASL mechanisms (ARCHITECTURE §3): what the AUTH matrix always
// probes, in report order, and what the client side here implements. probes/ and the engine
// read it; client.cpp and server.cpp answer client_implements() and uses_token() from it.

#include <span>
#include <string_view>

namespace smtpprobe::sasl {

/// What a real exchange with the mechanism needs from Credentials.
enum class Secret {
    password,    ///< user and password
    token,       ///< user and an OAuth 2.0 bearer token
    ticket,      ///< the caller's Kerberos ticket cache, or user and password to get a ticket
    none,        ///< nothing (ANONYMOUS)
    certificate, ///< a TLS client certificate (EXTERNAL): --cert/--key
};

struct Mechanism {
    std::string_view name;
    bool client_first;     ///< RFC 4422: the client speaks first (empty 334 expected)
    bool implemented;      ///< sasl::Client (and sasl::Server) can run it
    Secret secret;         ///< what a real exchange needs
    std::string_view spec; ///< where it is defined
};

/// The catalogue, in report order. Mechanisms a server advertises beyond it are appended.
std::span<Mechanism const> catalogue() noexcept;
/// The catalogue and the names recognised beyond it (PLAIN-CLIENTTOKEN, XOAUTH), which the
/// matrix probes only when a server advertises them.
std::span<Mechanism const> known_mechanisms() noexcept;
/// The entry for `name` (any case), or null: any of known_mechanisms().
Mechanism const* find_mechanism(std::string_view name) noexcept;

/// RFC 4422 §3.1: 1 to 20 characters of A-Z, 0-9, "-" and "_" (any case here: servers send
/// lower case too, and the name is upper-cased before use).
constexpr bool valid_mechanism_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 20)
        return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    return true;
}

} // namespace smtpprobe::sasl
