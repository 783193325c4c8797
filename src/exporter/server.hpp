#pragma once
// The exporter's HTTP server (cpp-httplib): /probe, /metrics, /, /logs, /-/healthy and
// /-/reload. Each connection is served by one thread of a fixed pool, which suits probes
// that block in poll() and start worker threads of their own; the pool is larger than the
// probes that may run or wait at once (max_probe_slots), so /metrics and /-/healthy always
// find a thread however slow the targets are.

#include "exporter/config.hpp"
#include "exporter/exporter_metrics.hpp"
#include "exporter/probe_limiter.hpp"
#include "exporter/recent_probes.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace smtpprobe::exporter {

struct ServerOptions {
    std::string listen_host = "127.0.0.1";
    unsigned short port = 9125;                ///< 0: ephemeral, see Server::port()
    std::string config_path;                   ///< empty: no file, modules from default_config()
    std::vector<std::string> allow_targets;    ///< --allow-target, added to every loaded config
    std::string ca_file;                       ///< --ca-file: for modules without ca_file
    std::function<void(std::string_view)> log; ///< one line, no newline; default: stderr
};

/// HTTP worker threads: every probe that may run or wait, plus room for the other handlers.
inline constexpr unsigned http_threads = max_probe_slots + 16;

/// The probe's time budget: the module's timeout, capped by Prometheus' scrape timeout
/// header minus the module's offset (never below half the scrape timeout). nullopt when the
/// header is present but not a positive number of seconds.
std::optional<std::chrono::milliseconds> probe_budget(Module const& module,
                                                      std::string const* scrape_timeout_header);

class Server {
public:
    /// Adds the command line's allow rules to `config` and binds the listening socket.
    /// Throws ConfigError for a bad --allow-target, std::runtime_error when binding fails.
    Server(Config config, ServerOptions options);
    ~Server();
    Server(Server const&) = delete;
    Server& operator=(Server const&) = delete;

    /// Serves on a thread of its own until stop().
    void start();
    /// Stops accepting, finishes the requests in progress (probes end within their budget)
    /// and joins. Idempotent.
    void stop();
    unsigned short port() const noexcept { return port_; }

    /// Loads the config file again (SIGHUP, POST /-/reload). On error the old config stays,
    /// the error is logged and counted, and false is returned with the message in `error`.
    bool reload(std::string& error);

    std::shared_ptr<Config const> config() const;
    ExporterMetrics& metrics() noexcept { return metrics_; }

private:
    void routes();
    void handle_probe(httplib::Request const& req, httplib::Response& res);
    void handle_reload(httplib::Response& res);
    void refuse(httplib::Response& res, int status, std::string const& why,
                std::string const& log_detail = {});
    void log(std::string const& line) const;
    Config with_cli_rules(Config config) const;

    ServerOptions options_;
    mutable std::mutex config_mutex_;
    std::shared_ptr<Config const> config_;
    ProbeLimiter limiter_;
    ExporterMetrics metrics_;
    RecentProbes recent_;
    std::unique_ptr<httplib::Server> http_;
    unsigned short port_ = 0;
    std::thread thread_;
    std::mutex stop_mutex_;
    bool stopped_ = false;
};

} // namespace smtpprobe::exporter
