// The exporter in-process over real HTTP (cpp-httplib's client) against in-process emulators
// on 127.0.0.1: the endpoints, the allow-list, refusals, hostile targets, the concurrency
// limit, the scrape timeout and reloads. Every body is kept under test-outputs for the
// secret scan.

#include "exporter/server.hpp"

#include "exporter/exposition.hpp"
#include "support/client_certificate.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace smtpprobe;
using namespace smtpprobe::test;
using namespace std::chrono_literals;
using exporter::Server;
using Clock = std::chrono::steady_clock;

namespace {

/// A temporary directory with the emulators' CA bundle and config files.
struct Scratch {
    std::filesystem::path dir;
    Scratch() {
        char name[] = "/tmp/smtpprobe-exporter-test-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        dir = name;
    }
    ~Scratch() { std::filesystem::remove_all(dir); }
    std::string write(std::string const& file, std::string const& text) const {
        std::string const path = (dir / file).string();
        std::ofstream(path) << text;
        return path;
    }
};

/// Accepts connections and sends "220 " one byte every 300 ms, never finishing a line.
class DripFeed {
public:
    DripFeed() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~DripFeed() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    unsigned short port() const { return port_; }

private:
    void run() {
        std::vector<int> clients;
        auto const end = Clock::now() + 60s;
        while (!stop_ && Clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 300) == 1) {
                int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0)
                    clients.push_back(c);
            }
            for (int c : clients)
                (void)::send(c, "2", 1, MSG_NOSIGNAL);
        }
        for (int c : clients)
            ::close(c);
    }
    int fd_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// An emulator that accepts and then says nothing for ten minutes.
Emulated tarpit_server() {
    nlohmann::json profile =
        nlohmann::json::parse(std::ifstream(source_path("samples/servers/azure-acs.json")));
    profile["delays_ms"] = {{"banner", 600000}};
    return Emulated::inline_profile(profile);
}

std::string config_yaml(std::string const& ca, std::string const& extra_modules = {},
                        unsigned concurrent = 8, unsigned queued = 8) {
    return "max_concurrent_probes: " + std::to_string(concurrent) +
           "\nmax_queued_probes: " + std::to_string(queued) +
           "\nallow_targets: [\"127.0.0.1:*\"]\nmodules:\n"
           "  default:\n    ca_file: " +
           ca +
           "\n    timeout: 10s\n"
           "  slow:\n    ca_file: " +
           ca +
           "\n    timeout: 2s\n    connect_timeout: 1s\n"
           "    command_timeout: 2s\n" +
           extra_modules;
}

struct Fixture {
    Scratch scratch;
    Emulated acs = Emulated::sample("azure-acs");
    Emulated postfix = Emulated::sample("postfix-submission");
    std::string ca = scratch.write("ca.pem", acs.server().ca_pem() + postfix.server().ca_pem());
    std::vector<std::string> logs;
    std::mutex log_mutex;

    std::unique_ptr<Server> start(std::string const& yaml, std::string const& path = {}) {
        exporter::ServerOptions o;
        o.port = 0;
        o.config_path = path;
        o.log = [this](std::string_view line) {
            std::lock_guard lock(log_mutex);
            logs.emplace_back(line);
            record_output("exporter-log.txt", std::string(line));
        };
        auto s = std::make_unique<Server>(exporter::parse_config(yaml, "test.yml"), o);
        s->start();
        return s;
    }
};

httplib::Result get(Server const& s, std::string const& path, httplib::Headers headers = {}) {
    httplib::Client c("127.0.0.1", s.port());
    c.set_read_timeout(30s);
    httplib::Result r = c.Get(path.c_str(), headers);
    REQUIRE(r);
    record_output("exporter-http.txt", r->body);
    return r;
}

/// Polls /metrics (every 20 ms, at most 5 s) until `series` has `value`.
bool wait_for_gauge(Server const& s, std::string const& series, double value) {
    auto const end = Clock::now() + 5s;
    while (Clock::now() < end) {
        httplib::Client c("127.0.0.1", s.port());
        httplib::Result r = c.Get("/metrics");
        if (r && sample(r->body, series) == value)
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

std::string probe_path(unsigned short port, std::string const& module = {}) {
    return "/probe?target=127.0.0.1:" + std::to_string(port) +
           (module.empty() ? "" : "&module=" + module);
}

} // namespace

TEST_CASE("exporter: /probe of azure-acs, /metrics, / and /logs", "[exporter][server]") {
    Fixture f;
    auto s = f.start(config_yaml(f.ca));
    httplib::Result r = get(*s, probe_path(f.acs.server().port()));
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(sample(r->body, "smtpprobe_probe_success") == 1);
    CHECK(sample(r->body, "smtpprobe_auth_recognised{mechanism=\"PLAIN\"}") == 0);
    CHECK(sample(r->body, "smtpprobe_auth_recognised{mechanism=\"LOGIN\"}") == 1);

    r = get(*s, probe_path(f.postfix.server().port()) + "&debug=true");
    CHECK(r->status == 200);
    CHECK(r->body.find("--- transcript (redacted) ---") != std::string::npos);
    CHECK(r->body.find("AUTH PLAIN") != std::string::npos);

    r = get(*s, "/metrics");
    CHECK(r->status == 200);
    CHECK(sample(r->body,
                 "smtpprobe_exporter_probes_total{module=\"default\",result=\"success\"}") == 2);
    CHECK(sample(r->body, "smtpprobe_exporter_probe_duration_seconds_count{module=\"default\"}") ==
          2);
    CHECK(sample(r->body, "smtpprobe_exporter_probes_in_flight") == 0);
    CHECK(r->body.find("smtpprobe_build_info{") != std::string::npos);

    r = get(*s, "/");
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(r->body.find("<li>slow</li>") != std::string::npos);
    CHECK(r->body.find("127.0.0.1:" + std::to_string(f.acs.server().port())) != std::string::npos);
    CHECK(r->body.find("/logs?id=1") != std::string::npos);
    CHECK(r->get_header_value("Content-Security-Policy").find("default-src 'none'") == 0);
    CHECK(r->body.find("/logs?id=1&amp;format=html") != std::string::npos);
    r = get(*s, "/logs?id=1");
    CHECK(r->status == 200);
    CHECK(r->body.find("LOGIN") != std::string::npos);
    // The link of the status page: the probe's HTML report, under the page's CSP.
    r = get(*s, "/logs?id=1&format=html");
    CHECK(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(r->get_header_value("Content-Security-Policy").find("default-src 'none'") == 0);
    CHECK(r->body.find("<h2>AUTH mechanisms</h2>") != std::string::npos);
    CHECK(r->body.find("<script") == std::string::npos);
    CHECK(get(*s, "/logs?id=999")->status == 404);
    CHECK(get(*s, "/logs?id=999&format=html")->status == 404);
    CHECK(get(*s, "/-/healthy")->body == "Healthy\n");
}

TEST_CASE("exporter: refusals are 4xx with a reason, and counted", "[exporter][server]") {
    Fixture f;
    auto s = f.start(config_yaml(f.ca));
    struct Case {
        std::string path;
        int status;
        char const* body;
    };
    std::string const acs = std::to_string(f.acs.server().port());
    Case const cases[] = {
        {"/probe?target=192.0.2.1:25", 403, "target 192.0.2.1:25 is not in allow_targets\n"},
        {"/probe?target=localhost:" + acs, 403, "is not in allow_targets"},
        {"/probe?target=127.0.0.1:" + acs + "&module=nope", 400, "unknown module \"nope\""},
        {"/probe?target=127.0.0.1:" + acs + "&module=%0d%0a", 400, "unknown module\n"},
        {"/probe", 400, "give target once"},
        {"/probe?target=a&target=b", 400, "give target once"},
        {"/probe?target=bad_host:25", 400, "bad target: the target host is neither"},
        {"/probe?target=127.0.0.1:99999", 400, "bad target: the port"},
        {"/probe?target=127.0.0.1:" + acs + "&password=x", 400, "unknown URL parameter"},
        {"/probe?target=127.0.0.1:" + acs + "&debug=yes", 400, "debug is true or false"},
        {"/probe?target=" + std::string(3000, 'a'), 414, "longer than 2048"},
        {"/nothing", 404, ""},
    };
    for (Case const& c : cases) {
        INFO(c.path.substr(0, 100));
        httplib::Result r = get(*s, c.path);
        CHECK(r->status == c.status);
        CHECK(r->body.find(c.body) != std::string::npos);
    }
    httplib::Headers many;
    for (int i = 0; i < 70; ++i)
        many.emplace("X-Filler-" + std::to_string(i), "x");
    CHECK(get(*s, "/metrics", many)->status == 431);
    CHECK(get(*s, probe_path(f.acs.server().port()),
              {{"X-Prometheus-Scrape-Timeout-Seconds", "soon"}})
              ->status == 400);
    // httplib counts a request in its logger, which runs after the response is written: the
    // last refusal's count may land a moment after its reply. Read until it has (at most 2 s).
    std::string m;
    for (int i = 0; i < 100; ++i) {
        m = get(*s, "/metrics")->body;
        if (sample(m, "smtpprobe_exporter_http_requests_total{code=\"400\",handler=\"probe\"}") >=
            9)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(sample(m, "smtpprobe_exporter_http_requests_total{code=\"403\",handler=\"probe\"}") == 2);
    CHECK(sample(m, "smtpprobe_exporter_http_requests_total{code=\"400\",handler=\"probe\"}") == 9);
    CHECK(sample(m, "smtpprobe_exporter_http_requests_total{code=\"414\",handler=\"probe\"}") == 1);
    CHECK(sample(m, "smtpprobe_exporter_http_requests_total{code=\"404\",handler=\"other\"}") == 1);
    CHECK(sample(m, "smtpprobe_exporter_http_requests_total{code=\"431\",handler=\"metrics\"}") ==
          1);
    // Nothing outside the allow-list was connected to, and no probe ran.
    CHECK(m.find("smtpprobe_exporter_probes_total{") == std::string::npos);
    CHECK(f.acs.server().connections_accepted() == 0);
    std::lock_guard lock(f.log_mutex);
    REQUIRE_FALSE(f.logs.empty());
    CHECK(f.logs.front().starts_with("403 /probe: target 192.0.2.1:25"));
}

TEST_CASE("exporter: credentials by reference authenticate and appear in no output",
          "[exporter][server]") {
    Fixture f;
    std::string const pw = f.scratch.write("pw", "postfix-test-password-not-real\n");
    ::setenv("SMTPPROBE_TEST_USER_PASSWORD", "postfix-test-password-not-real", 1);
    auto s = f.start(config_yaml(f.ca, "  login:\n    ca_file: " + f.ca +
                                           "\n    credentials:\n      user: alice@example.test\n"
                                           "      password_file: " +
                                           pw + "\n  login_env:\n    ca_file: " + f.ca +
                                           "\n    mechanisms: [PLAIN]\n    credentials:\n"
                                           "      user: alice@example.test\n"
                                           "      password_env: SMTPPROBE_TEST_USER_PASSWORD\n"));
    std::string all;
    for (std::string const module : {"login", "login_env"}) {
        httplib::Result r = get(*s, probe_path(f.postfix.server().port(), module));
        CHECK(sample(r->body, "smtpprobe_probe_success") == 1);
        CHECK(sample(r->body, "smtpprobe_auth_authenticated{mechanism=\"PLAIN\"}") == 1);
        all += r->body;
        all += get(*s, probe_path(f.postfix.server().port(), module) + "&debug=true")->body;
    }
    all += get(*s, "/")->body + get(*s, "/logs?id=1")->body + get(*s, "/logs?id=2")->body;
    all += get(*s, "/logs?id=1&format=html")->body + get(*s, "/logs?id=2&format=html")->body;
    ::unsetenv("SMTPPROBE_TEST_USER_PASSWORD");
    CHECK(all.find("postfix-test-password-not-real") == std::string::npos);
    CHECK(all.find("alice") == std::string::npos);
    CHECK(all.find("&lt;hidden, 18 characters&gt;") != std::string::npos); // the status page
    // The secret's base64 (the PLAIN response) neither.
    CHECK(all.find("cG9zdGZpeC10ZXN0LXBhc3N3b3JkLW5vdC1yZWFs") == std::string::npos);
}

TEST_CASE("exporter: a module's client certificate and key passphrase reach the probe "
          "(EXTERNAL authenticates) and appear in no output",
          "[exporter][server][external]") {
    Fixture f;
    Emulated server = Emulated::inline_profile(client_certificate_profile());
    ClientFiles files(*server.server().client_pki());
    std::string const ca = f.scratch.write("external-ca.pem", server.server().ca_pem());
    ::setenv("SMTPPROBE_TEST_KEY_PASSPHRASE", client_key_passphrase, 1);
    auto s =
        f.start(config_yaml(f.ca, "  external:\n    ca_file: " + ca + "\n    cert: " + files.cert +
                                      "\n    key: " + files.encrypted_key +
                                      "\n    key_passphrase_env: "
                                      "SMTPPROBE_TEST_KEY_PASSPHRASE\n"
                                      "    mechanisms: [EXTERNAL]\n"));
    httplib::Result r = get(*s, probe_path(server.server().port(), "external"));
    ::unsetenv("SMTPPROBE_TEST_KEY_PASSPHRASE");
    CHECK(sample(r->body, "smtpprobe_probe_success") == 1);
    CHECK(sample(r->body, "smtpprobe_auth_authenticated{mechanism=\"EXTERNAL\"}") == 1);
    std::string const all = r->body + get(*s, "/")->body + get(*s, "/logs?id=1")->body;
    CHECK(all.find(client_key_passphrase) == std::string::npos);
}

TEST_CASE("exporter: tarpit and drip-feed targets block neither the server nor other probes",
          "[exporter][server]") {
    Fixture f;
    Emulated tarpit = tarpit_server();
    DripFeed drip;
    auto s = f.start(config_yaml(f.ca));
    auto const slow_probe = [&](unsigned short port) {
        return std::async(std::launch::async, [&s, port] {
            auto const t0 = Clock::now();
            std::string body = get(*s, probe_path(port, "slow"))->body;
            return std::pair{body, Clock::now() - t0};
        });
    };
    std::vector<std::future<std::pair<std::string, Clock::duration>>> slow;
    for (int i = 0; i < 3; ++i) {
        slow.push_back(slow_probe(tarpit.server().port()));
        slow.push_back(slow_probe(drip.port()));
    }
    REQUIRE(wait_for_gauge(*s, "smtpprobe_exporter_probes_in_flight", 6));
    auto t0 = Clock::now();
    std::string const m = get(*s, "/metrics")->body;
    CHECK(Clock::now() - t0 < 500ms);
    CHECK(sample(m, "smtpprobe_exporter_probes_in_flight") == 6);
    t0 = Clock::now();
    CHECK(get(*s, "/-/healthy")->status == 200);
    CHECK(Clock::now() - t0 < 500ms);
    // A good target is probed meanwhile, in about the usual time.
    t0 = Clock::now();
    CHECK(sample(get(*s, probe_path(f.acs.server().port()))->body, "smtpprobe_probe_success") == 1);
    CHECK(Clock::now() - t0 < 2s);
    for (auto& fut : slow) {
        auto [body, took] = fut.get();
        CHECK(sample(body, "smtpprobe_probe_success") == 0);
        CHECK(took < 3500ms); // the module's 2 s timeout, plus slack
    }
}

TEST_CASE("exporter: past max_concurrent_probes a probe waits, then is refused with a reason",
          "[exporter][server]") {
    Fixture f;
    Emulated tarpit = tarpit_server();
    auto s = f.start(config_yaml(f.ca, {}, 1, 1));
    auto busy = std::async(std::launch::async, [&] {
        return get(*s, probe_path(tarpit.server().port(), "slow"))->body;
    });
    REQUIRE(wait_for_gauge(*s, "smtpprobe_exporter_probes_in_flight", 1));
    // One waits for the slot (the queue holds one); it gets none within its 2 s budget.
    auto waiting = std::async(std::launch::async, [&] {
        return get(*s, probe_path(f.acs.server().port(), "slow"))->body;
    });
    REQUIRE(wait_for_gauge(*s, "smtpprobe_exporter_probes_waiting", 1));
    // The queue is full: answered at once.
    auto const t0 = Clock::now();
    std::string const refused = get(*s, probe_path(f.acs.server().port()))->body;
    CHECK(Clock::now() - t0 < 500ms);
    CHECK(sample(refused, "smtpprobe_probe_success") == 0);
    CHECK(refused.starts_with("# smtpprobe: not probed: concurrency limit: 1 probes running"));
    std::string const late = waiting.get();
    CHECK(sample(late, "smtpprobe_probe_success") == 0);
    CHECK(late.find("no slot within the deadline") != std::string::npos);
    busy.get();
    std::string const m = get(*s, "/metrics")->body;
    CHECK(sample(
              m,
              "smtpprobe_exporter_probes_total{module=\"default\",result=\"concurrency_limit\"}") ==
          1);
    CHECK(sample(m,
                 "smtpprobe_exporter_probes_total{module=\"slow\",result=\"concurrency_limit\"}") ==
          1);
    CHECK(sample(m, "smtpprobe_exporter_probes_total{module=\"slow\",result=\"failure\"}") == 1);
    // With the slot free again, probes run.
    CHECK(sample(get(*s, probe_path(f.acs.server().port()))->body, "smtpprobe_probe_success") == 1);
}

TEST_CASE("exporter: X-Prometheus-Scrape-Timeout-Seconds bounds the probe", "[exporter][server]") {
    Fixture f;
    Emulated tarpit = tarpit_server();
    auto s = f.start(config_yaml(f.ca)); // default: timeout 10 s, offset 0.5 s
    auto const t0 = Clock::now();
    httplib::Result r = get(*s, probe_path(tarpit.server().port()),
                            {{"X-Prometheus-Scrape-Timeout-Seconds", "1.5"}});
    auto const took = Clock::now() - t0;
    CHECK(sample(r->body, "smtpprobe_probe_success") == 0);
    CHECK(took > 800ms);
    CHECK(took < 1500ms); // 1.5 s minus the offset, within Prometheus' own timeout
}

TEST_CASE("exporter: a bad reload keeps the old configuration and is counted",
          "[exporter][server]") {
    Fixture f;
    std::string const path = f.scratch.write("exporter.yml", config_yaml(f.ca));
    auto s = f.start(config_yaml(f.ca), path);
    f.scratch.write("exporter.yml", "modules:\n  m:\n    tls: sometimes\n");
    std::string error;
    CHECK_FALSE(s->reload(error));
    CHECK(error.find("modules.m.tls") != std::string::npos);
    CHECK(s->config()->modules.count("slow") == 1);
    CHECK(sample(get(*s, probe_path(f.acs.server().port()))->body, "smtpprobe_probe_success") == 1);
    httplib::Client c("127.0.0.1", s->port());
    httplib::Result r = c.Post("/-/reload");
    REQUIRE(r);
    CHECK(r->status == 500);
    CHECK(get(*s, "/-/reload")->status == 405);
    std::string m = get(*s, "/metrics")->body;
    CHECK(sample(m, "smtpprobe_exporter_config_reload_failures_total") == 2);
    CHECK(sample(m, "smtpprobe_exporter_config_last_reload_successful") == 0);

    f.scratch.write("exporter.yml", config_yaml(f.ca, "  extra:\n    ca_file: " + f.ca + "\n"));
    r = c.Post("/-/reload");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(s->config()->modules.count("extra") == 1);
    m = get(*s, "/metrics")->body;
    CHECK(sample(m, "smtpprobe_exporter_config_reloads_total") == 3);
    CHECK(sample(m, "smtpprobe_exporter_config_last_reload_successful") == 1);
    CHECK(sample(get(*s, probe_path(f.acs.server().port(), "extra"))->body,
                 "smtpprobe_probe_success") == 1);
}

TEST_CASE("exporter: a module's proxy is used for its probes, the exporter's ALL_PROXY is not",
          "[exporter][server]") {
    Fixture f;
    std::string const dead = "socks5://127.0.0.1:" + std::to_string(closed_loopback_port());
    auto s = f.start(
        config_yaml(f.ca, "  proxied:\n    ca_file: " + f.ca + "\n    proxy: " + dead + "\n"));
    // The same request path as the command line: the proxy reaches probe() for this target.
    std::string const debug =
        get(*s, probe_path(f.acs.server().port(), "proxied") + "&debug=true")->body;
    CHECK(sample(debug, "smtpprobe_probe_success") == 0);
    CHECK(debug.find("proxy " + dead + ": connecting to the proxy") != std::string::npos);
    // A module without a proxy connects directly, whatever the exporter's environment says.
    ::setenv("ALL_PROXY", dead.c_str(), 1);
    httplib::Result direct = get(*s, probe_path(f.acs.server().port(), ""));
    ::unsetenv("ALL_PROXY");
    CHECK(sample(direct->body, "smtpprobe_probe_success") == 1);
}

TEST_CASE("exporter: a module's oauth_token_cmd runs at each scrape, the preflight's findings "
          "are metrics, and the token appears in no output",
          "[exporter][server][token]") {
    Fixture f;
    std::ifstream in(source_path("samples/tokens/m365-expired.jwt"));
    std::string token;
    std::getline(in, token);
    std::string const runs = (f.scratch.dir / "runs").string();
    // The command counts its runs, then prints the token (read from the sample file).
    std::string const command =
        "echo run >> " + runs + "; cat " + source_path("samples/tokens/m365-expired.jwt");
    auto s = f.start(config_yaml(f.ca, "  token:\n    ca_file: " + f.ca +
                                           "\n    credentials:\n      user: sender@contoso.test\n"
                                           "      oauth_token_cmd: \"" +
                                           command + "\"\n"));
    std::string all;
    for (int scrape = 0; scrape < 2; ++scrape) {
        httplib::Result r = get(*s, probe_path(f.postfix.server().port(), "token"));
        CHECK(sample(r->body, "smtpprobe_finding{id=\"oauth.token_expired\",severity=\"error\"}") ==
              1);
        all += r->body;
    }
    std::ifstream counted(runs);
    std::string line;
    int lines = 0;
    while (std::getline(counted, line))
        ++lines;
    CHECK(lines == 2);
    all += get(*s, probe_path(f.postfix.server().port(), "token") + "&debug=true")->body;
    all += get(*s, "/")->body + get(*s, "/logs?id=1")->body;
    CHECK(all.find("Token\n  Kind         JWT (RS256") != std::string::npos); // the debug report
    CHECK(all.find(token) == std::string::npos);
    CHECK(all.find(command) == std::string::npos); // the status page shows its length only
    CHECK(all.find("sender@contoso.test") == std::string::npos);

    // A command that fails: the probe is not run, and the reason names the status only.
    auto failing =
        f.start(config_yaml(f.ca, "  broken:\n    ca_file: " + f.ca +
                                      "\n    credentials:\n      user: u@example.test\n"
                                      "      oauth_token_cmd: \"echo leaked; exit 7\"\n"));
    httplib::Result r =
        get(*failing, probe_path(f.postfix.server().port(), "broken") + "&debug=true");
    CHECK(r->body.find("--oauth-token-cmd exited with status 7") != std::string::npos);
    CHECK(r->body.find("leaked") == std::string::npos);
}
