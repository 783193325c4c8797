#pragma once
// The exporter's page at /: the modules, the last probes with links to their debug reports
// (/logs?id=N: the text report and transcript; /logs?id=N&format=html: the HTML report,
// render/html.hpp), and the configuration (which holds no secret; the user name is masked).

#include "exporter/config.hpp"
#include "exporter/recent_probes.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::exporter {

std::string render_status_page(Config const& config, std::vector<ProbeRecord> const& recent);

} // namespace smtpprobe::exporter
