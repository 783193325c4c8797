#pragma once
// Private to src/sasl: ClientStep builders and the client steps that live outside client.cpp
// (DIGEST-MD5 in digest_md5.cpp, NTLM in ntlm_auth.cpp, ANONYMOUS in anonymous.cpp, EXTERNAL
// in external.cpp).

#include "sasl/sasl.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::sasl::detail {

inline ClientStep respond_with(std::string data) {
    return {ClientStep::Kind::respond, std::move(data), {}};
}
/// A response that carries nothing secret (ANONYMOUS's trace, NTLM's NEGOTIATE).
inline ClientStep respond_public(std::string data) {
    ClientStep step = respond_with(std::move(data));
    step.secret = false;
    return step;
}
inline ClientStep cancel_with(std::string error,
                              ClientStep::Problem problem = ClientStep::Problem::none) {
    ClientStep step{ClientStep::Kind::cancel, {}, std::move(error)};
    step.problem = problem;
    return step;
}

/// True when text holds an ASCII control character (C0 or DEL).
bool has_control(std::string_view text) noexcept;

/// Server-supplied text made fit for an error message: printable ASCII only, bounded, and
/// withheld entirely if it happens to contain one of the secrets (client.cpp).
std::string server_text(std::string_view text, Credentials const& credentials);

/// DIGEST-MD5 (RFC 2831) per challenge: 1 answers the digest-challenge, 2 checks rspauth.
struct DigestClientState {
    std::string& expected_rspauth; ///< hex, set by step 1
    bool& server_verified;
    std::vector<std::string>& derived_secrets;
};
ClientStep digest_md5_step(Credentials const& credentials, ClientOptions const& options, int step,
                           std::string_view challenge, DigestClientState& state);

/// NTLM (MS-NLMP, NTLMv2 only): 1 sends NEGOTIATE (the server's first 334 carries no data),
/// 2 answers the CHALLENGE with an AUTHENTICATE message.
ClientStep ntlm_step(Credentials const& credentials, ClientOptions const& options, int step,
                     std::string_view challenge, std::vector<std::string>& derived_secrets);

/// GSSAPI (RFC 4752): the context's tokens until it is established, then the security-layer
/// answer (§3.1). `context` is made at the first step through options.gss_context.
struct GssClientState {
    std::shared_ptr<SecurityContext>& context;
    bool& established;    ///< the context is complete: next comes the layer message
    bool& layer_answered; ///< the security-layer answer was sent
    bool& server_verified;
};
ClientStep gssapi_step(Credentials const& credentials, ClientOptions const& options,
                       std::string_view challenge, GssClientState& state);

/// ANONYMOUS (RFC 4505): the trace.
ClientStep anonymous_step(ClientOptions const& options, int step);

/// EXTERNAL (RFC 4422 Appendix A, external.cpp): the authzid, or an empty response.
ClientStep external_step(ClientOptions const& options, int step);

} // namespace smtpprobe::sasl::detail
