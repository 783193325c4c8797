#pragma once
// Admission of probes: at most `running` at once, at most `queued` more waiting for a slot,
// each waiting no longer than its own deadline allows. Past that a probe is refused at once,
// so a burst of scrapes can neither start unbounded connections nor hold every HTTP worker.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace smtpprobe::exporter {

class ProbeLimiter {
public:
    using Clock = std::chrono::steady_clock;
    enum class Admission { granted, queue_full, timed_out };

    ProbeLimiter(unsigned running, unsigned queued) : running_max_(running), queued_max_(queued) {}
    /// New limits (after a reload); probes already admitted keep their slots.
    void set_limits(unsigned running, unsigned queued);

    /// A granted slot; releases it when destroyed.
    class Slot {
    public:
        Slot() = default;
        Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
        Slot& operator=(Slot&& other) noexcept {
            if (this != &other) {
                if (owner_ != nullptr)
                    owner_->release();
                owner_ = other.owner_;
                other.owner_ = nullptr;
            }
            return *this;
        }
        Slot(Slot const&) = delete;
        ~Slot();
        explicit operator bool() const noexcept { return owner_ != nullptr; }

    private:
        friend class ProbeLimiter;
        explicit Slot(ProbeLimiter* owner) : owner_(owner) {}
        ProbeLimiter* owner_ = nullptr;
    };

    /// Waits until a slot is free or `latest` passes. `on_wait` runs when the probe has to
    /// queue (for the waiting gauge), with +1 and then -1.
    template <typename OnWait>
    Admission acquire(Clock::time_point latest, Slot& slot, OnWait&& on_wait) {
        std::unique_lock lock(mutex_);
        if (running_ < running_max_) {
            ++running_;
            slot = Slot(this);
            return Admission::granted;
        }
        if (queued_ >= queued_max_)
            return Admission::queue_full;
        ++queued_;
        on_wait(+1);
        bool const got = free_.wait_until(lock, latest, [this] { return running_ < running_max_; });
        --queued_;
        on_wait(-1);
        if (!got)
            return Admission::timed_out;
        ++running_;
        slot = Slot(this);
        return Admission::granted;
    }

    unsigned running_max() const;
    unsigned queued_max() const;

private:
    void release();
    mutable std::mutex mutex_;
    std::condition_variable free_;
    unsigned running_max_, queued_max_;
    unsigned running_ = 0, queued_ = 0;
};

} // namespace smtpprobe::exporter
