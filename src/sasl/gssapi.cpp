// GSSAPI (RFC 4752), the client's steps: the security context's tokens until it is
// established, then the security-layer negotiation of §3.1. The context itself (Kerberos) is
// behind sasl::SecurityContext.

#include "sasl/gssapi.hpp"

#include "sasl/client_steps.hpp"

namespace smtpprobe::sasl {
namespace gssapi {

LayerOfferResult parse_layer_offer(std::string_view unwrapped) {
    LayerOfferResult r;
    // RFC 4752 §3.1: "the resulting cleartext [...] MUST be exactly 4 octets"; otherwise the
    // client fails the negotiation.
    if (unwrapped.size() != 4) {
        r.error = "the server's security-layer message has " + std::to_string(unwrapped.size()) +
                  " octets after unwrapping; RFC 4752 §3.1 says exactly 4";
        return r;
    }
    LayerOffer offer;
    offer.layers = static_cast<std::uint8_t>(unwrapped[0]);
    offer.max_size = static_cast<std::uint32_t>(static_cast<unsigned char>(unwrapped[1])) << 16 |
                     static_cast<std::uint32_t>(static_cast<unsigned char>(unwrapped[2])) << 8 |
                     static_cast<std::uint32_t>(static_cast<unsigned char>(unwrapped[3]));
    std::uint8_t const known = layer_none | layer_integrity | layer_confidentiality;
    if (offer.layers == 0) {
        r.error = "the server's security-layer message offers no security layer at all";
        return r;
    }
    if ((offer.layers & ~known) != 0) {
        r.error = "the server's security-layer message sets bits RFC 4752 §3.1 does not define";
        return r;
    }
    if ((offer.layers & layer_none) == 0) {
        // Integrity or confidentiality would wrap every later SMTP line; over TLS nothing
        // needs it, and this client does not implement it.
        r.error = "the server requires a GSSAPI security layer (integrity or confidentiality); "
                  "smtpprobe offers only \"no security layer\" (SMTP runs over TLS)";
        return r;
    }
    r.offer = offer;
    return r;
}

std::string layer_answer(std::string_view authzid) {
    // One octet for the layer chosen, three for the maximum size (0: no layer), then the
    // authorisation identity, not NUL-terminated.
    std::string out;
    out += static_cast<char>(layer_none);
    out += std::string(3, '\0');
    out += authzid;
    return out;
}

std::string service_name(std::string_view service, std::string_view host) {
    if (service.find('@') != std::string_view::npos)
        return std::string(service);
    return std::string(service.empty() ? std::string_view("smtp") : service) + "@" +
           std::string(host);
}

} // namespace gssapi

namespace detail {
namespace {

ClientStep gss_cancel(std::string const& what, GssResult const& result) {
    ClientStep step = cancel_with(what + ": " + result.error);
    step.gss_failure = result.failure;
    return step;
}

ClientStep start_context(Credentials const& credentials, ClientOptions const& options,
                         GssClientState& state) {
    if (!options.gss_context) {
        ClientStep step = cancel_with("no GSS-API library in this build");
        step.gss_failure = GssFailure::cannot_try;
        return step;
    }
    std::string const service = gssapi::service_name(
        options.gssapi_service.empty() ? options.service : options.gssapi_service, options.host);
    if (has_control(service)) {
        ClientStep step = cancel_with("the GSSAPI service name contains a control character");
        step.gss_failure = GssFailure::cannot_try;
        return step;
    }
    state.context =
        options.gss_context(GssRequest{credentials.user, credentials.password, service});
    if (!state.context) {
        ClientStep step = cancel_with("the security context could not be made");
        step.gss_failure = GssFailure::cannot_try;
        return step;
    }
    return {};
}

ClientStep security_layer(ClientOptions const& options, std::string_view challenge,
                          GssClientState& state) {
    GssResult unwrapped = state.context->unwrap(challenge);
    if (unwrapped.failure != GssFailure::none) {
        unwrapped.failure = GssFailure::server_token;
        return gss_cancel("the server's security-layer message does not unwrap", unwrapped);
    }
    gssapi::LayerOfferResult const offer = gssapi::parse_layer_offer(unwrapped.token);
    if (!offer.offer)
        return cancel_with(offer.error);
    if (has_control(options.authzid))
        return cancel_with("the authorisation identity contains a control character");
    GssResult const wrapped = state.context->wrap(gssapi::layer_answer(options.authzid));
    if (wrapped.failure != GssFailure::none)
        return gss_cancel("wrapping the security-layer answer failed", wrapped);
    return respond_with(wrapped.token);
}

} // namespace

ClientStep gssapi_step(Credentials const& credentials, ClientOptions const& options,
                       std::string_view challenge, GssClientState& state) {
    if (state.layer_answered)
        return cancel_with("server sent another challenge after the GSSAPI security layer");
    if (state.established) {
        ClientStep step = security_layer(options, challenge, state);
        state.layer_answered = step.kind == ClientStep::Kind::respond;
        return step;
    }
    bool const first = !state.context;
    if (first) {
        // RFC 4752 §3.1: the first challenge is empty; the client speaks first.
        if (!challenge.empty())
            return cancel_with("the server's first GSSAPI challenge is not empty");
        if (ClientStep failed = start_context(credentials, options, state);
            failed.kind == ClientStep::Kind::cancel)
            return failed;
    }
    GssResult result = state.context->initiate(challenge);
    if (result.failure != GssFailure::none) {
        if (first) {
            // Nothing was sent yet: the failure is the client's side (credentials, KDC,
            // service principal), and its words say which.
            ClientStep step = cancel_with(result.error);
            step.gss_failure = result.failure;
            return step;
        }
        // Past the first token, a failure is about what the server sent (its AP-REP).
        result.failure = GssFailure::server_token;
        return gss_cancel("the server's GSSAPI token does not verify", result);
    }
    // Mutual authentication is requested, so an established context means the server's
    // AP-REP proved it holds the service key.
    state.established = result.complete;
    state.server_verified = result.complete;
    // The last token may be empty (the context completed with the server's AP-REP): RFC 4752
    // §3.1 has the client answer with an empty response, then the server sends the layer message.
    return respond_with(std::move(result.token));
}

} // namespace detail
} // namespace smtpprobe::sasl
