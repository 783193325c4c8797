#pragma once
// The last line of defence for secrets: every rendered output passes through redact(), which
// replaces each registered secret (password, token, the base64 of every SASL response, and
// the user name unless the user asked to see it) by a marker.

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe {

class Redactor {
public:
    /// Registers a secret and its base64 form. Empty strings and strings shorter than 3 bytes
    /// are ignored (they would match everywhere). Thread-safe.
    void add_secret(std::string_view secret, std::string_view what);
    /// Registers an already-encoded wire form (base64 of a SASL response).
    void add_encoded(std::string_view encoded, std::string_view what);
    /// Returns text with every registered secret replaced by "<redacted WHAT>".
    std::string redact(std::string_view text) const;
    /// The same for an HTML page, whose text is html_escape()d: each secret's forms as they
    /// appear there, replaced by the marker escaped ("&lt;redacted WHAT&gt;"), so that the
    /// marker stays text.
    std::string redact_html(std::string_view page) const;
    bool empty() const;

private:
    struct Entry {
        std::string value;
        std::string marker;
    };
    void add(std::string value, std::string marker);
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
};

} // namespace smtpprobe
