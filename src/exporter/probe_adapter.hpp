#pragma once
// The exporter's one call into the engine: a module plus a target become Target and
// ProbeOptions, probe() runs, evaluate() judges (ARCHITECTURE §11). Nothing else in
// src/exporter/ knows the engine's API.

#include "diagnose/evaluate.hpp"
#include "engine/probe.hpp"
#include "exporter/allow_list.hpp"
#include "exporter/config.hpp"
#include "report/report.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace smtpprobe::exporter {

struct ProbeRequest {
    Module const* module = nullptr;
    TargetAddress target;             ///< port already resolved
    std::chrono::milliseconds budget; ///< the whole probe, from now
    std::string default_ca_file;      ///< --ca-file, for modules without ca_file
    bool want_transcript = false;     ///< for &debug=true and the status page's logs
};

struct ProbeOutcome {
    Report report;
    Verdict verdict;
    /// Session established and every expectation of the module met (README "Metrics").
    bool success = false;
    /// The probe's secrets and its transcript; every output passes through
    /// observer->redactor() before it leaves the exporter.
    std::unique_ptr<TranscriptObserver> observer;
};

/// Runs one probe. Never throws for anything the server does; a local problem (an unreadable
/// CA file, a credential variable that disappeared) becomes a failed probe with the reason in
/// report.fatal_error.
ProbeOutcome run_module_probe(ProbeRequest const& request);

/// The port a target without one gets: 465 for implicit TLS, else 587.
unsigned short default_port(Module const& module) noexcept;

/// The module's expectations as evaluate() takes them.
Expectations expectations(Module const& module);

} // namespace smtpprobe::exporter
