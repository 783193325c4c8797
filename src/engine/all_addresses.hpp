#pragma once
// --all-addresses: one probe per address of a name, each pinned to its address through the
// resolver seam, run a few at once, merged into one Report (Report::address_probes). The
// differences between the addresses are judged by diagnose (address_rules.hpp).

#include "engine/probe.hpp"

#include <functional>
#include <vector>

namespace smtpprobe::engine {

/// probe() of one address: the single-address path, called once per address.
using SingleProbe = std::function<Report(Target const&, ProbeOptions const&, Observer&)>;

/// Probes each of `endpoints` (at most options.max_addresses of them) with `single`, under
/// the deadline `until`. The result is the report of the first address that reached AUTH (else
/// the first address), with every address's summary, every resolved address, the connections
/// of all of them and the total time. Transcript lines reach `observer` with connection
/// numbers unique over the whole run.
Report probe_each_address(Target const& target, ProbeOptions const& options, Observer& observer,
                          std::vector<net::Endpoint> const& endpoints, net::Clock::time_point until,
                          SingleProbe const& single);

/// What a per-address summary keeps of that address's report.
AddressProbe summarise(Report const& report);

} // namespace smtpprobe::engine
