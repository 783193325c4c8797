#include "exporter/server.hpp"

#include "exporter/probe_adapter.hpp"
#include "exporter/probe_metrics.hpp"
#include "exporter/status_page.hpp"
#include "render/html.hpp"
#include "render/render.hpp"

#include <httplib.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>

namespace smtpprobe::exporter {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr char const* exposition_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::size_t max_request_target = 2048; // path and query
constexpr std::size_t max_headers = 64;

/// The fixed `handler` label of smtpprobe_exporter_http_requests_total.
char const* handler_name(std::string const& path) {
    if (path == "/probe")
        return "probe";
    if (path == "/metrics")
        return "metrics";
    if (path == "/")
        return "index";
    if (path == "/logs")
        return "logs";
    if (path == "/-/healthy")
        return "healthy";
    if (path == "/-/reload")
        return "reload";
    return "other";
}

/// A module name or parameter shown back only when it is harmless (it goes into a log line).
bool printable_name(std::string const& text) {
    return !text.empty() && text.size() <= 64 &&
           text.find_first_not_of(
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
               std::string::npos;
}

/// A probe refused for the concurrency limit: success 0, and the reason as a comment.
std::string refused_exposition(std::string const& reason, double seconds) {
    Report report;
    report.total_ms = seconds * 1000.0;
    std::string text = serialize(probe_families(report, Verdict{}, false));
    return "# smtpprobe: not probed: " + reason + "\n" + text;
}

} // namespace

std::optional<std::chrono::milliseconds> probe_budget(Module const& module,
                                                      std::string const* header) {
    std::chrono::milliseconds budget = module.request.options.total_timeout;
    if (header == nullptr || header->empty())
        return budget;
    double seconds = 0;
    char const* end = header->data() + header->size();
    std::from_chars_result const r = std::from_chars(header->data(), end, seconds);
    if (r.ec != std::errc() || r.ptr != end || !(seconds > 0) || std::isinf(seconds))
        return std::nullopt;
    auto const scrape =
        std::chrono::milliseconds(static_cast<long long>(std::min(seconds, 86400.0) * 1000.0));
    std::chrono::milliseconds const capped = std::max(scrape - module.timeout_offset, scrape / 2);
    return std::min(budget, capped);
}

Server::Server(Config config, ServerOptions options)
    : options_(std::move(options)),
      limiter_(config.max_concurrent_probes, config.max_queued_probes),
      http_(std::make_unique<httplib::Server>()) {
    config_ = std::make_shared<Config const>(with_cli_rules(std::move(config)));
    http_->new_task_queue = [] { return new httplib::ThreadPool(http_threads); };
    http_->set_read_timeout(5s);
    http_->set_write_timeout(5s);
    http_->set_keep_alive_timeout(5);
    http_->set_keep_alive_max_count(100);
    http_->set_payload_max_length(4096);
    routes();
    if (options_.port == 0) {
        int const port = http_->bind_to_any_port(options_.listen_host);
        if (port <= 0)
            throw std::runtime_error("cannot listen on " + options_.listen_host);
        port_ = static_cast<unsigned short>(port);
    } else {
        if (!http_->bind_to_port(options_.listen_host, options_.port))
            throw std::runtime_error("cannot listen on " + options_.listen_host + ":" +
                                     std::to_string(options_.port) +
                                     " (address in use, or not an address of this host)");
        port_ = options_.port;
    }
}

Server::~Server() {
    stop();
}

Config Server::with_cli_rules(Config config) const {
    for (std::string const& rule : options_.allow_targets) {
        std::string why;
        if (!config.allow_targets.add(rule, why))
            throw ConfigError("--allow-target " + why);
    }
    return config;
}

void Server::start() {
    thread_ = std::thread([this] { http_->listen_after_bind(); });
}

void Server::stop() {
    std::lock_guard lock(stop_mutex_);
    if (stopped_)
        return;
    stopped_ = true;
    http_->stop();
    if (thread_.joinable())
        thread_.join();
}

std::shared_ptr<Config const> Server::config() const {
    std::lock_guard lock(config_mutex_);
    return config_;
}

void Server::log(std::string const& line) const {
    if (options_.log) {
        options_.log(line);
        return;
    }
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::cerr << "smtpprobe exporter: " << line << "\n" << std::flush;
}

bool Server::reload(std::string& error) {
    try {
        Config fresh =
            options_.config_path.empty() ? default_config() : load_config(options_.config_path);
        fresh = with_cli_rules(std::move(fresh));
        limiter_.set_limits(fresh.max_concurrent_probes, fresh.max_queued_probes);
        {
            std::lock_guard lock(config_mutex_);
            config_ = std::make_shared<Config const>(std::move(fresh));
        }
        metrics_.reload(true);
        log("configuration reloaded" +
            (options_.config_path.empty() ? "" : " from " + options_.config_path));
        return true;
    } catch (ConfigError const& e) {
        metrics_.reload(false);
        error = e.what();
        log("error: reload failed, the previous configuration stays in force: " + error);
        return false;
    }
}

void Server::refuse(httplib::Response& res, int status, std::string const& why,
                    std::string const& log_detail) {
    res.status = status;
    res.set_content(why + "\n", "text/plain; charset=utf-8");
    log(std::to_string(status) + " /probe: " + why + (log_detail.empty() ? "" : " " + log_detail));
}

void Server::routes() {
    http_->set_pre_routing_handler([this](httplib::Request const& req, httplib::Response& res) {
        if (req.target.size() > max_request_target) {
            res.status = 414;
            res.set_content("request target longer than 2048 octets\n", "text/plain");
            return httplib::Server::HandlerResponse::Handled;
        }
        if (req.headers.size() > max_headers) {
            res.status = 431;
            res.set_content("more than 64 header fields\n", "text/plain");
            return httplib::Server::HandlerResponse::Handled;
        }
        // Here rather than as a POST route: httplib would first want a body (a Content-Length)
        // and answer `curl -X POST .../-/reload` with 400.
        if (req.path == "/-/reload" && (req.method == "POST" || req.method == "PUT")) {
            handle_reload(res);
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    // Every answered request is counted here, refusals by httplib itself included.
    http_->set_logger([this](httplib::Request const& req, httplib::Response const& res) {
        metrics_.request(handler_name(req.path), res.status);
    });
    http_->Get("/probe", [this](httplib::Request const& req, httplib::Response& res) {
        handle_probe(req, res);
    });
    http_->Get("/metrics", [this](httplib::Request const&, httplib::Response& res) {
        res.set_content(metrics_.render(), exposition_type);
    });
    http_->Get("/-/healthy", [](httplib::Request const&, httplib::Response& res) {
        res.set_content("Healthy\n", "text/plain");
    });
    http_->Get("/-/reload", [](httplib::Request const&, httplib::Response& res) {
        res.status = 405;
        res.set_header("Allow", "POST, PUT");
        res.set_content("use POST or PUT to reload\n", "text/plain");
    });
    http_->Get("/", [this](httplib::Request const&, httplib::Response& res) {
        res.set_header("Content-Security-Policy", std::string(html_content_security_policy));
        res.set_content(render_status_page(*config(), recent_.list()), "text/html; charset=utf-8");
    });
    http_->Get("/logs", [this](httplib::Request const& req, httplib::Response& res) {
        std::uint64_t id = 0;
        std::string const text = req.get_param_value("id");
        std::from_chars_result const r =
            std::from_chars(text.data(), text.data() + text.size(), id);
        bool const html = req.get_param_value("format") == "html";
        std::optional<std::string> debug;
        if (r.ec == std::errc() && r.ptr == text.data() + text.size())
            debug = html ? recent_.html(id) : recent_.debug(id);
        if (!debug) {
            res.status = 404;
            res.set_content("no such probe among the last 32\n", "text/plain");
            return;
        }
        if (html) {
            // The page forbids scripts itself; the header says it too, and that it is no frame.
            res.set_header("Content-Security-Policy",
                           std::string(html_content_security_policy) + "; frame-ancestors 'none'");
            res.set_header("X-Content-Type-Options", "nosniff");
            res.set_content(*debug, "text/html; charset=utf-8");
            return;
        }
        res.set_content(*debug, "text/plain; charset=utf-8");
    });
}

void Server::handle_reload(httplib::Response& res) {
    std::string error;
    if (reload(error)) {
        res.set_content("configuration reloaded\n", "text/plain");
    } else {
        res.status = 500;
        res.set_content("reload failed, the previous configuration stays: " + error + "\n",
                        "text/plain");
    }
}

void Server::handle_probe(httplib::Request const& req, httplib::Response& res) {
    for (auto const& param : req.params)
        if (param.first != "target" && param.first != "module" && param.first != "debug")
            return refuse(res, 400, "unknown URL parameter (allowed: target, module, debug)");
    if (req.get_param_value_count("target") != 1 || req.get_param_value_count("module") > 1 ||
        req.get_param_value_count("debug") > 1)
        return refuse(res, 400, "give target once (and module, debug at most once)");
    std::string const debug_value = req.get_param_value("debug");
    if (!debug_value.empty() && debug_value != "true" && debug_value != "false")
        return refuse(res, 400, "debug is true or false");
    bool const debug = debug_value == "true";

    std::shared_ptr<Config const> const config = this->config();
    std::string const module_name =
        req.has_param("module") ? req.get_param_value("module") : "default";
    auto const found = config->modules.find(module_name);
    if (found == config->modules.end())
        return refuse(res, 400,
                      req.has_param("module")
                          ? "unknown module" +
                                (printable_name(module_name) ? " \"" + module_name + "\"" : "")
                          : "no module given and none is named default");
    Module const& module = found->second;

    std::string why;
    std::optional<TargetAddress> target = parse_target(req.get_param_value("target"), why);
    if (!target)
        return refuse(res, 400, "bad target: " + why);
    Target const probed = scrape_target(module, *target);
    target->port = probed.port;
    if (!config->allow_targets.allows(*target))
        return refuse(res, 403, "target " + target->text() + " is not in allow_targets");

    std::string const header = req.get_header_value("X-Prometheus-Scrape-Timeout-Seconds");
    std::optional<std::chrono::milliseconds> const budget = probe_budget(module, &header);
    if (!budget)
        return refuse(res, 400, "X-Prometheus-Scrape-Timeout-Seconds is not a positive number");

    Clock::time_point const start = Clock::now();
    Clock::time_point const deadline = start + *budget;
    // A queued probe keeps at least half its budget (and never less than all but 1 s of it).
    Clock::time_point const latest = deadline - std::min<Clock::duration>(*budget / 2, 1s);
    ProbeLimiter::Slot slot;
    ProbeLimiter::Admission const admission =
        limiter_.acquire(latest, slot, [this](int delta) { metrics_.waiting().Increment(delta); });
    auto const elapsed = [&] {
        return std::chrono::duration<double>(Clock::now() - start).count();
    };
    ProbeRecord record{0, std::chrono::system_clock::now(), target->text(), module_name, "", 0, "",
                       ""};
    if (admission != ProbeLimiter::Admission::granted) {
        std::string const reason =
            std::string(admission == ProbeLimiter::Admission::queue_full
                            ? "concurrency limit: "
                            : "concurrency limit, no slot within the deadline: ") +
            std::to_string(limiter_.running_max()) + " probes running, " +
            std::to_string(limiter_.queued_max()) + " may wait";
        metrics_.probe_finished(module_name, ScrapeOutcome::concurrency_limit, elapsed());
        record.result = to_string(ScrapeOutcome::concurrency_limit);
        record.seconds = elapsed();
        record.debug = "not probed: " + reason + "\n";
        recent_.add(std::move(record));
        log("probe " + target->text() + " module " + module_name + " not run: " + reason);
        res.set_content(refused_exposition(reason, elapsed()),
                        debug ? "text/plain; charset=utf-8" : exposition_type);
        return;
    }

    metrics_.in_flight().Increment();
    ProbeRequest const request =
        scrape_request(module, *target,
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::max<Clock::duration>(deadline - Clock::now(), 100ms)),
                       options_.ca_file);
    ScrapeSink scrape(true);
    run_module_probe(request, probed, scrape);
    metrics_.in_flight().Decrement();
    slot = ProbeLimiter::Slot();

    ScrapeOutcome const outcome = scrape.success ? ScrapeOutcome::success : ScrapeOutcome::failure;
    metrics_.probe_finished(module_name, outcome, elapsed());
    record.result = to_string(outcome);
    record.seconds = elapsed();
    record.debug = scrape.report + "\n--- transcript (redacted) ---\n" + scrape.transcript +
                   "\n--- metrics ---\n" + scrape.metrics;
    record.html = std::move(scrape.html);
    if (debug)
        res.set_content(record.debug, "text/plain; charset=utf-8");
    else
        res.set_content(scrape.metrics, exposition_type);
    recent_.add(std::move(record));
}

} // namespace smtpprobe::exporter
