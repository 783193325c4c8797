#include "session/redactor.hpp"

#include "session/terminal_text.hpp"
#include "smtp/base64.hpp"

#include <algorithm>

namespace smtpprobe {

void Redactor::add(std::string value, std::string marker) {
    if (value.size() < 3)
        return;
    std::lock_guard lock(mutex_);
    if (std::any_of(entries_.begin(), entries_.end(),
                    [&](Entry const& e) { return e.value == value; }))
        return;
    entries_.push_back({std::move(value), std::move(marker)});
    // Longest first, so a secret that contains another is replaced whole.
    std::sort(entries_.begin(), entries_.end(),
              [](Entry const& a, Entry const& b) { return a.value.size() > b.value.size(); });
}

void Redactor::add_secret(std::string_view secret, std::string_view what) {
    if (secret.size() < 3)
        return; // too short to replace without mangling everything else
    add(std::string(secret), "<redacted " + std::string(what) + ">");
    // The forms a secret with control characters or backslashes takes once an output has
    // made it safe to show (session/terminal_text.hpp): outputs are redacted after that.
    add(terminal_safe(secret, false), "<redacted " + std::string(what) + ">");
    add(escape_controls(secret), "<redacted " + std::string(what) + ">");
    std::string const encoded = smtp::base64_encode(secret);
    add(encoded, "<redacted base64 " + std::string(what) + ">");
    // Inside a longer base64 blob (a SASL response) the secret starts at byte offset 0, 1 or 2
    // modulo 3, and only the groups lying wholly inside it encode the same way every time.
    for (std::size_t phase = 0; phase < 3; ++phase) {
        std::string padded(phase, '\0');
        padded += secret;
        std::string const shifted = smtp::base64_encode(padded);
        std::size_t const begin = phase == 0 ? 0 : 4;
        std::size_t const end = 4 * (padded.size() / 3);
        if (end >= begin + 8)
            add(shifted.substr(begin, end - begin), "<redacted base64 " + std::string(what) + ">");
    }
}

void Redactor::add_encoded(std::string_view encoded, std::string_view what) {
    add(std::string(encoded), "<redacted " + std::string(what) + ">");
}

std::string Redactor::redact(std::string_view text) const {
    std::lock_guard lock(mutex_);
    std::string out(text);
    for (Entry const& e : entries_) {
        std::size_t pos = 0;
        while ((pos = out.find(e.value, pos)) != std::string::npos) {
            out.replace(pos, e.value.size(), e.marker);
            pos += e.marker.size();
        }
    }
    return out;
}

std::string Redactor::redact_html(std::string_view page) const {
    std::lock_guard lock(mutex_);
    std::string out(page);
    for (Entry const& e : entries_) {
        std::string const value = html_escape(e.value);
        std::string const marker = html_escape(e.marker);
        std::size_t pos = 0;
        while ((pos = out.find(value, pos)) != std::string::npos) {
            out.replace(pos, value.size(), marker);
            pos += marker.size();
        }
    }
    return out;
}

bool Redactor::empty() const {
    std::lock_guard lock(mutex_);
    return entries_.empty();
}

} // namespace smtpprobe
