#include "exporter/recent_probes.hpp"

namespace smtpprobe::exporter {

std::uint64_t RecentProbes::add(ProbeRecord record) {
    if (record.debug.size() > max_debug_bytes) {
        record.debug.resize(max_debug_bytes);
        record.debug += "\n[cut at 256 KiB]\n";
    }
    if (record.html.size() > max_debug_bytes)
        record.html.clear();
    std::lock_guard lock(mutex_);
    record.id = next_id_++;
    records_.push_front(std::move(record));
    if (records_.size() > capacity)
        records_.pop_back();
    return records_.front().id;
}

std::vector<ProbeRecord> RecentProbes::list() const {
    std::lock_guard lock(mutex_);
    return {records_.begin(), records_.end()};
}

std::optional<std::string> RecentProbes::debug(std::uint64_t id) const {
    std::lock_guard lock(mutex_);
    for (ProbeRecord const& r : records_)
        if (r.id == id)
            return r.debug;
    return std::nullopt;
}

std::optional<std::string> RecentProbes::html(std::uint64_t id) const {
    std::lock_guard lock(mutex_);
    for (ProbeRecord const& r : records_)
        if (r.id == id && !r.html.empty())
            return r.html;
    return std::nullopt;
}

} // namespace smtpprobe::exporter
