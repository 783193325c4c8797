// The plan and the credential policy are pure: tested here without sockets or servers.

#include "engine/connector.hpp"
#include "engine/plan.hpp"
#include "sasl/mechanisms.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace smtpprobe;
using engine::Plan;
using engine::PlanInput;
using engine::Task;

namespace {

std::vector<Task> drain(Plan& plan) {
    std::vector<Task> out;
    for (int i = 0; i < 1000; ++i) {
        std::optional<Task> t = plan.next();
        if (!t)
            break;
        out.push_back(*t);
    }
    return out;
}

std::vector<std::string> names(Plan const& plan) {
    std::vector<std::string> out;
    for (MechanismRow const& r : plan.rows())
        out.push_back(r.name);
    return out;
}

} // namespace

TEST_CASE("the plan without options is the catalogue, in order, all recognitions", "[unit][plan]") {
    Plan plan(PlanInput{});
    REQUIRE(plan.rows().size() == sasl::catalogue().size());
    for (std::size_t i = 0; i < plan.rows().size(); ++i) {
        CHECK(plan.rows()[i].name == sasl::catalogue()[i].name);
        CHECK(plan.rows()[i].catalogue);
        // EXTERNAL's credential is a client certificate, not the credentials.
        CHECK(plan.rows()[i].authentication.reason ==
              (plan.rows()[i].name == "EXTERNAL"
                   ? "cannot try (no client certificate: --cert/--key)"
                   : "no credentials given"));
    }
    std::vector<Task> const tasks = drain(plan);
    REQUIRE(tasks.size() == plan.rows().size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        CHECK(tasks[i].row == i);
        CHECK_FALSE(tasks[i].authenticate);
    }
    CHECK_FALSE(plan.advertised_added());
}

TEST_CASE("with a password the credential exchanges come first, tokens need a token",
          "[unit][plan]") {
    Plan plan(PlanInput{{}, true, true, false});
    std::vector<Task> const tasks = drain(plan);
    std::vector<std::string> first;
    for (Task const& t : tasks)
        if (t.authenticate)
            first.push_back(plan.rows()[t.row].name);
    // ANONYMOUS needs no secret: it runs whenever credentials are given.
    CHECK(first == std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5",
                                            "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
                                            "SCRAM-SHA-256-PLUS", "NTLM", "GSSAPI", "ANONYMOUS"});
    // Every exchange is ahead of every recognition.
    auto const last_auth =
        std::find_if(tasks.rbegin(), tasks.rend(), [](Task const& t) { return t.authenticate; });
    auto const first_recognition =
        std::find_if(tasks.begin(), tasks.end(), [](Task const& t) { return !t.authenticate; });
    CHECK(std::distance(tasks.begin(), first_recognition) ==
          std::distance(last_auth, tasks.rend()));
    auto row = [&](std::string const& name) -> MechanismRow const& {
        return *std::find_if(plan.rows().begin(), plan.rows().end(),
                             [&](MechanismRow const& r) { return r.name == name; });
    };
    CHECK(row("XOAUTH2").authentication.reason.find("no OAuth token") == 0);
    CHECK(row("EXTERNAL").authentication.cannot_try);
}

TEST_CASE("GSSAPI runs with a user and no password: the caller's ticket cache serves",
          "[unit][plan]") {
    Plan plan(PlanInput{{}, true, false, false});
    std::vector<std::string> first;
    for (Task const& t : drain(plan))
        if (t.authenticate)
            first.push_back(plan.rows()[t.row].name);
    CHECK(first == std::vector<std::string>{"GSSAPI", "ANONYMOUS"});
}

TEST_CASE("a client certificate alone runs EXTERNAL, with or without a user", "[unit][plan]") {
    for (bool const user : {false, true}) {
        INFO("user " << user);
        PlanInput in;
        in.credentials = user;
        in.password = user;
        in.certificate = true;
        Plan plan(in);
        std::vector<std::string> exchanges;
        for (Task const& t : drain(plan))
            if (t.authenticate)
                exchanges.push_back(plan.rows()[t.row].name);
        CHECK(std::count(exchanges.begin(), exchanges.end(), "EXTERNAL") == 1);
        // With a password: the ten password and ticket exchanges, ANONYMOUS and EXTERNAL.
        CHECK(exchanges.size() == (user ? 12u : 1u));
        for (MechanismRow const& r : plan.rows())
            CHECK_FALSE(r.authentication.cannot_try);
    }
}

TEST_CASE("advertised mechanisms are added once, well-formed and bounded", "[unit][plan]") {
    Plan plan(PlanInput{});
    drain(plan);
    std::vector<std::string> advertised = {"login", "X-ONE", "bad name",
                                           "",      "X-ONE", std::string(21, 'A')};
    CHECK(plan.add_advertised(advertised));
    CHECK(plan.advertised_added());
    std::vector<std::string> const after = names(plan);
    CHECK(after.size() == sasl::catalogue().size() + 1);
    CHECK(after.back() == "X-ONE");
    std::vector<Task> const tasks = drain(plan);
    REQUIRE(tasks.size() == 1);
    CHECK(tasks.front().row == after.size() - 1);
    // Once per run: a second connection's list adds nothing.
    CHECK(plan.add_advertised({"X-TWO"}));
    CHECK(names(plan) == after);

    Plan hostile(PlanInput{});
    std::vector<std::string> many;
    for (int i = 0; i < 300; ++i)
        many.push_back("X-" + std::to_string(i));
    CHECK_FALSE(hostile.add_advertised(many));
    CHECK(hostile.rows().size() == sasl::catalogue().size() + Plan::max_extra_mechanisms);
}

TEST_CASE("chosen mechanisms are the rows, upper-cased, deduplicated, with no extras",
          "[unit][plan]") {
    Plan plan(PlanInput{{"login", "X-CUSTOM", "LOGIN"}, false, false, false});
    CHECK(names(plan) == std::vector<std::string>{"LOGIN", "X-CUSTOM"});
    CHECK_FALSE(plan.rows()[1].catalogue);
    CHECK(plan.advertised_added());
    CHECK(plan.add_advertised({"PLAIN"}));
    CHECK(plan.rows().size() == 2);
    std::optional<Task> t = plan.next();
    REQUIRE(t);
    plan.put_back(*t);
    CHECK(plan.next()->row == t->row);
}

TEST_CASE("the credential policy sends only over verified TLS unless allowed", "[unit][plan]") {
    using Decision = engine::CredentialPolicy::Decision;
    engine::CredentialPolicy p = engine::credential_policy(std::nullopt, false);
    CHECK(p.decision == Decision::withheld);
    CHECK(p.reason == Withheld::plaintext);
    CHECK(p.text == "not sending credentials over an unencrypted connection");

    net::TlsInfo tls;
    tls.chain_verified = false;
    tls.verify_error = "self-signed certificate";
    p = engine::credential_policy(tls, false);
    CHECK(p.reason == Withheld::unverified_chain);
    CHECK(p.text.find("self-signed certificate") != std::string::npos);

    tls.chain_verified = true;
    tls.host_verified = false;
    tls.verify_name = "mail.example.test";
    p = engine::credential_policy(tls, false);
    CHECK(p.reason == Withheld::wrong_host);
    CHECK(p.text.find("mail.example.test") != std::string::npos);
    p = engine::credential_policy(tls, true);
    CHECK(p.decision == Decision::send); // --allow-insecure-auth, and the reason stays known
    CHECK(p.reason == Withheld::wrong_host);

    tls.host_verified = true;
    p = engine::credential_policy(tls, false);
    CHECK(p.decision == Decision::send);
    CHECK(p.reason == Withheld::no);
    CHECK(p.text.empty());
}
