#pragma once
// RFC 4648 base64 with a strict decoder (RFC 4954 §4: non-alphabet characters are rejected,
// padding only at the end).

#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe::smtp {

std::string base64_encode(std::string_view bytes);
/// Strict decode: the canonical alphabet, length a multiple of 4, '=' only as final padding.
/// The empty string decodes to the empty string. Returns nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace smtpprobe::smtp
