// DIGEST-MD5, NTLM (NTLMv2) and ANONYMOUS with credentials, end to end against the emulator:
// success, a wrong password, a server whose proof is wrong, a server that leaves only NTLMv1.

#include "engine/probe.hpp"
#include "report/auth_verdict.hpp"

#include "sasl/ntlm.hpp"
#include "sasl/ntlm_auth.hpp"
#include "sasl/scram.hpp" // detail::to_hex
#include "smtp/base64.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe;
using namespace smtpprobe::test;

namespace {

std::string const user = "EXAMPLE\\dana";
std::string const password = "sasl-exchange-password-not-real";

nlohmann::json three_mechanisms(nlohmann::json auth_extra = nlohmann::json::object()) {
    nlohmann::json auth = {
        {"mechanisms", {"DIGEST-MD5", "NTLM", "ANONYMOUS", "PLAIN"}},
        {"accounts", {{{"user", user}, {"password", password}}}},
    };
    auth.update(auth_extra);
    return {
        {"name", "three-mechanisms"},
        {"hostname", "mx.example.test"},
        {"tls", "starttls"},
        {"ehlo",
         {{"before_tls", {"STARTTLS"}}, {"after_tls", {"AUTH DIGEST-MD5 NTLM ANONYMOUS PLAIN"}}}},
        {"auth", auth}};
}

/// The password and every password equivalent these mechanisms derive, in every form.
void require_no_secret(Probed const& p, std::string const& secret, std::string const& account) {
    sasl::ntlm::Identity const id = sasl::ntlm::split_identity(account);
    std::string const nt = sasl::ntlm::nt_hash(secret);
    std::string const owf = sasl::ntlm::ntowfv2(secret, id.user, id.domain);
    for (std::string const& form :
         {secret, smtp::base64_encode(secret), sasl::detail::to_hex(nt), smtp::base64_encode(nt),
          sasl::detail::to_hex(owf), smtp::base64_encode(owf)}) {
        for (std::string const* output : {&p.text, &p.json, &p.transcript}) {
            INFO(form);
            CHECK(output->find(form) == std::string::npos);
        }
    }
}

/// The lines one connection sent, from its "AUTH <mechanism>" on, without the "cN: " prefix.
std::vector<std::string> lines_from(std::vector<std::string> const& received,
                                    std::string const& command) {
    std::vector<std::string> out;
    std::string prefix;
    for (std::string const& line : received) {
        if (prefix.empty() && line.ends_with(": " + command))
            prefix = line.substr(0, line.size() - command.size());
        if (!prefix.empty() && line.starts_with(prefix))
            out.push_back(line.substr(prefix.size()));
    }
    return out;
}

} // namespace

TEST_CASE("DIGEST-MD5, NTLM and ANONYMOUS run real exchanges with the right credentials",
          "[engine][auth][sasl]") {
    Emulated server = Emulated::inline_profile(three_mechanisms());
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, password, ""};
    Probed p = probe(o);
    MechanismRow const& digest = row(p.report, "DIGEST-MD5");
    CHECK(digest.authentication.status == Status::accepted);
    CHECK(digest.authentication.reply->code == 235);
    CHECK(digest.authentication.server_verified); // rspauth checked
    MechanismRow const& ntlm = row(p.report, "NTLM");
    CHECK(ntlm.authentication.status == Status::accepted);
    CHECK(ntlm.authentication.reply->code == 235);
    // The CHALLENGE of the real exchange is decoded as the information probe would.
    REQUIRE(ntlm.recognition.ntlm);
    REQUIRE(ntlm.recognition.ntlm->challenge);
    CHECK(ntlm.recognition.ntlm->challenge->target_name == std::optional<std::string>("EXAMPLE"));
    MechanismRow const& anonymous = row(p.report, "ANONYMOUS");
    CHECK(anonymous.authentication.status == Status::accepted);
    CHECK(has_finding(p.verdict, "auth.anonymous_login"));
    REQUIRE(has_finding(p.verdict, "auth.credentials_accepted"));
    std::string const& accepted = finding(p.verdict, "auth.credentials_accepted").title;
    CHECK(accepted.find("DIGEST-MD5") != std::string::npos);
    CHECK(accepted.find("NTLM") != std::string::npos);
    CHECK(accepted.find("ANONYMOUS") == std::string::npos); // no credential was tested by it
    CHECK_FALSE(has_finding(p.verdict, "auth.server_proof_mismatch"));
    // The trace is no secret: the transcript shows it.
    CHECK(p.transcript.find(smtp::base64_encode("smtpprobe")) != std::string::npos);
    require_no_secret(p, password, user);
    // Every response the server received is redacted from the outputs.
    for (char const* command : {"AUTH DIGEST-MD5", "AUTH NTLM"}) {
        std::vector<std::string> const lines = lines_from(server.server().received(), command);
        std::size_t responses = 0;
        for (std::string const& line : lines) {
            // The response that carries the credentials (DIGEST-MD5's first, NTLM's second).
            if (line.size() < 100)
                continue;
            ++responses;
            INFO(line);
            CHECK(p.transcript.find(line) == std::string::npos);
            CHECK(p.text.find(line) == std::string::npos);
            CHECK(p.json.find(line) == std::string::npos);
            // The nonce-dependent values inside it, alone: DIGEST-MD5's response= value, the
            // NTLMv2 NTProofStr and NtChallengeResponse, in hex and base64.
            std::optional<std::string> const raw = smtp::base64_decode(line);
            REQUIRE(raw);
            std::vector<std::string> values;
            if (std::size_t const at = raw->find("response="); at != std::string::npos)
                values.push_back(raw->substr(at + 9, 32));
            if (sasl::ntlm::AuthenticateResult const a = sasl::ntlm::decode_authenticate(*raw);
                a.message) {
                values.push_back(sasl::detail::to_hex(a.message->nt_response.substr(0, 16)));
                values.push_back(sasl::detail::to_hex(a.message->nt_response));
                values.push_back(smtp::base64_encode(a.message->nt_response));
            }
            CHECK(values.size() == (std::string(command) == "AUTH NTLM" ? 3U : 1U));
            for (std::string const& value : values) {
                INFO(value);
                for (std::string const& form : {value, smtp::base64_encode(value)})
                    for (std::string const* output : {&p.text, &p.json, &p.transcript})
                        CHECK(output->find(form) == std::string::npos);
            }
        }
        CHECK(responses == 1);
    }
}

TEST_CASE("a wrong password is refused by DIGEST-MD5 and NTLM, named as such",
          "[engine][auth][sasl]") {
    Emulated server = Emulated::inline_profile(three_mechanisms());
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, "wrong-password-123", ""};
    Probed p = probe(o);
    for (char const* name : {"DIGEST-MD5", "NTLM", "PLAIN"}) {
        INFO(name);
        MechanismRow const& m = row(p.report, name);
        CHECK(m.recognition.status == Status::recognised);
        CHECK(m.authentication.status == Status::rejected);
        CHECK(m.authentication.reply->code == 535);
        CHECK(m.authentication.reason == "credentials rejected");
        CHECK_FALSE(m.authentication.server_verified);
    }
    CHECK(has_finding(p.verdict, "auth.credentials_rejected"));
    CHECK(p.verdict.exit_code == exit_code::problems);
    require_no_secret(p, "wrong-password-123", user);
}

TEST_CASE("a DIGEST-MD5 server whose rspauth is wrong is a finding", "[engine][auth][sasl]") {
    // A scripted server that accepts anything and answers with an rspauth it cannot have
    // computed: what a relay without the password would do.
    std::string const challenge = "realm=\"mx.example.test\",nonce=\"fixed-nonce-1\",qop=\"auth\","
                                  "charset=utf-8,algorithm=md5-sess";
    nlohmann::json const extra = {
        {"challenges",
         {{"DIGEST-MD5",
           {"334 " + smtp::base64_encode(challenge),
            "334 " + smtp::base64_encode("rspauth=0123456789abcdef0123456789abcdef")}}}},
        {"first_replies", {{"DIGEST-MD5", "334 " + smtp::base64_encode(challenge)}}},
        {"final_replies", {{"DIGEST-MD5", "235 2.7.0 Authentication successful"}}},
    };
    nlohmann::json profile = three_mechanisms(extra);
    profile["auth"]["challenges"]["DIGEST-MD5"].erase(0); // the first one is the first reply
    Emulated server = Emulated::inline_profile(profile);
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, password, ""};
    Probed p = probe(o);
    MechanismRow const& digest = row(p.report, "DIGEST-MD5");
    CHECK(digest.authentication.status == Status::error);
    CHECK(digest.authentication.problem == sasl::ClientStep::Problem::server_proof_mismatch);
    CHECK(digest.authentication.reply->code == 501); // cancelled with "*"
    REQUIRE(has_finding(p.verdict, "auth.server_proof_mismatch"));
    CHECK(finding(p.verdict, "auth.server_proof_mismatch").severity == Severity::error);
    CHECK(p.verdict.exit_code == exit_code::problems);
    require_no_secret(p, password, user);
}

TEST_CASE("a server whose NTLM CHALLENGE has no TargetInfo gets NTLMv2 all the same: refused, "
          "it is a finding (it may want NTLMv1)",
          "[engine][auth][sasl]") {
    // Shaped like Cyrus SASL's ntlm plugin (tests/integration, exim-cyrus): no TargetInfo.
    sasl::ntlm::Challenge legacy;
    legacy.flags = sasl::ntlm::flag::negotiate_unicode | sasl::ntlm::flag::negotiate_ntlm |
                   sasl::ntlm::flag::request_target;
    legacy.server_challenge = {1, 2, 3, 4, 5, 6, 7, 8};
    legacy.target_name = "OLDDOMAIN";
    nlohmann::json const extra = {
        {"ntlm_challenge", smtp::base64_encode(sasl::ntlm::encode_challenge(legacy))}};
    for (auto const& [typed, want] : {std::pair{password, Status::accepted},
                                      std::pair{std::string("wrong-password"), Status::rejected}}) {
        INFO(typed);
        Emulated server = Emulated::inline_profile(three_mechanisms(extra));
        Setup o = server.options();
        o.options.credentials = sasl::Credentials{user, typed, ""};
        Probed p = probe(o);
        MechanismRow const& ntlm = row(p.report, "NTLM");
        CHECK(ntlm.authentication.status == want);
        CHECK(ntlm.authentication.problem == sasl::ClientStep::Problem::none);
        CHECK(has_finding(p.verdict, "auth.ntlm_v1_only") == (want == Status::rejected));
        // The NEGOTIATE, then an NTLMv2 AUTHENTICATE (NtChallengeResponse longer than 24 bytes).
        std::vector<std::string> const lines = lines_from(server.server().received(), "AUTH NTLM");
        REQUIRE(lines.size() >= 3);
        CHECK(smtp::base64_decode(lines[1]) ==
              std::optional<std::string>(sasl::ntlm::negotiate_message()));
        std::optional<std::string> const sent = smtp::base64_decode(lines[2]);
        REQUIRE(sent);
        sasl::ntlm::AuthenticateResult const m = sasl::ntlm::decode_authenticate(*sent);
        REQUIRE(m.message);
        CHECK(m.message->nt_response.size() > 24);
        require_no_secret(p, typed, user);
    }
}

TEST_CASE(
    "exchange-legacy: NTLM with a domain account authenticates, a wrong password gets 535 5.7.3",
    "[engine][auth][sasl][legacy]") {
    Emulated server = Emulated::sample("exchange-legacy");
    Setup o = server.options();
    o.options.credentials =
        sasl::Credentials{"EXAMPLE\\legacy-user", "exchange-test-password-not-real", ""};
    Probed p = probe(o);
    MechanismRow const& ntlm = row(p.report, "NTLM");
    CHECK(ntlm.authentication.status == Status::accepted);
    CHECK(ntlm.authentication.reply->code == 235);
    CHECK(row(p.report, "LOGIN").authentication.status == Status::accepted);
    REQUIRE(ntlm.recognition.ntlm);
    CHECK(has_finding(p.verdict, "auth.ntlm_information"));
    require_no_secret(p, "exchange-test-password-not-real", "EXAMPLE\\legacy-user");

    o.options.credentials = sasl::Credentials{"EXAMPLE\\legacy-user", "wrong-password-123", ""};
    Probed wrong = probe(o);
    MechanismRow const& refused = row(wrong.report, "NTLM");
    CHECK(refused.authentication.status == Status::rejected);
    CHECK(refused.authentication.reply->code == 535);
    CHECK(refused.authentication.reply->enhanced() == "5.7.3");
}

TEST_CASE("an independent NTLMv2 client (Perl's Authen::NTLM) gets 235 and 535 from the emulator",
          "[engine][auth][sasl][ntlm]") {
    if (run_command("perl -MAuthen::NTLM -e 1").exit_code != 0) {
        WARN("Authen::NTLM is not installed (libauthen-ntlm-perl): the second opinion did not run");
        return;
    }
    // 18 characters: Authen::NTLM's own MD4 (Authen::NTLM::MD4) gives wrong digests for inputs
    // of 56 to 63 bytes, i.e. passwords of 28 to 31 characters in UTF-16 (checked against
    // OpenSSL's MD4); its NT hash is then wrong, not the server's check.
    std::string const perl_password = "perl-ntlm-check-pw";
    nlohmann::json profile = three_mechanisms();
    profile["auth"]["mechanisms_before_tls"] = {"NTLM"}; // the Perl client speaks no TLS
    profile["auth"]["accounts"] = {{{"user", "EXAMPLE\\perl-user"}, {"password", perl_password}}};
    Emulated server = Emulated::inline_profile(profile);
    std::string const script = "perl " + source_path("tests/engine/ntlm_perl_client.pl") + " " +
                               std::to_string(server.options().target.port) + " EXAMPLE perl-user ";
    CommandResult const right = run_command(script + perl_password);
    INFO(right.err);
    CHECK(right.out == "235 2.7.0 Authentication successful\n");
    CommandResult const wrong = run_command(script + "wrong-password-123");
    CHECK(wrong.out.starts_with("535 "));
}

namespace {

/// Every mechanism smtpprobe runs, offered by one server; GSSAPI and EXTERNAL are not.
nlohmann::json every_mechanism() {
    std::vector<std::string> const offered = {
        "PLAIN",         "LOGIN",   "CRAM-MD5",    "DIGEST-MD5", "SCRAM-SHA-1",
        "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER", "NTLM",       "ANONYMOUS"};
    std::string ehlo = "AUTH";
    for (std::string const& name : offered)
        ehlo += " " + name;
    return {{"name", "every-mechanism"},
            {"hostname", "mx.example.test"},
            {"tls", "starttls"},
            {"ehlo", {{"before_tls", {"STARTTLS"}}, {"after_tls", {ehlo}}}},
            {"auth",
             {{"mechanisms", offered},
              {"accounts",
               {{{"user", user}, {"password", password}},
                {{"user", "token-user@example.test"}, {"token", "token-not-real-123"}}}}}}};
}

/// The text report's matrix line of `name` ("  NAME  ...").
std::string matrix_line(std::string const& text, std::string const& name) {
    std::string const start = "\n  " + name + " ";
    std::size_t const at = text.find(start);
    if (at == std::string::npos)
        return {};
    return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

struct Expected {
    char const* name;
    AuthVerdict verdict;
};

void check_rows(Probed const& p, std::vector<Expected> const& expected) {
    nlohmann::json const doc = nlohmann::json::parse(p.json);
    for (Expected const& e : expected) {
        INFO(e.name);
        MechanismRow const& m = row(p.report, e.name);
        CHECK(auth_verdict(m) == e.verdict);
        // Never a bare failure: a row that could not be tried says why.
        if (e.verdict == AuthVerdict::cannot_try)
            CHECK_FALSE(m.authentication.reason.empty());
        CHECK(m.authentication.status != Status::error);
        bool found = false;
        for (nlohmann::json const& j : doc["mechanisms"]) {
            if (j["name"] != e.name)
                continue;
            found = true;
            CHECK(j["authentication"]["verdict"] == std::string(to_string(e.verdict)));
            CHECK(j["authentication"]["problem"].is_null());
        }
        CHECK(found);
        std::string const line = matrix_line(p.text, e.name);
        INFO(line);
        char const* const word =
            e.verdict == AuthVerdict::accepted                  ? " yes "
            : e.verdict == AuthVerdict::credentials_refused     ? " credentials refused "
            : e.verdict == AuthVerdict::mechanism_not_supported ? " not supported "
                                                                : " cannot try ";
        CHECK(line.find(word) != std::string::npos);
    }
}

} // namespace

TEST_CASE("every mechanism with a wrong password, an unknown user, a wrong token, and mechanisms "
          "the server does not offer: credentials refused, mechanism not supported or cannot "
          "try (why), in text and JSON",
          "[engine][auth][sasl]") {
    Emulated server = Emulated::inline_profile(every_mechanism());
    Setup o = server.options();
    auto const a = AuthVerdict::accepted;
    auto const refused = AuthVerdict::credentials_refused;
    auto const token_refused = AuthVerdict::token_refused;
    auto const unsupported = AuthVerdict::mechanism_not_supported;
    auto const cannot = AuthVerdict::cannot_try;
    std::vector<Expected> const not_offered = {{"GSSAPI", unsupported},
                                               {"EXTERNAL", unsupported},
                                               {"SCRAM-SHA-1-PLUS", unsupported},
                                               {"SCRAM-SHA-256-PLUS", unsupported}};
    std::vector<Expected> password_refused = {
        {"PLAIN", refused},      {"LOGIN", refused},       {"CRAM-MD5", refused},
        {"DIGEST-MD5", refused}, {"SCRAM-SHA-1", refused}, {"SCRAM-SHA-256", refused},
        {"NTLM", refused},       {"ANONYMOUS", a},         // no secret: anyone may
        {"XOAUTH2", cannot},     {"OAUTHBEARER", cannot}}; // no token given
    password_refused.insert(password_refused.end(), not_offered.begin(), not_offered.end());

    SECTION("a wrong password") {
        o.options.credentials = sasl::Credentials{user, "wrong-password-123", ""};
        Probed const p = probe(o);
        check_rows(p, password_refused);
        require_no_secret(p, "wrong-password-123", user);
    }
    SECTION("an unknown user") {
        o.options.credentials = sasl::Credentials{"EXAMPLE\\nobody", password, ""};
        Probed const p = probe(o);
        check_rows(p, password_refused);
        require_no_secret(p, password, "EXAMPLE\\nobody");
    }
    SECTION("a wrong token, and no password") {
        o.options.credentials = sasl::Credentials{"token-user@example.test", "", "wrong-token-456"};
        Probed const p = probe(o);
        std::vector<Expected> expected = {
            {"XOAUTH2", token_refused}, {"OAUTHBEARER", token_refused},
            {"PLAIN", cannot},          {"LOGIN", cannot},
            {"CRAM-MD5", cannot},       {"DIGEST-MD5", cannot},
            {"SCRAM-SHA-1", cannot},    {"SCRAM-SHA-256", cannot},
            {"NTLM", cannot},           {"ANONYMOUS", a}};
        expected.insert(expected.end(), not_offered.begin(), not_offered.end());
        check_rows(p, expected);
    }
    SECTION("the right password: accepted where it applies") {
        o.options.credentials = sasl::Credentials{user, password, ""};
        Probed const p = probe(o);
        check_rows(p, {{"PLAIN", a},
                       {"LOGIN", a},
                       {"CRAM-MD5", a},
                       {"DIGEST-MD5", a},
                       {"SCRAM-SHA-1", a},
                       {"SCRAM-SHA-256", a},
                       {"NTLM", a},
                       {"ANONYMOUS", a},
                       {"GSSAPI", unsupported}});
    }
}

TEST_CASE("the JSON row names the server's fault that ended the exchange (authentication.problem)",
          "[engine][auth][sasl]") {
    // A DIGEST-MD5 server that cannot know the password: its rspauth is wrong.
    std::string const challenge = "realm=\"mx.example.test\",nonce=\"fixed-nonce-2\",qop=\"auth\","
                                  "charset=utf-8,algorithm=md5-sess";
    nlohmann::json const extra = {
        {"challenges",
         {{"DIGEST-MD5",
           {"334 " + smtp::base64_encode("rspauth=0123456789abcdef0123456789abcdef")}}}},
        {"first_replies", {{"DIGEST-MD5", "334 " + smtp::base64_encode(challenge)}}},
        {"final_replies", {{"DIGEST-MD5", "235 2.7.0 Authentication successful"}}},
    };
    Emulated server = Emulated::inline_profile(three_mechanisms(extra));
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, password, ""};
    Probed const p = probe(o);
    nlohmann::json const doc = nlohmann::json::parse(p.json);
    bool found = false;
    for (nlohmann::json const& j : doc["mechanisms"]) {
        if (j["name"] == "DIGEST-MD5") {
            found = true;
            CHECK(j["authentication"]["problem"] == "server_proof_mismatch");
            CHECK(j["authentication"]["verdict"] == "cannot_try");
            CHECK(j["authentication"]["reason"].get<std::string>().find("rspauth") !=
                  std::string::npos);
        } else {
            CHECK(j["authentication"]["problem"].is_null());
        }
    }
    CHECK(found);
    CHECK(matrix_line(p.text, "DIGEST-MD5").find(" cannot try ") != std::string::npos);
}

TEST_CASE("credentials neither accepted nor refused (a 454 after them): cannot try, with the "
          "server's answer as the reason, and a finding",
          "[engine][auth][sasl]") {
    // A server whose PLAIN back end fails temporarily where it would refuse.
    nlohmann::json const extra = {
        {"failure_replies", {{"PLAIN", "454 4.7.0 Temporary authentication failure"}}}};
    Emulated server = Emulated::inline_profile(three_mechanisms(extra));
    Setup o = server.options();
    o.options.credentials = sasl::Credentials{user, "wrong-password-123", ""};
    Probed const p = probe(o);
    MechanismRow const& plain = row(p.report, "PLAIN");
    CHECK(plain.authentication.status == Status::temporary_failure);
    CHECK(auth_verdict(plain) == AuthVerdict::cannot_try);
    CHECK(plain.authentication.reason ==
          "the server answered 454 (a temporary failure) after the credentials");
    REQUIRE(has_finding(p.verdict, "auth.credentials_not_tried"));
    Finding const& f = finding(p.verdict, "auth.credentials_not_tried");
    CHECK(f.title == "The credentials could not be tried with PLAIN");
    CHECK(f.severity == Severity::warning);
    CHECK(matrix_line(p.text, "PLAIN").find(" cannot try ") != std::string::npos);
    CHECK(matrix_line(p.text, "PLAIN").find("454 4.7.0") != std::string::npos);
    CHECK(auth_verdict(row(p.report, "NTLM")) == AuthVerdict::credentials_refused);
    require_no_secret(p, "wrong-password-123", user);
}
