// --version. The revision comes from a file CMake regenerates on every build but rewrites
// only when the revision changed (cmake/git_revision.cmake), so only this file's small
// neighbour recompiles after a commit.

#include "version.hpp"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

namespace smtpprobe {

extern char const* const built_git_revision;

std::string_view git_revision() {
    return built_git_revision;
}

std::string version_text() {
    std::string text = "smtpprobe " SMTPPROBE_VERSION "\n";
    text += "git revision: " + std::string(git_revision()) + "\n";
    // The library actually loaded, which may be newer than the headers it was built with.
    text += "OpenSSL: " + std::string(OpenSSL_version(OPENSSL_VERSION)) +
            " (built with " OPENSSL_VERSION_TEXT ")\n";
    text += "build type: " SMTPPROBE_BUILD_TYPE "\n";
    return text;
}

} // namespace smtpprobe
