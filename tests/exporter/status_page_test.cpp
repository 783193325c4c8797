// The status page at /: escaping, the recent probes and their links, the masked config.

#include "exporter/status_page.hpp"
#include "session/terminal_text.hpp"

#include "support/harness.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace smtpprobe::exporter;

TEST_CASE("the status page escapes what it shows and links the debug reports", "[exporter][page]") {
    CHECK(smtpprobe::html_escape("<a href='x'>&\"</a>") ==
          "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    ::setenv("SMTPPROBE_PAGE_PW", "pw-everything-1", 1);
    Config const config =
        parse_config("allow_targets: [\"*.example.com:587\"]\nmodules:\n  sub_mission:\n"
                     "    credentials:\n      user: <script>@example.com\n"
                     "      password_env: SMTPPROBE_PAGE_PW\n",
                     "page.yml");
    ::unsetenv("SMTPPROBE_PAGE_PW");
    ProbeRecord record;
    record.id = 7;
    record.when = std::chrono::system_clock::from_time_t(86400);
    record.target = "[2001:db8::1]:587";
    record.module = "sub_mission";
    record.result = "failure";
    record.seconds = 1.25;
    std::string const page = render_status_page(config, {record});
    smtpprobe::test::record_output("exporter-page.html", page);
    CHECK(page.find("<li>sub_mission</li>") != std::string::npos);
    CHECK(page.find("<td>[2001:db8::1]:587</td><td>sub_mission</td><td>failure</td><td>1.250</td>"
                    "<td>1970-01-02 00:00:00Z</td>") != std::string::npos);
    CHECK(page.find("<a href=\"/logs?id=7\">report</a>") != std::string::npos);
    CHECK(page.find("<a href=\"/logs?id=7&amp;format=html\">page</a>") != std::string::npos);
    CHECK(page.find("/probe?target=%5B2001%3Adb8%3A%3A1%5D%3A587&amp;module=sub_mission&amp;"
                    "debug=true") != std::string::npos);
    CHECK(page.find("*.example.com:587") != std::string::npos);
    CHECK(page.find("<script>") == std::string::npos);
    CHECK(page.find("pw-everything-1") == std::string::npos);
    CHECK(page.find("password_env: SMTPPROBE_PAGE_PW") != std::string::npos);
}

TEST_CASE("recent probes keep the last 32, newest first, with bounded reports",
          "[exporter][page]") {
    RecentProbes recent;
    for (int i = 0; i < 40; ++i) {
        ProbeRecord r;
        r.target = "t" + std::to_string(i);
        r.debug = std::string(i == 39 ? 300 * 1024 : 10, 'x');
        recent.add(std::move(r));
    }
    std::vector<ProbeRecord> const list = recent.list();
    REQUIRE(list.size() == RecentProbes::capacity);
    CHECK(list.front().target == "t39");
    CHECK(list.front().id == 40);
    CHECK(list.back().target == "t8");
    CHECK_FALSE(recent.debug(8)); // dropped
    REQUIRE(recent.debug(40));
    CHECK(recent.debug(40)->size() < RecentProbes::max_debug_bytes + 64);
    CHECK(recent.debug(40)->ends_with("[cut at 256 KiB]\n"));
}
