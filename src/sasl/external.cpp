// EXTERNAL (RFC 4422 Appendix A), both sides: the credential is established outside SASL (here
// the TLS client certificate); the one message is the authorisation identity, or empty to
// act as the identity the certificate establishes. Nothing secret is sent.

#include "sasl/client_steps.hpp"
#include "sasl/server_steps.hpp"

namespace smtpprobe::sasl::detail {

ClientStep external_step(ClientOptions const& options, int step) {
    if (step > 1)
        return cancel_with("server sent another challenge after the EXTERNAL message");
    // RFC 4422 Appendix A.1: message = [authz-id], UTF-8 without NUL.
    if (options.authzid.find('\0') != std::string::npos)
        return cancel_with("the EXTERNAL authorisation identity cannot carry a NUL byte");
    return respond_public(options.authzid);
}

ServerStep external_respond(ServerOptions const& options, int step, std::string_view response) {
    if (step > 1)
        return failure();
    if (response.find('\0') != std::string_view::npos)
        return malformed();
    // Without an identity established outside SASL (a verified client certificate), EXTERNAL
    // has nothing to go on.
    if (!options.external_identity)
        return failure();
    // An authorisation identity other than the certificate's own is not granted here.
    if (!response.empty() && response != *options.external_identity)
        return failure();
    return success(*options.external_identity);
}

} // namespace smtpprobe::sasl::detail
