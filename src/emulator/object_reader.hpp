#pragma once
// Reading a profile's JSON object field by field, with errors that name the source and the
// field ("azure-acs.json: auth.accounts[0]: missing \"user\""). Used by profile.cpp.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::emulator {

/// Where a profile came from, for error messages.
class ProfileSource {
public:
    explicit ProfileSource(std::string_view source) : source_(source) {}

    /// Throws std::runtime_error "<source>: <path>: <message>".
    [[noreturn]] void fail(std::string const& path, std::string const& message) const;

private:
    std::string source_;
};

/// "parent.key", or "key" at the top.
std::string join_path(std::string const& parent, std::string_view key);

/// Reads one JSON object field by field and rejects the keys nobody asked for.
class ObjectReader {
public:
    using json = nlohmann::json;

    /// Fails unless `object` is a JSON object.
    ObjectReader(ProfileSource const& source, json const& object, std::string path);

    std::string const& path() const noexcept { return path_; }
    ProfileSource const& context() const noexcept { return context_; }

    /// The field, or null when absent; either way the key counts as known.
    json const* find(std::string_view key);

    std::optional<std::string> string(std::string_view key);

    std::optional<bool> boolean(std::string_view key);

    std::optional<long long> integer(std::string_view key, long long min, long long max);

    std::optional<std::vector<std::string>> strings(std::string_view key);

    /// A reply: a string (lines separated by "\n") or an array of lines.
    std::optional<std::string> reply(std::string_view key, bool allow_empty = false);

    std::string checked_reply(json const& value, std::string const& path,
                              bool allow_empty = false) const;

    std::vector<std::string> string_array(json const& value, std::string const& path) const;

    long long checked_integer(json const& value, std::string const& path, long long min,
                              long long max) const;

    /// Call after the last field: any key not asked for is an error ("_" keys are comments).
    void finish() const;

private:
    ProfileSource const& context_;
    json const& object_;
    std::string path_;
    std::vector<std::string> used_;
};

} // namespace smtpprobe::emulator
