#pragma once
// Where `--profile NAME` is looked for, so that `smtpprobe emulate --profile azure-acs` works
// once installed, from the build tree and from an unpacked package alike.

#include <filesystem>
#include <string>
#include <vector>

namespace smtpprobe {

/// The directories searched for NAME.json, in order: $SMTPPROBE_PROFILE_DIR, the install
/// tree relative to the running binary (<bin>/../share/smtpprobe/profiles), the compiled-in
/// data directory, and the source tree's samples/servers when the binary runs from the build
/// tree it was built in. Only existing directories, each once.
std::vector<std::filesystem::path> profile_directories();

/// A path as given (it names a file, or contains a '/', or ends in ".json") is returned
/// unchanged; otherwise NAME.json from the first directory that has it. Throws
/// std::runtime_error naming the directories searched when none has it.
std::filesystem::path resolve_profile(std::string const& name_or_path);

} // namespace smtpprobe
