#include "exporter/probe_limiter.hpp"

namespace smtpprobe::exporter {

ProbeLimiter::Slot::~Slot() {
    if (owner_ != nullptr)
        owner_->release();
}

void ProbeLimiter::set_limits(unsigned running, unsigned queued) {
    {
        std::lock_guard lock(mutex_);
        running_max_ = running;
        queued_max_ = queued;
    }
    free_.notify_all();
}

unsigned ProbeLimiter::running_max() const {
    std::lock_guard lock(mutex_);
    return running_max_;
}

unsigned ProbeLimiter::queued_max() const {
    std::lock_guard lock(mutex_);
    return queued_max_;
}

void ProbeLimiter::release() {
    {
        std::lock_guard lock(mutex_);
        --running_;
    }
    free_.notify_one();
}

} // namespace smtpprobe::exporter
