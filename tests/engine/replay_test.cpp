// Replays every recorded transcript in samples/transcripts/ through the real probe code
// (baseline session + AUTH recognition) over ReplayTransport, and compares what the probe
// concluded with the golden <name>.expected.json beside it. SMTPPROBE_UPDATE_GOLDEN=1 rewrites
// the golden files (review the diff before committing).

#include "probes/auth.hpp"
#include "probes/baseline.hpp"
#include "session/conversation.hpp"
#include "support/harness.hpp"
#include "support/replay_transport.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

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

Json replay(std::string const& path, std::vector<std::string>& mismatches) {
    test::ReplayScript script = test::load_replay(path);
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
    test::ReplayTransport transport(script);
    Conversation conversation(transport, nullptr, Timeouts{}, 1);
    probes::SetupOptions options;
    options.ehlo_name = "smtpprobe.invalid";
    options.mode = mode_from(script.headers["mode"]);
    options.probe_auth_before_tls = script.headers["auth-before-tls"] == "yes";
    options.tls.verify_name = "replay.invalid";
    Json out;
    ServerFacts facts;
    Json rows = Json::object();
    try {
        facts = probes::open_session(conversation, options);
        if (facts.ready) {
            for (std::string const& name : mechanisms) {
                MechanismRow row;
                row.name = name;
                probes::recognise(conversation, row);
                Recognition const& r = row.recognition;
                rows[name] = Json{{"status", std::string(to_string(r.status))},
                                  {"code", r.reply ? r.reply->code : 0},
                                  {"enhanced", r.reply ? r.reply->enhanced() : ""},
                                  {"challenge", r.challenge ? Json(*r.challenge) : Json(nullptr)},
                                  {"cancel_code", r.cancel_reply ? r.cancel_reply->code : 0}};
            }
        }
        out["error"] = nullptr;
    } catch (std::system_error const& e) {
        out["error"] = e.code().message();
        out["evidence"] = e.what();
    }
    out["ready"] = facts.ready;
    out["stop_reason"] = facts.stop_reason;
    out["tls"] = facts.tls.has_value();
    out["before_tls"] = caps_json(facts.before_tls);
    out["after_tls"] = facts.tls ? caps_json(facts.after_tls) : Json(nullptr);
    out["auth_before_tls"] = facts.auth_before_tls_reply
                                 ? Json{{"code", facts.auth_before_tls_reply->code},
                                        {"enhanced", facts.auth_before_tls_reply->enhanced()}}
                                 : Json(nullptr);
    out["injected"] = conversation.injected();
    out["mechanisms"] = rows;
    mismatches = transport.mismatches();
    return out;
}

} // namespace

TEST_CASE("every recorded transcript replays to its golden result", "[replay]") {
    std::filesystem::path const dir = test::source_path("samples/transcripts");
    int replayed = 0;
    for (std::filesystem::directory_entry const& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".txt")
            continue;
        std::filesystem::path golden = entry.path();
        golden.replace_extension(".expected.json");
        INFO(entry.path().filename().string());
        std::vector<std::string> mismatches;
        Json actual = replay(entry.path().string(), mismatches);
        CHECK(mismatches.empty());
        for (std::string const& m : mismatches)
            UNSCOPED_INFO(m);
        if (std::getenv("SMTPPROBE_UPDATE_GOLDEN") != nullptr) {
            std::ofstream(golden) << actual.dump(2) << "\n";
        }
        std::ifstream in(golden);
        REQUIRE(in.good());
        Json expected = Json::parse(in);
        CHECK(actual.dump(2) == expected.dump(2));
        ++replayed;
    }
    CHECK(replayed >= 5);
}

TEST_CASE("the replay transport itself catches a client that strays from the recording",
          "[replay]") {
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
