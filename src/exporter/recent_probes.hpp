#pragma once
// The last probes, for the status page and its /logs links (the blackbox exporter keeps the
// same). Bounded: 32 entries, each debug report cut at 256 KiB (an HTML page over 256 KiB is
// not kept: a cut page would not be one); every text in it was redacted
// before it got here. Thread-safe.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::exporter {

struct ProbeRecord {
    std::uint64_t id = 0;
    std::chrono::system_clock::time_point when;
    std::string target;
    std::string module;
    std::string result; ///< "success", "failure", "concurrency_limit"
    double seconds = 0;
    std::string debug; ///< redacted text report and transcript
    std::string html;  ///< the redacted HTML report (render/html.hpp); empty: none
};

class RecentProbes {
public:
    static constexpr std::size_t capacity = 32;
    static constexpr std::size_t max_debug_bytes = 256 * 1024;

    /// Stores a record and returns its id.
    std::uint64_t add(ProbeRecord record);
    /// Newest first.
    std::vector<ProbeRecord> list() const;
    std::optional<std::string> debug(std::uint64_t id) const;
    /// The probe's HTML report; nullopt when the probe is gone or has none.
    std::optional<std::string> html(std::uint64_t id) const;

private:
    mutable std::mutex mutex_;
    std::deque<ProbeRecord> records_;
    std::uint64_t next_id_ = 1;
};

} // namespace smtpprobe::exporter
