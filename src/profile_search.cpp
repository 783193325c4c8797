#include "profile_search.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace smtpprobe {

namespace fs = std::filesystem;

namespace {

/// The directory of the running binary, from /proc/self/exe; empty if unknown.
fs::path executable_directory() {
    std::error_code ec;
    fs::path const exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

bool directory_exists(fs::path const& p) {
    std::error_code ec;
    return !p.empty() && fs::is_directory(p, ec);
}

bool same_directory(fs::path const& a, fs::path const& b) {
    std::error_code ec;
    return directory_exists(a) && directory_exists(b) && fs::equivalent(a, b, ec);
}

} // namespace

std::vector<fs::path> profile_directories() {
    std::vector<fs::path> candidates;
    if (char const* env = std::getenv("SMTPPROBE_PROFILE_DIR"); env != nullptr && *env != '\0')
        candidates.emplace_back(env);
    fs::path const bin = executable_directory();
    if (!bin.empty())
        candidates.push_back(bin.parent_path() / "share" / "smtpprobe" / "profiles");
    candidates.emplace_back(SMTPPROBE_PROFILE_DATADIR);
    if (same_directory(bin, SMTPPROBE_BUILD_DIR))
        candidates.emplace_back(SMTPPROBE_SOURCE_PROFILES);

    std::vector<fs::path> dirs;
    for (fs::path const& c : candidates) {
        if (!directory_exists(c))
            continue;
        bool const seen = std::any_of(dirs.begin(), dirs.end(),
                                      [&](fs::path const& d) { return same_directory(c, d); });
        if (!seen)
            dirs.push_back(c.lexically_normal());
    }
    return dirs;
}

fs::path resolve_profile(std::string const& name_or_path) {
    std::error_code ec;
    fs::path const given(name_or_path);
    if (name_or_path.find('/') != std::string::npos || given.extension() == ".json" ||
        fs::is_regular_file(given, ec))
        return given;
    std::vector<fs::path> const dirs = profile_directories();
    for (fs::path const& d : dirs) {
        fs::path const candidate = d / (name_or_path + ".json");
        if (fs::is_regular_file(candidate, ec))
            return candidate;
    }
    std::string searched;
    for (fs::path const& d : dirs)
        searched += (searched.empty() ? "" : ", ") + d.string();
    throw std::runtime_error("no profile named \"" + name_or_path + "\" (looked for " +
                             name_or_path + ".json in " +
                             (searched.empty() ? std::string("no existing directory") : searched) +
                             "; a file path works too)");
}

} // namespace smtpprobe
