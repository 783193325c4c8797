#pragma once
// GSSAPI (RFC 4752) as sasl::Client runs it: the security context it needs, and the
// security-layer message of RFC 4752 §3.1.
//
// Kerberos itself is not here. gss_init_sec_context may talk to a KDC, so the context is an
// interface: src/gss implements it over MIT GSS-API, the engine hands a factory in through
// ClientOptions, and the tests hand in a fake. This layer stays sans-I/O: it asks the context for
// tokens and checks what the server sends.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe::sasl {

/// What a failed GSS-API call means for the row.
enum class GssFailure {
    none,
    credentials_refused, ///< the KDC refused the user's credentials (wrong password, unknown user)
    cannot_try,          ///< no ticket, KDC unreachable, unknown service principal, clock skew...
    server_token,        ///< the server's token did not verify (a finding about the server)
};

/// The result of one GSS-API call.
struct GssResult {
    GssFailure failure = GssFailure::none;
    std::string token;     ///< the output token (raw bytes); a secret (the AP-REQ among them)
    bool complete = false; ///< initiate(): the context is established (GSS_S_COMPLETE)
    /// On failure: the GSS major and minor status text, e.g. "Unspecified GSS failure. Minor
    /// code may provide more information: Server not found in Kerberos database". No secret.
    std::string error;
};

/// A GSS-API initiator's security context (RFC 2743), one per exchange.
class SecurityContext {
public:
    virtual ~SecurityContext() = default;
    /// GSS_Init_sec_context: the first call gets an empty token; later ones the server's.
    virtual GssResult initiate(std::string_view server_token) = 0;
    /// GSS_Wrap without confidentiality (integrity only; RFC 4752 §3.1).
    virtual GssResult wrap(std::string_view message) = 0;
    /// GSS_Unwrap.
    virtual GssResult unwrap(std::string_view message) = 0;
};

/// What the factory needs to make a context: who (user, password: both may be empty, then the
/// caller's ticket cache is used) and for which service ("smtp@HOST", a GSS host-based service
/// name).
struct GssRequest {
    std::string user;
    std::string password;
    std::string service_name;
};

namespace gssapi {

/// RFC 4752 §3.1, the security layers of the first octet.
inline constexpr std::uint8_t layer_none = 0x01;
inline constexpr std::uint8_t layer_integrity = 0x02;
inline constexpr std::uint8_t layer_confidentiality = 0x04;

/// The server's unwrapped 4-octet message: the layers it offers and its maximum buffer size.
struct LayerOffer {
    std::uint8_t layers = 0;
    std::uint32_t max_size = 0;
};
struct LayerOfferResult {
    std::optional<LayerOffer> offer; ///< set exactly when error is empty
    std::string error;               ///< why it is refused, in words (never the server's bytes)
};
/// Checks the unwrapped message: exactly 4 octets, no unknown layer bit, "no security layer"
/// offered (SMTP runs over TLS, and this client implements no other layer).
LayerOfferResult parse_layer_offer(std::string_view unwrapped);

/// The client's answer before wrapping: 0x01 (no security layer), max size 0, then the
/// authorisation identity (RFC 4752 §3.1).
std::string layer_answer(std::string_view authzid);

/// `service` as --gssapi-service gives it ("SERVICE" or "SERVICE@HOST"; empty: "smtp") made a
/// host-based service name for `host`.
std::string service_name(std::string_view service, std::string_view host);

} // namespace gssapi
} // namespace smtpprobe::sasl
