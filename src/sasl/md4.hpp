#pragma once
// Private to src/sasl: MD4 (RFC 1320), which NTLM's NT hash needs. OpenSSL 3 keeps MD4 in its
// legacy provider only, which a process must load on purpose and a distribution may leave out;
// the algorithm is small enough to carry here, checked against RFC 1320 §A.5.

#include <string>
#include <string_view>

namespace smtpprobe::sasl::detail {

/// MD4(data), 16 raw bytes.
std::string md4(std::string_view data);

} // namespace smtpprobe::sasl::detail
