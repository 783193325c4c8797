#include "smtp/extensions.hpp"

#include <array>

namespace smtpprobe::smtp {
namespace {

constexpr std::array<SenderExtension, 8> extensions{{
    {"SIZE", "RFC 1870",
     "the largest message the server takes, in bytes (0: no fixed limit); a client that "
     "declares SIZE= in MAIL FROM gets 552 at once instead of after sending it all"},
    {"8BITMIME", "RFC 6152",
     "message bodies may hold 8-bit octets (MAIL FROM ... BODY=8BITMIME); without it, 8-bit "
     "text must be encoded (quoted-printable or base64) first"},
    {"SMTPUTF8", "RFC 6531",
     "UTF-8 in addresses and headers (MAIL FROM ... SMTPUTF8); without it a non-ASCII address "
     "cannot be used at all"},
    {"PIPELINING", "RFC 2920",
     "MAIL, RCPT and RSET may be sent in a group without waiting for each reply; fewer round "
     "trips (smtpprobe itself sends one command at a time)"},
    {"CHUNKING", "RFC 3030",
     "BDAT: the message goes in chunks of declared length instead of DATA, with no "
     "dot-stuffing"},
    {"DSN", "RFC 3461",
     "delivery status notifications on request: NOTIFY= and ORCPT= on RCPT, RET= and ENVID= "
     "on MAIL"},
    {"REQUIRETLS", "RFC 8689",
     "MAIL FROM ... REQUIRETLS: every hop must relay the message over verified TLS, or it "
     "bounces; only a server that advertises it can take the parameter"},
    {"ENHANCEDSTATUSCODES", "RFC 2034",
     "replies carry a class.subject.detail code (RFC 3463, e.g. 5.7.57) that says more than "
     "the three digits"},
}};

} // namespace

std::span<SenderExtension const> sender_extensions() noexcept {
    return extensions;
}

bool has_eight_bit(std::string_view text) noexcept {
    for (char c : text)
        if (static_cast<unsigned char>(c) > 127)
            return true;
    return false;
}

std::optional<ExtensionMismatch> check_size(Capabilities const& caps, std::uint64_t size) {
    if (!caps.has("SIZE") || !caps.size || *caps.size == 0 || size <= *caps.size)
        return std::nullopt;
    return ExtensionMismatch{"SIZE", "the message (" + std::to_string(size) +
                                         " bytes) is larger than the advertised SIZE " +
                                         std::to_string(*caps.size) +
                                         ": the server refuses it (552 5.3.4, RFC 1870)"};
}

std::optional<ExtensionMismatch> check_smtputf8(Capabilities const& caps,
                                                std::vector<std::string> const& addresses) {
    if (caps.has("SMTPUTF8"))
        return std::nullopt;
    for (std::string const& address : addresses)
        if (has_eight_bit(address))
            return ExtensionMismatch{"SMTPUTF8",
                                     "the address " + address +
                                         " is not ASCII and the server does not advertise "
                                         "SMTPUTF8 (RFC 6531): it cannot be used here"};
    return std::nullopt;
}

std::optional<ExtensionMismatch> check_8bitmime(Capabilities const& caps, bool eight_bit) {
    if (!eight_bit || caps.has("8BITMIME"))
        return std::nullopt;
    return ExtensionMismatch{"8BITMIME",
                             "the message holds 8-bit data and the server does not advertise "
                             "8BITMIME (RFC 6152): encode it (quoted-printable or base64) first"};
}

std::optional<ExtensionMismatch> check_requiretls(Capabilities const& caps, bool requiretls) {
    if (!requiretls || caps.has("REQUIRETLS"))
        return std::nullopt;
    return ExtensionMismatch{"REQUIRETLS",
                             "REQUIRETLS was asked for and the server does not advertise it "
                             "(RFC 8689): it cannot take the MAIL parameter, so a message that "
                             "requires TLS on every hop cannot go through it"};
}

std::vector<ExtensionMismatch> check_message(Capabilities const& caps, MessageNeeds const& needs) {
    std::vector<ExtensionMismatch> out;
    for (std::optional<ExtensionMismatch> m :
         {needs.size ? check_size(caps, *needs.size) : std::nullopt,
          check_smtputf8(caps, needs.addresses), check_8bitmime(caps, needs.eight_bit),
          check_requiretls(caps, needs.requiretls)})
        if (m)
            out.push_back(std::move(*m));
    return out;
}

} // namespace smtpprobe::smtp
