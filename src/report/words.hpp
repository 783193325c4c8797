#pragma once
// Small text helpers shared by the renderers and the diagnosis.

#include <cstdio>
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

} // namespace smtpprobe
