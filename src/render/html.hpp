#pragma once
// The HTML report (--format html, the bundle's report.html): one self-contained page, inline
// CSS and SVG, no script, a Content-Security-Policy that forbids scripts and fetches. Every
// server byte, file name and user string goes through html_escape() (session/terminal_text.hpp).
// Like every renderer, the result is not redacted: ProbeResult::rendered() redacts the finished
// page (Redactor::redact_html()).

#include "diagnose/evaluate.hpp"
#include "report/report.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe {

/// The page's Content-Security-Policy: nothing may load or run but the inline styles (and
/// data: images). Also the exporter's header for the pages it serves.
inline constexpr std::string_view html_content_security_policy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'";

/// One report as an <article> (no page around it), with its transcript (already redacted, or
/// empty when none was recorded) folded at the end. `id` is the article's anchor.
std::string render_html_article(Report const& report, Verdict const& verdict,
                                std::string_view transcript, std::string_view id = "report");

/// One report as a whole page.
std::string render_html(Report const& report, Verdict const& verdict,
                        std::string_view transcript = {});

/// A whole page around `body` (already HTML): head, CSP, styles.
std::string html_page(std::string_view title, std::string_view body);

/// Many targets: one summary row (a <tr>) per target, linking to its article below. Rendered
/// from one result, so that the result's redactor runs over it.
std::string html_summary_row(std::string_view target, std::string_view anchor, Report const& report,
                             Verdict const& verdict);
/// The batch page: the summary table of `rows`, then each article (all already HTML).
std::string render_html_batch(std::vector<std::string> const& rows,
                              std::vector<std::string> const& articles, std::size_t not_started);

} // namespace smtpprobe
