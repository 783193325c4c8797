#pragma once
// What `smtpprobe --version` prints: the version, the git revision it was built from (when
// known at build time), the OpenSSL it runs with, and the build type.

#include <string>
#include <string_view>

namespace smtpprobe {

/// The git revision the binary was built from ("eba5f20", "eba5f20-dirty"), or "unknown"
/// when it was built outside a git checkout.
std::string_view git_revision();

/// The --version text, several lines, the first "smtpprobe <version>".
std::string version_text();

} // namespace smtpprobe
