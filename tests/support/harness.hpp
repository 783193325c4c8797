#pragma once
// Test helpers: an emulator on 127.0.0.1:0 plus a probe against it, and a subprocess runner
// for the built binary. Everything stays on loopback and is bounded in time.

#include "diagnose/evaluate.hpp"
#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "engine/probe.hpp"
#include "render/render.hpp"
#include "request/run.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace smtpprobe::test {

inline std::string source_path(std::string const& relative) {
    return std::string(SMTPPROBE_SOURCE_DIR) + "/" + relative;
}

/// Everything one probe() plus evaluate() call takes, as main() builds it from the command line.
struct Setup {
    Target target;
    ProbeOptions options;
    Expectations expect;
};

/// A running emulator for one profile.
class Emulated {
public:
    explicit Emulated(emulator::Profile profile, emulator::ServerOptions options = {})
        : server_(std::make_unique<emulator::Server>(std::move(profile), std::move(options))) {
        server_->start();
    }
    static Emulated sample(std::string const& name) {
        return Emulated(emulator::load_profile(source_path("samples/servers/" + name + ".json")));
    }
    static Emulated inline_profile(nlohmann::json const& profile) {
        return Emulated(emulator::parse_profile(profile, "test profile"));
    }
    /// A setup that points at this emulator and trusts its CA.
    Setup options() const {
        Setup o;
        o.target.host = "127.0.0.1";
        o.target.port = server_->port();
        o.options.tls.ca_pem = server_->ca_pem();
        o.options.tls.use_system_store = false;
        o.options.connect_timeout = std::chrono::milliseconds(2000);
        o.options.command_timeout = std::chrono::milliseconds(3000);
        o.options.total_timeout = std::chrono::milliseconds(20000);
        if (server_->profile().tls == emulator::TlsMode::implicit)
            o.target.tls_mode = TlsMode::implicit;
        return o;
    }
    emulator::Server& server() { return *server_; }

private:
    std::unique_ptr<emulator::Server> server_;
};

/// Keeps a copy of an output a test produced, for the secret scan that runs after the suite
/// (scripts/scan-secrets.py over SMTPPROBE_TEST_OUTPUT_DIR).
void record_output(std::string const& what, std::string const& text);

struct Probed {
    Report report;
    Verdict verdict;
    std::string text;
    std::string json;
    std::string transcript;
};

/// The front ends' one path (request/run.hpp's run_probe(): probe, evaluate, render, redact)
/// with every output kept, and recorded for the secret scan.
class KeepingSink : public ResultSink {
public:
    explicit KeepingSink(Probed& out) : out_(out) {}
    bool wants_transcript() const override { return true; }
    void write(Target const&, ProbeResult const& result) override {
        out_.report = result.report();
        out_.verdict = result.verdict();
        out_.text = result.rendered(Format::text);
        out_.json = result.rendered(Format::json);
        out_.transcript = result.transcript();
    }

private:
    Probed& out_;
};

/// Runs the setup through run_probe(), as every front end does.
inline Probed probe(Setup const& setup) {
    Probed out;
    KeepingSink sink(out);
    run_probe(setup.target, setup.options, setup.expect, sink);
    record_output("report.txt", out.text);
    record_output("report.json", out.json);
    record_output("transcript.txt", out.transcript);
    return out;
}

/// A probe and how long it took, for the tests that bound the time a failure takes.
struct Timed {
    Probed probed;
    std::chrono::milliseconds elapsed;
};

inline Timed timed_probe(Setup const& o) {
    auto const start = std::chrono::steady_clock::now();
    Probed p = probe(o);
    return {std::move(p), std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)};
}

inline MechanismRow const& row(Report const& report, std::string const& name) {
    for (MechanismRow const& r : report.rows)
        if (r.name == name)
            return r;
    throw std::runtime_error("no row " + name);
}

/// The finding `id` of the verdict; throws (failing the test) when there is none.
inline Finding const& finding(Verdict const& verdict, std::string const& id) {
    for (Finding const& f : verdict.findings)
        if (f.id == id)
            return f;
    throw std::runtime_error("no finding " + id);
}

/// A port on 127.0.0.1 that nothing listens on (bound, then closed): connections are refused.
unsigned short closed_loopback_port();

/// The first of `count` consecutive ports on 127.0.0.1 that can each be bound now (for
/// `smtpprobe emulate --count`); bases come from the kernel, at most 64 are tried.
unsigned short free_loopback_ports(unsigned count);

inline bool has_finding(Verdict const& verdict, std::string const& id) {
    for (Finding const& f : verdict.findings)
        if (f.id == id)
            return true;
    return false;
}

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

/// Runs a shell command line (tests build it from constants only), capturing output.
CommandResult run_command(std::string const& command_line, std::string const& stdin_text = {});

} // namespace smtpprobe::test
