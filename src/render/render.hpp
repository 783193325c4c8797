#pragma once
// Renderers of a report and its verdict. Callers pass the result through Redactor::redact()
// before printing it (belt and braces: no secret ever reaches the model either).

#include "diagnose/evaluate.hpp"
#include "report/report.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe {

/// The report formats. ndjson is the JSON document on one line (render/ndjson.hpp).
enum class Format { text, json, ndjson, nagios, html };
/// "text", "json", "ndjson", "nagios", "html" (render/html.hpp).
std::string_view to_string(Format format) noexcept;
std::optional<Format> parse_format(std::string_view text) noexcept;

/// The JSON document's schema version (README "JSON output"); bump on incompatible change.
inline constexpr int json_schema_version = 2;

struct TextOptions {
    bool color = false; ///< ANSI colours (stdout is a terminal and NO_COLOR is unset)
};

std::string render_text(Report const& report, Verdict const& verdict,
                        TextOptions const& options = {});
/// Pretty-printed JSON, keys in a stable order, ending with a newline.
std::string render_json(Report const& report, Verdict const& verdict);
/// "SMTPPROBE CRITICAL - ... | perfdata" and one line per check after it (Monitoring Plugins
/// guidelines: one status line, then perfdata).
std::string render_nagios(Report const& report, Verdict const& verdict);

/// The report in `format` (text with `options`; html without a transcript: ProbeResult adds
/// it). Not redacted: see request/run.hpp.
std::string render(Format format, Report const& report, Verdict const& verdict,
                   TextOptions const& options = {});

} // namespace smtpprobe
