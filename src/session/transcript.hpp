#pragma once
// What was said on every connection, in swaks' notation (ARCHITECTURE §7):
//   "===" info, "***" error, " ->" sent, "<- " received, " ~>" / "<~ " the same under TLS.
// Secrets never get here: sent lines are recorded from Command::shown.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe {

class Redactor;

struct TranscriptEvent {
    enum class Kind { info, error, sent, received };
    long ms = 0;     ///< milliseconds since the run started
    int session = 0; ///< connection number, 1-based
    Kind kind = Kind::info;
    bool tls = false;
    std::string text;
};

/// Thread-safe event log shared by every connection of a run.
class Transcript {
public:
    using Sink = std::function<void(TranscriptEvent const&)>;
    Transcript() : start_(std::chrono::steady_clock::now()) {}
    /// A transcript that keeps nothing: each event goes to `sink`, one at a time.
    explicit Transcript(Sink sink)
        : start_(std::chrono::steady_clock::now()), sink_(std::move(sink)) {}
    void add(int session, TranscriptEvent::Kind kind, bool tls, std::string_view text);
    /// Keeps an event recorded elsewhere (by another Transcript's sink).
    void append(TranscriptEvent event);
    std::vector<TranscriptEvent> events() const;
    /// The events grouped by connection, in swaks notation, each line prefixed with
    /// "[+MS ms] #N" when `timestamps`; passed through the redactor.
    std::string render(Redactor const& redactor, bool timestamps = true) const;

private:
    std::chrono::steady_clock::time_point start_;
    Sink sink_;
    mutable std::mutex mutex_;
    std::vector<TranscriptEvent> events_;
};

/// "<- ", " ->", "<~ ", " ~>", "===", "***" for an event.
std::string_view transcript_hint(TranscriptEvent::Kind kind, bool tls) noexcept;

} // namespace smtpprobe
