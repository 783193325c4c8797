#pragma once
// The log of every line clients sent to one server, for Server::received().

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::emulator {

/// Thread-safe: every connection of a server adds to the same recorder.
class Recorder {
public:
    static constexpr std::size_t max_line = 1000; ///< longer lines are cut

    /// Adds "cN: LINE".
    void add(std::size_t connection, std::string_view line) {
        std::string entry = "c" + std::to_string(connection) + ": ";
        entry += line.substr(0, max_line);
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back(std::move(entry));
    }
    std::vector<std::string> lines() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

} // namespace smtpprobe::emulator
