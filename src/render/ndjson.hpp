#pragma once
// The JSON report on one line, for NDJSON (one report a line, as each target of a batch
// finishes): the same document as render_json() (render/render.hpp), same schema.

#include "diagnose/evaluate.hpp"
#include "report/report.hpp"

#include <string>

namespace smtpprobe {

/// One line, ending with a newline. Callers pass it through Redactor::redact().
std::string render_json_line(Report const& report, Verdict const& verdict);

} // namespace smtpprobe
