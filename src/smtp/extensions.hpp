#pragma once
// The EHLO extensions that matter to a sender once AUTH works (issue 20 item 3): what each
// means, with its RFC, and the message's needs checked against what the server advertises
// (--size against SIZE, non-ASCII addresses against SMTPUTF8, 8-bit data against 8BITMIME,
// --requiretls against REQUIRETLS). Sans-I/O: functions over Capabilities.
// Sources: data/smtp-facts-additions.md §1.15.

#include "smtp/capabilities.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::smtp {

/// An extension a sender cares about.
struct SenderExtension {
    std::string_view keyword; ///< "SIZE", "8BITMIME", ...
    std::string_view rfc;     ///< "RFC 1870"
    std::string_view meaning; ///< what it means for a sender, in a sentence
};

/// SIZE, 8BITMIME, SMTPUTF8, PIPELINING, CHUNKING, DSN, REQUIRETLS, ENHANCEDSTATUSCODES, in
/// that order.
std::span<SenderExtension const> sender_extensions() noexcept;

/// What the message to be sent needs from the server.
struct MessageNeeds {
    std::optional<std::uint64_t> size;  ///< --size, or the size of the message; nullopt: unknown
    std::vector<std::string> addresses; ///< the envelope's sender and recipients
    bool eight_bit = false;             ///< the data holds octets above 127
    bool requiretls = false;            ///< --requiretls (RFC 8689)
};

/// One need the server's extensions do not meet.
struct ExtensionMismatch {
    std::string keyword; ///< the extension: "SIZE", "SMTPUTF8", "8BITMIME", "REQUIRETLS"
    std::string detail;  ///< what goes wrong, in a sentence
};

/// True when `text` holds an octet above 127 (UTF-8 or any other 8-bit data).
bool has_eight_bit(std::string_view text) noexcept;

/// The SIZE check alone: `size` bytes against the advertised limit. Empty when the message
/// fits, SIZE says "no fixed limit" (0) or gives no number, or SIZE is not advertised.
std::optional<ExtensionMismatch> check_size(Capabilities const& caps, std::uint64_t size);
/// Non-ASCII addresses without SMTPUTF8 (RFC 6531).
std::optional<ExtensionMismatch> check_smtputf8(Capabilities const& caps,
                                                std::vector<std::string> const& addresses);
/// 8-bit data without 8BITMIME (RFC 6152: it must be encoded to 7 bits first).
std::optional<ExtensionMismatch> check_8bitmime(Capabilities const& caps, bool eight_bit);
/// --requiretls without REQUIRETLS (RFC 8689).
std::optional<ExtensionMismatch> check_requiretls(Capabilities const& caps, bool requiretls);

/// Every check above that applies to `needs`, in that order.
std::vector<ExtensionMismatch> check_message(Capabilities const& caps, MessageNeeds const& needs);

} // namespace smtpprobe::smtp
