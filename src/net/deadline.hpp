#pragma once
// Absolute deadlines on the steady clock. Every wait in the program takes one (STYLE rule 8).

#include <algorithm>
#include <chrono>

namespace smtpprobe::net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline earliest(Deadline a, Deadline b) noexcept {
    return std::min(a, b);
}

inline Deadline after(std::chrono::milliseconds budget) noexcept {
    return Clock::now() + budget;
}

/// Milliseconds left, clamped to [0, INT_MAX] for poll().
inline int remaining_ms(Deadline deadline) noexcept {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0)
        return 0;
    return left.count() > 2'000'000'000 ? 2'000'000'000 : static_cast<int>(left.count());
}

} // namespace smtpprobe::net
