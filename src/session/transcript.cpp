#include "session/transcript.hpp"

#include "session/redactor.hpp"
#include "session/terminal_text.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe {
namespace {
constexpr std::size_t max_events = 100'000;
} // namespace

void Transcript::add(int session, TranscriptEvent::Kind kind, bool tls, std::string_view text) {
    long const ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - start_)
                                          .count());
    std::lock_guard lock(mutex_);
    if (sink_) {
        sink_(TranscriptEvent{ms, session, kind, tls, std::string(text)});
        return;
    }
    if (events_.size() >= max_events)
        return; // a bound on memory against a server that talks forever
    events_.push_back({ms, session, kind, tls, std::string(text)});
}

void Transcript::append(TranscriptEvent event) {
    std::lock_guard lock(mutex_);
    if (events_.size() < max_events)
        events_.push_back(std::move(event));
}

std::vector<TranscriptEvent> Transcript::events() const {
    std::lock_guard lock(mutex_);
    return events_;
}

std::string_view transcript_hint(TranscriptEvent::Kind kind, bool tls) noexcept {
    switch (kind) {
    case TranscriptEvent::Kind::info:
        return "===";
    case TranscriptEvent::Kind::error:
        return "***";
    case TranscriptEvent::Kind::sent:
        return tls ? " ~>" : " ->";
    case TranscriptEvent::Kind::received:
        return tls ? "<~ " : "<- ";
    }
    return "???";
}

std::string Transcript::render(Redactor const& redactor, bool timestamps) const {
    std::vector<TranscriptEvent> all = events();
    std::stable_sort(
        all.begin(), all.end(),
        [](TranscriptEvent const& a, TranscriptEvent const& b) { return a.session < b.session; });
    std::string out;
    int current = -1;
    for (TranscriptEvent const& e : all) {
        if (e.session != current) {
            current = e.session;
            out += "# connection " + std::to_string(current) + "\n";
        }
        if (timestamps) {
            char stamp[32];
            std::snprintf(stamp, sizeof stamp, "[%6ld ms] ", e.ms);
            out += stamp;
        }
        out += transcript_hint(e.kind, e.tls);
        out += ' ';
        out += terminal_safe(e.text, false); // a hostile server's ESC shows as \x1B
        out += '\n';
    }
    return redactor.redact(out);
}

} // namespace smtpprobe
