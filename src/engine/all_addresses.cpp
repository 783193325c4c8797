#include "engine/all_addresses.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace smtpprobe::engine {
namespace {

constexpr std::size_t lanes_max = 4; ///< addresses probed at once

long ms_since(net::Clock::time_point since) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(net::Clock::now() - since).count());
}

/// What the per-address probes share: the front end's observer, one caller at a time, and
/// the connection numbers of the whole run.
class Fanout {
public:
    Fanout(Observer& parent, std::vector<std::string> addresses)
        : parent_(parent), addresses_(std::move(addresses)), progress_(addresses_.size()),
          offsets_(addresses_.size(), 0), start_(net::Clock::now()) {}

    Observer& parent() noexcept { return parent_; }
    std::size_t size() const noexcept { return addresses_.size(); }

    void started(std::size_t index) {
        std::lock_guard lock(mutex_);
        offsets_[index] = ms_since(start_);
    }

    /// The line with its connection renumbered over the run; the first line of each connection
    /// is preceded by one that names the connection's address.
    void transcript_line(std::size_t index, TranscriptEvent line) {
        std::lock_guard lock(mutex_);
        line.ms += offsets_[index];
        auto [it, fresh] = ids_.try_emplace({index, line.session}, 0);
        if (fresh) {
            it->second = ++last_id_;
            parent_.transcript_line(TranscriptEvent{
                line.ms, it->second, TranscriptEvent::Kind::info, false,
                "address " + addresses_[index] + " (" + std::to_string(index + 1) + " of " +
                    std::to_string(addresses_.size()) + ", --all-addresses)"});
        }
        line.session = it->second;
        parent_.transcript_line(line);
    }

    void progress(std::size_t index, Progress const& p) {
        std::lock_guard lock(mutex_);
        progress_[index] = p;
        Progress sum;
        for (Progress const& each : progress_) {
            sum.rows_done += each.rows_done;
            sum.rows_total += each.rows_total;
            sum.connections += each.connections;
        }
        parent_.progress(sum);
    }

private:
    Observer& parent_;
    std::vector<std::string> addresses_;
    std::mutex mutex_;
    std::map<std::pair<std::size_t, int>, int> ids_; ///< (address, its connection) -> run's
    int last_id_ = 0;
    std::vector<Progress> progress_;
    std::vector<long> offsets_; ///< when each address's probe started, in the run's ms
    net::Clock::time_point start_;
};

/// The observer of one address's probe: everything goes to the shared Fanout.
class AddressObserver : public Observer {
public:
    AddressObserver(Fanout& fanout, std::size_t index) : fanout_(fanout), index_(index) {}
    bool wants_transcript() const override { return fanout_.parent().wants_transcript(); }
    void transcript_line(TranscriptEvent const& line) override {
        fanout_.transcript_line(index_, line);
    }
    void progress(Progress const& p) override { fanout_.progress(index_, p); }
    bool interrupted() const override { return fanout_.parent().interrupted(); }
    Redactor& redactor() noexcept override { return fanout_.parent().redactor(); }
    Redactor const& redactor() const noexcept override { return fanout_.parent().redactor(); }

private:
    Fanout& fanout_;
    std::size_t index_;
};

} // namespace

AddressProbe summarise(Report const& report) {
    AddressProbe a;
    a.address = report.connected_address;
    if (a.address.empty() && !report.addresses.empty())
        a.address = report.addresses.front();
    a.session_established = report.session_established;
    a.fatal = report.fatal;
    ServerFacts const& s = report.server;
    a.banner = s.banner;
    a.before_tls = s.before_tls;
    a.after_tls = s.after_tls;
    a.tls_used = report.tls_used;
    a.tls = s.tls;
    a.tls_error = s.tls_error;
    a.rows = report.rows;
    a.connections = report.connections;
    a.total_ms = report.total_ms;
    return a;
}

Report probe_each_address(Target const& target, ProbeOptions const& options, Observer& observer,
                          std::vector<net::Endpoint> const& endpoints, net::Clock::time_point until,
                          SingleProbe const& single) {
    std::size_t const n =
        std::min(endpoints.size(), std::max<std::size_t>(options.max_addresses, 1));
    std::vector<std::string> probed;
    for (std::size_t i = 0; i < n; ++i)
        probed.push_back(endpoints[i].address);
    Fanout fanout(observer, probed);

    std::vector<Report> reports(n);
    std::vector<std::exception_ptr> errors(n);
    std::atomic<std::size_t> next{0};
    auto lane = [&] {
        for (std::size_t i = next++; i < n; i = next++) {
            ProbeOptions pinned = options;
            pinned.all_addresses = false;
            pinned.resolve = [endpoint = endpoints[i]](std::string const&, unsigned short,
                                                       net::Family, net::Deadline) {
                return std::vector<net::Endpoint>{endpoint};
            };
            pinned.total_timeout = std::chrono::milliseconds(net::remaining_ms(until));
            fanout.started(i);
            AddressObserver address_observer(fanout, i);
            try {
                reports[i] = single(target, pinned, address_observer);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    // --source ADDR:PORT: every connection needs that one local port, so one at a time.
    bool const one_port = options.connection.source && options.connection.source->port != 0;
    {
        std::vector<std::jthread> lanes;
        for (std::size_t i = 0; i < (one_port ? 1 : std::min(n, lanes_max)); ++i)
            lanes.emplace_back(lane);
    }
    for (std::exception_ptr const& e : errors)
        if (e)
            std::rethrow_exception(e);

    std::vector<AddressProbe> summaries;
    int connections = 0;
    bool interrupted = false;
    for (Report const& r : reports) {
        summaries.push_back(summarise(r));
        connections += r.connections;
        interrupted = interrupted || r.interrupted;
    }
    auto const ready = std::find_if(reports.begin(), reports.end(),
                                    [](Report const& r) { return r.session_established; });
    Report out = std::move(ready != reports.end() ? *ready : reports.front());
    out.addresses.clear();
    for (net::Endpoint const& e : endpoints)
        out.addresses.push_back(e.address);
    out.address_probes = std::move(summaries);
    out.addresses_not_probed = endpoints.size() - n;
    out.connections = connections;
    out.interrupted = interrupted;
    return out;
}

} // namespace smtpprobe::engine
