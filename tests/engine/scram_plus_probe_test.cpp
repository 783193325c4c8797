// SCRAM-SHA-1-PLUS and SCRAM-SHA-256-PLUS end to end against the emulator, on real TLS
// connections: tls-exporter on TLS 1.3, tls-unique on TLS 1.2, the JSON field that names the
// binding, a wrong password, and a plaintext server where there is nothing to bind to.

#include "engine/probe.hpp"

#include "smtp/base64.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

std::string const user = "plus-user@example.test";
std::string const password = "scram-plus-password-not-real";

nlohmann::json plus_profile(std::string const& tls = "starttls", std::string const& tls_max = "") {
    nlohmann::json profile = {
        {"name", "scram-plus"},
        {"hostname", "mx.example.test"},
        {"tls", tls},
        {"ehlo",
         {{"before_tls", tls == "none" ? nlohmann::json{"AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256"}
                                       : nlohmann::json{"STARTTLS"}},
          {"after_tls", {"AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256"}}}},
        {"auth",
         {{"mechanisms", {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256"}},
          {"accounts", {{{"user", user}, {"password", password}}}}}}};
    if (tls == "none")
        profile["auth"]["mechanisms_before_tls"] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
    if (!tls_max.empty())
        profile["tls_max"] = tls_max;
    return profile;
}

} // namespace

TEST_CASE("SCRAM-*-PLUS authenticates bound to TLS 1.3 with tls-exporter", "[engine][auth][sasl]") {
    Emulated server = Emulated::inline_profile(plus_profile());
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, password, ""};
    Probed p = probe(o);
    for (char const* name : {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}) {
        INFO(name);
        MechanismRow const& m = row(p.report, name);
        CHECK(m.authentication.status == Status::accepted);
        CHECK(m.authentication.reply->code == 235);
        CHECK(m.authentication.server_verified);
        CHECK(m.authentication.channel_binding == sasl::ChannelBinding::Type::tls_exporter);
    }
    CHECK(row(p.report, "SCRAM-SHA-256").authentication.channel_binding ==
          sasl::ChannelBinding::Type::none);
    nlohmann::json const doc = nlohmann::json::parse(p.json);
    bool named = false;
    for (nlohmann::json const& m : doc["mechanisms"]) {
        if (m["name"] == "SCRAM-SHA-256-PLUS") {
            CHECK(m["authentication"]["channel_binding"] == "tls-exporter");
            named = true;
        } else if (m["name"] == "SCRAM-SHA-256") {
            CHECK(m["authentication"]["channel_binding"].is_null());
        }
    }
    CHECK(named);
    CHECK(p.text.find(password) == std::string::npos);
    CHECK(p.transcript.find(smtp::base64_encode(password)) == std::string::npos);
}

TEST_CASE("SCRAM-*-PLUS authenticates bound to TLS 1.2 with tls-unique", "[engine][auth][sasl]") {
    for (std::string const tls : {"starttls", "implicit"}) {
        INFO(tls);
        Emulated server = Emulated::inline_profile(plus_profile(tls, "1.2"));
        Setup o = server.options();
        o.options.credentials = sasl::Credentials{user, password, ""};
        Probed p = probe(o);
        MechanismRow const& m = row(p.report, "SCRAM-SHA-256-PLUS");
        CHECK(m.authentication.status == Status::accepted);
        CHECK(m.authentication.server_verified);
        CHECK(m.authentication.channel_binding == sasl::ChannelBinding::Type::tls_unique);
    }
}

TEST_CASE("SCRAM-*-PLUS with a wrong password is refused, named as such", "[engine][auth][sasl]") {
    Emulated server = Emulated::inline_profile(plus_profile());
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, "wrong-password-456", ""};
    Probed p = probe(o);
    MechanismRow const& m = row(p.report, "SCRAM-SHA-256-PLUS");
    CHECK(m.authentication.status == Status::rejected);
    CHECK(m.authentication.reply->code == 535);
    CHECK(m.authentication.reason == "credentials rejected");
}

TEST_CASE("SCRAM-*-PLUS on a plaintext server cannot be tried, and says why",
          "[engine][auth][sasl]") {
    Emulated server = Emulated::inline_profile(plus_profile("none"));
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, password, ""};
    o.options.allow_insecure_auth = true;
    Probed p = probe(o);
    MechanismRow const& plus = row(p.report, "SCRAM-SHA-256-PLUS");
    CHECK(plus.authentication.status == Status::skipped);
    CHECK(plus.authentication.reason.find("no TLS session") != std::string::npos);
    // The same credentials work without the binding, so the row above is about the channel.
    CHECK(row(p.report, "SCRAM-SHA-256").authentication.status == Status::accepted);
}
