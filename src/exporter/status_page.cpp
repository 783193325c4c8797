#include "exporter/status_page.hpp"

#include "session/terminal_text.hpp" // html_escape()

#include <ctime>

namespace smtpprobe::exporter {
namespace {

std::string utc(std::chrono::system_clock::time_point when) {
    std::time_t const t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buffer;
}

std::string url_encode(std::string_view text) {
    static char const hex[] = "0123456789ABCDEF";
    std::string out;
    for (char const ch : text) {
        auto const c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

} // namespace

std::string render_status_page(Config const& config, std::vector<ProbeRecord> const& recent) {
    std::string page =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
        "<title>smtpprobe exporter</title></head>\n<body>\n"
        "<h1>smtpprobe exporter</h1>\n"
        "<p><a href=\"/metrics\">Metrics</a> &middot; <a href=\"/-/healthy\">Health</a></p>\n"
        "<h2>Modules</h2>\n<ul>\n";
    for (auto const& [name, module] : config.modules) {
        (void)module;
        page += "<li>" + html_escape(name) + "</li>\n";
    }
    page += "</ul>\n<h2>Recent probes</h2>\n<table border=\"1\">\n"
            "<tr><th>Target</th><th>Module</th><th>Result</th><th>Seconds</th><th>Time "
            "(UTC)</th><th>Debug</th></tr>\n";
    for (ProbeRecord const& r : recent) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.3f", r.seconds);
        page +=
            "<tr><td>" + html_escape(r.target) + "</td><td>" + html_escape(r.module) + "</td><td>" +
            html_escape(r.result) + "</td><td>" + seconds + "</td><td>" + utc(r.when) +
            "</td><td><a href=\"/logs?id=" + std::to_string(r.id) +
            "\">report</a> &middot; <a href=\"/logs?id=" + std::to_string(r.id) +
            "&amp;format=html\">page</a> &middot; <a href=\"/probe?target=" + url_encode(r.target) +
            "&amp;module=" + url_encode(r.module) + "&amp;debug=true\">probe again</a>" +
            "</td></tr>\n";
    }
    page += "</table>\n<h2>Configuration</h2>\n<pre>" + html_escape(describe_config(config)) +
            "</pre>\n</body>\n</html>\n";
    return page;
}

} // namespace smtpprobe::exporter
