#include "batch.hpp"

#include "diagnose/evaluate.hpp"
#include "engine/probe.hpp"
#include "net/interrupt.hpp"
#include "render/cells.hpp"
#include "render/html.hpp"
#include "render/text_style.hpp"
#include "request/run.hpp"

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
    Finding const* worst = cells::worst_finding(v.findings);
    row.worst =
        worst == nullptr ? "-" : std::string(to_string(worst->severity)) + ": " + worst->title;
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

TargetSource::TargetSource(PreparedRequest const& request, std::istream* file,
                           std::function<void(std::string const&)> bad)
    : request_(request), file_(file), bad_(std::move(bad)) {}

std::optional<Target> TargetSource::next() {
    std::lock_guard lock(mutex_);
    for (int guard = 0; guard < 1'000'000; ++guard) {
        std::string text;
        std::string where;
        std::vector<std::string> const& hosts = request_.request().targets.hosts;
        if (next_arg_ < hosts.size()) {
            text = hosts[next_arg_++];
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
            return request_.target(text);
        } catch (RequestError const& e) {
            bad_(where + ": " + e.message());
        }
    }
    return std::nullopt;
}

std::size_t TargetSource::untaken() const {
    std::lock_guard lock(mutex_);
    return request_.request().targets.hosts.size() - next_arg_;
}

namespace {

/// Writes each target's report as it finishes: NDJSON lines, the elements of a JSON array, or
/// text reports and a summary row each.
class BatchSink : public ResultSink {
public:
    BatchSink(Format format, std::ostream& out) : format_(format), out_(out) {
        if (format_ == Format::json)
            out_ << "[\n";
    }

    /// The HTML page folds each target's transcript in.
    bool wants_transcript() const override { return format_ == Format::html; }

    void write(Target const& target, ProbeResult const& result) override {
        std::string const name = target.host + ":" + std::to_string(target.port);
        if (format_ == Format::html) {
            // The page needs the summary first: the articles wait for the end (memory grows
            // with the number of targets here, unlike the other formats).
            std::lock_guard lock(mutex_);
            std::string const anchor = "target-" + std::to_string(reports_ + 1);
            html_rows_.push_back(result.rendered_html_with([&](Report const& r, Verdict const& v) {
                return html_summary_row(name, anchor, r, v);
            }));
            std::string const transcript = result.transcript();
            html_articles_.push_back(
                result.rendered_html_with([&](Report const& r, Verdict const& v) {
                    return render_html_article(r, v, transcript, anchor);
                }));
            worst_ = worse_exit_code(worst_, result.verdict().exit_code);
            ++reports_;
            return;
        }
        std::string out = result.rendered(format_);
        std::lock_guard lock(mutex_);
        if (format_ == Format::json) {
            if (reports_ > 0)
                out_ << ",\n";
            out.pop_back(); // the newline; the separator follows
        } else if (format_ == Format::text) {
            out += "\n";
            summary_.push_back(summarise(name, result.report(), result.verdict()));
        }
        out_ << out << std::flush;
        worst_ = worse_exit_code(worst_, result.verdict().exit_code);
        ++reports_;
    }

    /// The closing bracket or the summary table; the worst exit code.
    int finish(std::size_t not_started) {
        if (format_ == Format::json)
            out_ << "\n]\n";
        if (format_ == Format::text)
            out_ << summary_table(summary_, not_started);
        if (format_ == Format::html)
            out_ << render_html_batch(html_rows_, html_articles_, not_started);
        out_ << std::flush;
        return worst_;
    }
    std::size_t reports() const {
        std::lock_guard lock(mutex_);
        return reports_;
    }

private:
    Format format_;
    std::ostream& out_;
    mutable std::mutex mutex_;
    std::vector<SummaryRow> summary_;
    std::vector<std::string> html_rows_, html_articles_; ///< redacted, each target's own redactor
    std::size_t reports_ = 0;
    int worst_ = exit_code::ok;
};

} // namespace

int run_batch(PreparedRequest const& request, TargetSource& targets, std::ostream& os) {
    ProbeRequest const& r = request.request();
    BatchSink sink(r.outputs.format, os);
    auto worker = [&] {
        for (int round = 0; round < 1'000'000 && !net::interrupted(); ++round) {
            std::optional<Target> target = targets.next();
            if (!target)
                return;
            run_one(request, *target, sink);
        }
    };
    {
        std::vector<std::jthread> threads;
        unsigned const jobs = std::max(1u, r.targets.jobs);
        for (unsigned i = 0; i < jobs; ++i)
            threads.emplace_back(worker);
    }
    std::size_t const not_started = net::interrupted() ? targets.untaken() : 0;
    int worst = sink.finish(not_started);
    if (net::interrupted()) {
        worst = worse_exit_code(worst, exit_code::interrupted);
        std::cerr << "smtpprobe: interrupted: " << sink.reports() << " report(s) written, "
                  << not_started << " target(s) not started"
                  << (r.targets.file.empty() ? "" : "; the targets file was not read further")
                  << "\n";
    }
    return worst;
}

} // namespace smtpprobe
