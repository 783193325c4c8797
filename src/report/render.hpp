#pragma once
// Renderers of the one report model. Callers pass the result through Redactor::redact()
// before printing it (belt and braces: no secret ever reaches the model either).

#include "report/report.hpp"

#include <string>

namespace smtpprobe {

/// The JSON document's schema version (README "JSON output"); bump on incompatible change.
inline constexpr int json_schema_version = 1;

struct TextOptions {
    bool color = false; ///< ANSI colours (stdout is a terminal and NO_COLOR is unset)
};

std::string render_text(Report const& report, TextOptions const& options = {});
/// Pretty-printed JSON, keys in a stable order, ending with a newline.
std::string render_json(Report const& report);

} // namespace smtpprobe
