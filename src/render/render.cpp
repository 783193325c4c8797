#include "render/render.hpp"

#include "render/html.hpp"
#include "render/ndjson.hpp"

namespace smtpprobe {

std::string_view to_string(Format format) noexcept {
    switch (format) {
    case Format::text:
        return "text";
    case Format::json:
        return "json";
    case Format::ndjson:
        return "ndjson";
    case Format::nagios:
        return "nagios";
    case Format::html:
        return "html";
    }
    return "text";
}

std::optional<Format> parse_format(std::string_view text) noexcept {
    for (Format f : {Format::text, Format::json, Format::ndjson, Format::nagios, Format::html})
        if (text == to_string(f))
            return f;
    return std::nullopt;
}

std::string render(Format format, Report const& report, Verdict const& verdict,
                   TextOptions const& options) {
    switch (format) {
    case Format::json:
        return render_json(report, verdict);
    case Format::ndjson:
        return render_json_line(report, verdict);
    case Format::nagios:
        return render_nagios(report, verdict);
    case Format::html:
        return render_html(report, verdict);
    case Format::text:
        break;
    }
    return render_text(report, verdict, options);
}

} // namespace smtpprobe
