// Replays every recorded transcript in samples/transcripts/ through the real engine: probe()
// with an opener (ProbeOptions::open) that hands the connector a ReplayTransport for the first
// connection and refuses any other, and a resolver (ProbeOptions::resolve) that knows the
// recording's name. The plan, the connector's baseline session and credential policy, the
// workers and the collector all run as they do against a server; what the Report concluded is
// compared with the golden <name>.expected.json beside the recording.
// SMTPPROBE_UPDATE_GOLDEN=1 rewrites the golden files (review the diff before committing).

#include "net/errc.hpp"
#include "session/conversation.hpp"
#include "support/harness.hpp"
#include "support/replay_transport.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

using namespace smtpprobe;
using Json = nlohmann::ordered_json;

namespace {

TlsMode mode_from(std::string const& text) {
    if (text == "none")
        return TlsMode::none;
    if (text == "starttls")
        return TlsMode::starttls;
    if (text == "implicit")
        return TlsMode::implicit;
    return TlsMode::auto_;
}

Json caps_json(std::optional<smtp::Capabilities> const& caps) {
    if (!caps)
        return nullptr;
    return Json{{"keywords", caps->keywords()},
                {"auth", caps->auth},
                {"auth_equals_form", caps->auth_equals_form}};
}

/// The test keeps the transport; the engine gets a handle that forwards to it.
class Borrowed final : public net::Transport {
public:
    explicit Borrowed(test::ReplayTransport& t) : t_(t) {}
    void send_all(std::string_view bytes, net::Deadline d) override { t_.send_all(bytes, d); }
    std::size_t receive_some(char* buffer, std::size_t size, net::Deadline d) override {
        return t_.receive_some(buffer, size, d);
    }
    net::TlsInfo start_tls(net::TlsConnectOptions const& o, net::Deadline d) override {
        return t_.start_tls(o, d);
    }
    bool tls_active() const noexcept override { return t_.tls_active(); }
    void close() noexcept override { t_.close(); }

private:
    test::ReplayTransport& t_;
};

/// The AUTH mechanisms the recording probes after its last EHLO, in its order.
std::vector<std::string> recorded_mechanisms(test::ReplayScript const& script) {
    std::vector<std::string> mechanisms;
    bool after_last_ehlo = false;
    for (test::ReplayStep const& step : script.steps) {
        if (step.kind != test::ReplayStep::Kind::client)
            continue;
        if (step.text.rfind("EHLO", 0) == 0 || step.text.rfind("HELO", 0) == 0) {
            after_last_ehlo = true;
            mechanisms.clear();
        } else if (after_last_ehlo && step.text.rfind("AUTH ", 0) == 0) {
            mechanisms.push_back(step.text.substr(5));
        }
    }
    return mechanisms;
}

struct Replayed {
    Json result;
    std::vector<std::string> mismatches;
    bool followed_to_end = false;
    int opens = 0;
};

Replayed replay(std::string const& path) {
    test::ReplayScript script = test::load_replay(path);
    std::vector<std::string> const mechanisms = recorded_mechanisms(script);
    test::ReplayTransport transport(script);
    Replayed out;

    Target target;
    target.host = "replay.invalid";
    target.port = 587;
    target.tls_mode = mode_from(script.headers["mode"]);
    ProbeOptions options;
    options.parallel = 1;
    options.auth_before_tls = script.headers["auth-before-tls"] == "yes";
    options.mail_before_auth = script.headers["mail-before-auth"] == "yes";
    // Without mechanisms the engine would probe the catalogue; a recording without AUTH
    // lines gets one the recording cannot answer, which must then show as not probed.
    options.mechanisms = mechanisms.empty() ? std::vector<std::string>{"PLAIN"} : mechanisms;
    options.tls.use_system_store = false;
    options.resolve = [](std::string const& host, unsigned short port, net::Family, net::Deadline) {
        REQUIRE(host == "replay.invalid");
        return std::vector<net::Endpoint>{{"192.0.2.25", port, 0}};
    };
    options.open = [&](net::OpenRequest const& request, std::vector<net::ConnectAttempt>& tried) {
        ++out.opens;
        REQUIRE(request.endpoints->size() == 1);
        tried.push_back({request.endpoints->front().address, {}});
        if (out.opens > 1) {
            tried.back().error = "the recording has one connection";
            throw std::system_error(net::errc::connect_failed, "replay");
        }
        net::Opened opened;
        opened.transport = std::make_unique<Borrowed>(transport);
        opened.peer = request.endpoints->front();
        return opened;
    };
    TranscriptObserver observer(false);
    Report const report = probe(target, options, observer);

    ServerFacts const& facts = report.server;
    Json rows = Json::object();
    for (MechanismRow const& row : report.rows) {
        Recognition const& r = row.recognition;
        rows[row.name] = Json{{"status", std::string(to_string(r.status))},
                              {"code", r.reply ? r.reply->code : 0},
                              {"enhanced", r.reply ? r.reply->enhanced() : ""},
                              {"challenge", r.challenge ? Json(*r.challenge) : Json(nullptr)},
                              {"cancel_code", r.cancel_reply ? r.cancel_reply->code : 0},
                              {"note", r.note}};
    }
    Json& j = out.result;
    j["session_established"] = report.session_established;
    j["fatal_error"] = report.fatal_error().empty() ? Json(nullptr) : Json(report.fatal_error());
    j["stop_reason"] = facts.why_stopped();
    j["tls_used"] = std::string(to_string(report.tls_used));
    j["before_tls"] = caps_json(facts.before_tls);
    j["after_tls"] = facts.tls ? caps_json(facts.after_tls) : Json(nullptr);
    j["auth_before_tls"] = facts.auth_before_tls_reply
                               ? Json{{"code", facts.auth_before_tls_reply->code},
                                      {"enhanced", facts.auth_before_tls_reply->enhanced()}}
                               : Json(nullptr);
    j["injected"] = facts.starttls_injected;
    j["connections"] = report.connections;
    j["left_recording_at"] = transport.left_at() ? Json(*transport.left_at()) : Json(nullptr);
    j["mechanisms"] = rows;
    out.mismatches = transport.mismatches();
    out.followed_to_end = transport.finished();
    return out;
}

} // namespace

TEST_CASE("every recorded transcript drives the real engine to its golden result",
          "[engine][replay]") {
    std::filesystem::path const dir = test::source_path("samples/transcripts");
    int replayed = 0, to_the_end = 0;
    for (std::filesystem::directory_entry const& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".txt")
            continue;
        std::filesystem::path golden = entry.path();
        golden.replace_extension(".expected.json");
        INFO(entry.path().filename().string());
        Replayed const actual = replay(entry.path().string());
        for (std::string const& m : actual.mismatches)
            UNSCOPED_INFO(m);
        CHECK(actual.mismatches.empty());
        CHECK(actual.opens >= 1);
        if (std::getenv("SMTPPROBE_UPDATE_GOLDEN") != nullptr)
            std::ofstream(golden) << actual.result.dump(2) << "\n";
        std::ifstream in(golden);
        REQUIRE(in.good());
        Json const expected = Json::parse(in);
        CHECK(actual.result.dump(2) == expected.dump(2));
        to_the_end += actual.followed_to_end ? 1 : 0;
        ++replayed;
    }
    CHECK(replayed >= 5);
    // Most recordings are single connections the engine follows to their last line; the
    // rest are longer than the engine keeps a connection (8 AUTH probes), or the server
    // hangs up, and the engine's reconnect is refused by the opener.
    CHECK(to_the_end * 2 > replayed);
}

TEST_CASE("the replay transport itself catches a client that strays from the recording",
          "[engine][replay]") {
    test::ReplayScript script;
    script.steps = {{test::ReplayStep::Kind::server, false, "220 x ESMTP"},
                    {test::ReplayStep::Kind::client, false, "EHLO expected.name"},
                    {test::ReplayStep::Kind::server, false, "250 x"}};
    test::ReplayTransport transport(script);
    Conversation conversation(transport, nullptr, Timeouts{}, 1);
    conversation.greeting();
    conversation.exchange(smtp::ehlo_command("other.name"));
    REQUIRE(transport.mismatches().size() == 1);
    CHECK(transport.mismatches().front().find("other.name") != std::string::npos);
}
