#include "batch.hpp"

#include "diagnose/evaluate.hpp"
#include "engine/probe.hpp"
#include "net/interrupt.hpp"
#include "render/ndjson.hpp"
#include "render/render.hpp"
#include "render/text_style.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

namespace smtpprobe {
namespace {

/// One line of the text summary: small, so keeping one per target is cheap.
struct SummaryRow {
    std::string target;
    std::string session;
    std::string tls;
    std::string recognised;
    std::string worst;
    double ms = 0;
};

SummaryRow summarise(std::string const& name, Report const& r, Verdict const& v) {
    SummaryRow row;
    row.target = name;
    row.session = r.interrupted ? "interrupted" : r.session_established ? "yes" : "no";
    row.tls = r.server.tls ? r.server.tls->version : "none";
    std::vector<std::string> recognised;
    for (MechanismRow const& m : r.rows)
        if (m.recognition.status == Status::recognised || m.recognition.status == Status::accepted)
            recognised.push_back(m.name);
    row.recognised = recognised.empty() ? "-" : "";
    for (std::string const& name_ : recognised)
        row.recognised += (row.recognised.empty() ? "" : ",") + name_;
    Severity worst = Severity::info;
    std::string title;
    for (Finding const& f : v.findings)
        if (title.empty() || f.severity > worst) {
            worst = f.severity;
            title = f.title;
        }
    row.worst = title.empty() ? "-" : std::string(to_string(worst)) + ": " + title;
    row.ms = r.total_ms;
    return row;
}

std::string summary_table(std::vector<SummaryRow> const& rows, std::size_t not_started) {
    std::size_t target_width = 8;
    for (SummaryRow const& r : rows)
        target_width = std::max(target_width, r.target.size() + 2);
    std::string out = "Summary\n  " + text::pad("TARGET", target_width) + text::pad("SESSION", 13) +
                      text::pad("TLS", 9) + text::pad("RECOGNISED", 28) + text::pad("TIME", 10) +
                      "WORST FINDING\n";
    for (SummaryRow const& r : rows) {
        char time[32];
        std::snprintf(time, sizeof time, "%.2f s", r.ms / 1000.0);
        out += "  " + text::pad(r.target, target_width) + text::pad(r.session, 13) +
               text::pad(r.tls, 9) + text::pad(r.recognised, 28) + text::pad(time, 10) + r.worst +
               "\n";
    }
    if (not_started > 0)
        out += "  (" + std::to_string(not_started) + " target(s) not started: interrupted)\n";
    return terminal_safe(out, false);
}

int rank(int exit) noexcept {
    switch (exit) {
    case exit_code::ok:
        return 0;
    case exit_code::problems:
        return 1;
    case exit_code::no_session:
        return 2;
    case exit_code::usage:
        return 3;
    case exit_code::interrupted:
        return 5;
    default:
        return 4;
    }
}

} // namespace

int worse_exit_code(int a, int b) noexcept {
    return rank(b) > rank(a) ? b : a;
}

TargetSource::TargetSource(Config const& config, std::istream* file,
                           std::function<void(std::string const&)> bad)
    : config_(config), file_(file), bad_(std::move(bad)) {}

std::optional<Target> TargetSource::next() {
    std::lock_guard lock(mutex_);
    for (int guard = 0; guard < 1'000'000; ++guard) {
        std::string text;
        std::string where;
        if (next_arg_ < config_.given.targets.size()) {
            text = config_.given.targets[next_arg_++];
            where = "target \"" + text + "\"";
        } else if (file_ != nullptr && std::getline(*file_, text)) {
            ++line_;
            where = "targets file line " + std::to_string(line_);
            if (std::size_t hash = text.find('#'); hash != std::string::npos)
                text.erase(hash);
            text.erase(0, text.find_first_not_of(" \t\r"));
            text.erase(text.find_last_not_of(" \t\r") + 1);
            if (text.empty())
                continue;
        } else {
            return std::nullopt;
        }
        try {
            return parse_target(text, config_.given);
        } catch (UsageError const& e) {
            bad_(where + ": " + e.what());
        }
    }
    return std::nullopt;
}

std::size_t TargetSource::untaken() const {
    std::lock_guard lock(mutex_);
    return config_.given.targets.size() - next_arg_;
}

int run_batch(Config const& c, TargetSource& targets, std::ostream& os) {
    std::mutex out_mutex;
    std::vector<SummaryRow> summary;
    std::size_t done = 0;
    int worst = exit_code::ok;
    bool first_json = true;
    if (c.format == Format::json)
        os << "[\n";
    auto worker = [&] {
        for (int round = 0; round < 1'000'000 && !net::interrupted(); ++round) {
            std::optional<Target> target = targets.next();
            if (!target)
                return;
            TranscriptObserver observer(false);
            Report const report = probe(*target, c.options, observer);
            Verdict const verdict = evaluate(report, c.expect);
            Redactor const& redactor = observer.redactor();
            std::string const name = target->host + ":" + std::to_string(target->port);
            std::string out;
            if (c.format == Format::ndjson)
                out = redactor.redact(render_json_line(report, verdict));
            else if (c.format == Format::json)
                out = redactor.redact(render_json(report, verdict));
            else
                out = redactor.redact(render_text(report, verdict)) + "\n";
            std::lock_guard lock(out_mutex);
            if (c.format == Format::json) {
                if (!first_json)
                    os << ",\n";
                first_json = false;
                out.pop_back(); // the newline; the separator follows
            }
            os << out << std::flush;
            if (c.format == Format::text)
                summary.push_back(summarise(name, report, verdict));
            worst = worse_exit_code(worst, verdict.exit_code);
            ++done;
        }
    };
    {
        std::vector<std::jthread> threads;
        unsigned const jobs = std::max(1u, c.jobs);
        for (unsigned i = 0; i < jobs; ++i)
            threads.emplace_back(worker);
    }
    std::size_t const not_started = net::interrupted() ? targets.untaken() : 0;
    if (net::interrupted()) {
        worst = worse_exit_code(worst, exit_code::interrupted);
        std::cerr << "smtpprobe: interrupted: " << done << " report(s) written, " << not_started
                  << " target(s) not started"
                  << (c.targets_file.empty() ? "" : "; the targets file was not read further")
                  << "\n";
    }
    if (c.format == Format::json)
        os << "\n]\n";
    if (c.format == Format::text)
        os << summary_table(summary, not_started);
    os << std::flush;
    return worst;
}

} // namespace smtpprobe
