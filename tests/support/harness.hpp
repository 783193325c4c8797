#pragma once
// Test helpers: an emulator on 127.0.0.1:0 plus a probe against it, and a subprocess runner
// for the built binary. Everything stays on loopback and is bounded in time.

#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "engine/engine.hpp"
#include "report/render.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace smtpprobe::test {

inline std::string source_path(std::string const& relative) {
    return std::string(SMTPPROBE_SOURCE_DIR) + "/" + relative;
}

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
    /// Options that point at this emulator and trust its CA.
    EngineOptions options() const {
        EngineOptions o;
        o.host = "127.0.0.1";
        o.port = server_->port();
        o.tls.ca_pem = server_->ca_pem();
        o.tls.use_system_store = false;
        o.connect_timeout = std::chrono::milliseconds(2000);
        o.command_timeout = std::chrono::milliseconds(3000);
        o.total_timeout = std::chrono::milliseconds(20000);
        if (server_->profile().tls == emulator::TlsMode::implicit)
            o.tls_mode = TlsMode::implicit;
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
    std::string text;
    std::string json;
    std::string transcript;
};

/// Runs the engine and renders every output through the redactor, as main() does.
inline Probed probe(EngineOptions const& options) {
    Redactor redactor;
    Transcript transcript;
    Probed out{run_probe(options, &transcript, redactor), {}, {}, {}};
    out.text = redactor.redact(render_text(out.report));
    out.json = redactor.redact(render_json(out.report));
    out.transcript = transcript.render(redactor);
    record_output("report.txt", out.text);
    record_output("report.json", out.json);
    record_output("transcript.txt", out.transcript);
    return out;
}

inline MechanismRow const& row(Report const& report, std::string const& name) {
    for (MechanismRow const& r : report.rows)
        if (r.name == name)
            return r;
    throw std::runtime_error("no row " + name);
}

inline bool has_finding(Report const& report, std::string const& id) {
    for (Finding const& f : report.findings)
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
