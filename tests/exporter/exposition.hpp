#pragma once
// Reading values back out of a text exposition, for the exporter tests.

#include <optional>
#include <sstream>
#include <string>

namespace smtpprobe::test {

/// The value of the sample whose name and labels are exactly `series`
/// (e.g. `smtpprobe_auth_recognised{mechanism="PLAIN"}`); nullopt when absent.
inline std::optional<double> sample(std::string const& exposition, std::string const& series) {
    std::istringstream in(exposition);
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ')
            return std::stod(line.substr(series.size() + 1));
    }
    return std::nullopt;
}

} // namespace smtpprobe::test
