// ANONYMOUS (RFC 4505), both sides: one message of trace information, no secret.

#include "sasl/client_steps.hpp"
#include "sasl/server_steps.hpp"

namespace smtpprobe::sasl::detail {
namespace {

/// RFC 4505 §2: message = [email / token], token = 1*255TCHAR (UTF-8 characters but '@').
/// An email (addr-spec) is bounded here by the same 255 characters; the syntax of the address
/// is not checked (the trace "should not be used ... for authentication", §3).
constexpr std::size_t max_trace_characters = 255;

bool valid_trace(std::string_view trace) noexcept {
    std::size_t characters = 0;
    for (char c : trace) {
        unsigned char const byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f)
            return false;
        if ((byte & 0xc0) != 0x80)
            ++characters;
    }
    return characters <= max_trace_characters;
}

} // namespace

ClientStep anonymous_step(ClientOptions const& options, int step) {
    if (step > 1)
        return cancel_with("server sent another challenge after the ANONYMOUS trace");
    if (!valid_trace(options.trace))
        return cancel_with("the ANONYMOUS trace must be at most 255 characters without control "
                           "characters (RFC 4505 §2)");
    return respond_public(options.trace);
}

ServerStep anonymous_respond(int step, std::string_view response) {
    if (step > 1)
        return failure();
    if (!valid_trace(response))
        return malformed();
    return success("anonymous");
}

} // namespace smtpprobe::sasl::detail
