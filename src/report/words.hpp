#pragma once
// Small text helpers shared by the renderers and the diagnosis.

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe {

/// The items separated by `separator`.
inline std::string join(std::vector<std::string> const& items, std::string_view separator) {
    std::string out;
    for (std::string const& item : items) {
        if (!out.empty())
            out += separator;
        out += item;
    }
    return out;
}

/// "A", "A and B", "A, B and C".
inline std::string list_words(std::vector<std::string> const& items) {
    if (items.size() <= 1)
        return join(items, "");
    std::vector<std::string> head(items.begin(), items.end() - 1);
    return join(head, ", ") + " and " + items.back();
}

/// Milliseconds as seconds with six decimals: "0.412345" (nagios perfdata, the time check).
inline std::string seconds_text(double ms) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6f", ms / 1000.0);
    return buffer;
}

/// Seconds since the epoch as "2100-01-01 00:00:00 UTC"; the number itself when the date is
/// out of the calendar's range.
inline std::string utc_time(std::int64_t seconds) {
    std::tm tm{};
    auto const t = static_cast<std::time_t>(seconds);
    char buffer[40];
    if (seconds < -62'000'000'000 || seconds > 253'402'300'799 || ::gmtime_r(&t, &tm) == nullptr ||
        std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        return std::to_string(seconds) + " (seconds since 1970)";
    return buffer;
}

/// Seconds since the epoch as ISO 8601 UTC, "2100-01-01T00:00:00Z" (JSON); empty when out of
/// the calendar's range.
inline std::string iso8601_utc(std::int64_t seconds) {
    std::tm tm{};
    auto const t = static_cast<std::time_t>(seconds);
    char buffer[40];
    if (seconds < 0 || seconds > 253'402'300'799 || ::gmtime_r(&t, &tm) == nullptr ||
        std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return {};
    return buffer;
}

/// A time difference in words, to a precision that suits it: "in 3 h 12 min", "2 days ago",
/// "now". `delta` is the time minus now, in seconds.
inline std::string relative_time(std::int64_t delta) {
    bool const past = delta < 0;
    std::uint64_t const s =
        past ? 0 - static_cast<std::uint64_t>(delta) : static_cast<std::uint64_t>(delta);
    std::string amount;
    if (s == 0)
        return "now";
    if (s < 60)
        amount = std::to_string(s) + " s";
    else if (s < 3600)
        amount = std::to_string(s / 60) + " min";
    else if (s < 86400)
        amount = std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
    else if (s < 2 * 365 * 86400ULL)
        amount = std::to_string(s / 86400) + " days";
    else
        amount = std::to_string(s / (365 * 86400ULL)) + " years";
    return past ? amount + " ago" : "in " + amount;
}

} // namespace smtpprobe
