#include "diagnose/clients.hpp"
#include "diagnose/status_codes.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#ifndef SMTPPROBE_SOURCE_DIR
#error "the test build must define SMTPPROBE_SOURCE_DIR (the source tree root)"
#endif

using smtpprobe::diagnose::ClientVerdict;
using smtpprobe::diagnose::CodeQuery;
using smtpprobe::diagnose::Meaning;
using smtpprobe::diagnose::ServerAuthView;
using Outcome = ClientVerdict::Outcome;

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// The meanings whose subject is `subject` and whose source mentions `source`.
std::vector<Meaning> find(std::vector<Meaning> const& meanings, std::string_view subject,
                          std::string_view source) {
    std::vector<Meaning> out;
    for (Meaning const& meaning : meanings) {
        if (meaning.subject == subject && contains(meaning.source, source)) {
            out.push_back(meaning);
        }
    }
    return out;
}

bool any_text(std::vector<Meaning> const& meanings, std::string_view needle) {
    return std::any_of(meanings.begin(), meanings.end(),
                       [&](Meaning const& m) { return contains(m.text, needle); });
}

ClientVerdict const& verdict_for(std::vector<ClientVerdict> const& verdicts,
                                 std::string_view client) {
    auto const it = std::find_if(verdicts.begin(), verdicts.end(),
                                 [&](ClientVerdict const& v) { return v.client == client; });
    REQUIRE(it != verdicts.end());
    return *it;
}

// Azure Communication Services as smtp-facts.md §3.1 describes it: LOGIN only, after STARTTLS.
ServerAuthView acs_view() {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_after_tls = {"LOGIN"};
    view.first_reply = {{"PLAIN", 504}, {"LOGIN", 334}, {"CRAM-MD5", 504}, {"XOAUTH2", 504}};
    view.login_prompt = "Username:";
    return view;
}

} // namespace

TEST_CASE("explain: 504 5.7.4 gives RFC, registry and Exchange meanings", "[unit][diagnose]") {
    std::vector<Meaning> const meanings = smtpprobe::diagnose::explain(504, "5.7.4");

    REQUIRE(find(meanings, "504", "RFC 5321 §4.2.3").size() == 1);
    std::vector<Meaning> const auth = find(meanings, "504", "RFC 4954");
    REQUIRE(auth.size() == 1);
    CHECK(contains(auth[0].advice, "configure the client to use one the server recognises"));

    std::vector<Meaning> const cls = find(meanings, "5.X.X", "RFC 3463");
    REQUIRE(cls.size() == 1);
    CHECK(contains(cls[0].text, "permanent"));

    std::vector<Meaning> const registry = find(meanings, "X.7.4", "IANA");
    REQUIRE(registry.size() == 1);
    CHECK(contains(registry[0].text, "Security features not supported"));
    CHECK(registry[0].source == "IANA SMTP Enhanced Status Codes (RFC 3463)");

    // No hint: Exchange's well-known use is still shown, marked.
    std::vector<Meaning> const vendor = find(meanings, "5.7.4", "Microsoft");
    REQUIRE(vendor.size() == 1);
    CHECK(vendor[0].text.starts_with("(vendor meaning)"));
    CHECK(contains(vendor[0].text, "Unrecognized authentication type"));

    // Order: reply code first, vendor overlay last.
    CHECK(meanings.front().subject == "504");
    CHECK(meanings.back().subject == "5.7.4");
}

TEST_CASE("explain: 535 5.7.3 with a Microsoft hint", "[unit][diagnose]") {
    for (std::string_view hint : {"smtp.office365.com", "220 host Microsoft ESMTP MAIL Service"}) {
        CAPTURE(hint);
        std::vector<Meaning> const meanings = smtpprobe::diagnose::explain(535, "5.7.3", hint);
        std::vector<Meaning> const auth = find(meanings, "535", "RFC 4954 §6");
        REQUIRE(auth.size() == 1);
        CHECK(contains(auth[0].text, "credentials invalid"));
        CHECK(find(meanings, "X.7.3", "IANA").size() == 1);

        std::vector<Meaning> const vendor = find(meanings, "5.7.3", "Microsoft (Exchange Online)");
        REQUIRE(vendor.size() == 1); // the 451 "STARTTLS is required" use does not apply
        CHECK(contains(vendor[0].text, "Authentication unsuccessful"));
        CHECK_FALSE(contains(vendor[0].text, "(vendor meaning)"));
    }
}

TEST_CASE("explain: 451 5.7.3 from Microsoft is STARTTLS required", "[unit][diagnose]") {
    std::vector<Meaning> const meanings =
        smtpprobe::diagnose::explain(451, "5.7.3", "smtp.office365.com");
    std::vector<Meaning> const vendor = find(meanings, "5.7.3", "Microsoft");
    REQUIRE(vendor.size() == 1);
    CHECK(contains(vendor[0].text, "STARTTLS is required"));
}

TEST_CASE("explain: 535 5.7.3 from Azure Communication Services", "[unit][diagnose]") {
    std::vector<Meaning> const meanings =
        smtpprobe::diagnose::explain(535, "5.7.3", "smtp.azurecomm.net");
    std::vector<Meaning> const acs = find(meanings, "5.7.3", "Azure Communication Services");
    REQUIRE(acs.size() == 1);
    CHECK(contains(acs[0].text, "UNVERIFIED"));
    CHECK(contains(acs[0].advice, "client secret"));
    CHECK(contains(acs[0].advice, "Communication and Email Service Owner"));
    // Exchange Online's meaning is shown too, but marked: ACS's use of it is not documented.
    std::vector<Meaning> const exchange = find(meanings, "5.7.3", "Exchange Online");
    REQUIRE(exchange.size() == 1);
    CHECK(exchange[0].text.starts_with("(vendor meaning)"));
}

TEST_CASE("explain: 5.7.139 is Microsoft's, with or without a hint", "[unit][diagnose]") {
    std::vector<Meaning> const bare = smtpprobe::diagnose::explain(0, "5.7.139");
    CHECK(find(bare, "5.X.X", "RFC 3463").size() == 1);
    std::vector<Meaning> const subject = find(bare, "X.7.X", "RFC 3463");
    REQUIRE(subject.size() == 1);
    CHECK(contains(subject[0].text, "not in the IANA registry"));
    std::vector<Meaning> const vendor = find(bare, "5.7.139", "Microsoft (Exchange Online)");
    REQUIRE(vendor.size() == 1);
    CHECK(vendor[0].text.starts_with("(vendor meaning)"));
    CHECK(contains(vendor[0].text, "disabled for the tenant or for the mailbox"));
    // Settled by Microsoft's support article and the issue threads (smtp-facts-additions §3.2).
    CHECK_FALSE(contains(vendor[0].text, "UNVERIFIED"));
    CHECK(contains(vendor[0].text, "security defaults"));
    CHECK(contains(vendor[0].advice, "Set-CASMailbox"));

    std::vector<Meaning> const hinted =
        smtpprobe::diagnose::explain(535, "5.7.139", "smtp.office365.com");
    std::vector<Meaning> const exact = find(hinted, "5.7.139", "Microsoft");
    REQUIRE(exact.size() == 1);
    CHECK_FALSE(contains(exact[0].text, "(vendor meaning)"));

    // A hint naming another vendor suppresses Microsoft's meaning.
    CHECK(
        find(smtpprobe::diagnose::explain(535, "5.7.139", "smtp.gmail.com"), "5.7.139", "Microsoft")
            .empty());
}

TEST_CASE("explain: Microsoft 5.7.30 and 5.7.57", "[unit][diagnose]") {
    std::vector<Meaning> const basic = smtpprobe::diagnose::explain(550, "5.7.30");
    std::vector<Meaning> const registry = find(basic, "X.7.30", "IANA");
    REQUIRE(registry.size() == 1);
    CHECK(contains(registry[0].text, "REQUIRETLS"));
    CHECK(contains(registry[0].text, "secondary sources"));
    CHECK(registry[0].source == "IANA SMTP Enhanced Status Codes (RFC 8689)");
    std::vector<Meaning> const vendor = find(basic, "5.7.30", "Microsoft");
    REQUIRE(vendor.size() == 1);
    CHECK(contains(vendor[0].text, "Basic authentication is not supported"));
    CHECK(contains(vendor[0].advice, "OAuth"));

    std::vector<Meaning> const anonymous =
        smtpprobe::diagnose::explain(530, "5.7.57", "smtp.office365.com");
    CHECK(find(anonymous, "530", "RFC 4954").size() == 1);
    std::vector<Meaning> const not_authenticated = find(anonymous, "5.7.57", "Microsoft");
    REQUIRE(not_authenticated.size() == 1);
    CHECK(contains(not_authenticated[0].text, "not authenticated"));
}

TEST_CASE("explain: Google 5.7.8 and 5.7.9", "[unit][diagnose]") {
    std::vector<Meaning> const bad = smtpprobe::diagnose::explain(535, "5.7.8", "smtp.gmail.com");
    std::vector<Meaning> const registry = find(bad, "X.7.8", "IANA");
    REQUIRE(registry.size() == 1);
    CHECK(registry[0].source == "IANA SMTP Enhanced Status Codes (RFC 4954)");
    std::vector<Meaning> const google = find(bad, "5.7.8", "Google (Gmail)");
    REQUIRE(google.size() == 1);
    CHECK(contains(google[0].text, "Username and Password not accepted"));
    CHECK(contains(google[0].advice, "app password"));

    std::vector<Meaning> const weak =
        smtpprobe::diagnose::explain(534, "5.7.9", "534 5.7.9 https://support.google.com - gsmtp");
    CHECK(find(weak, "534", "RFC 4954").size() == 1);
    std::vector<Meaning> const app = find(weak, "5.7.9", "Google");
    REQUIRE(app.size() == 1);
    CHECK(contains(app[0].text, "Application-specific password required"));

    // Google's meanings agree with the registry, so without a hint only the registry speaks.
    CHECK(find(smtpprobe::diagnose::explain(535, "5.7.8"), "5.7.8", "Google").empty());
}

TEST_CASE("explain: unknown and invalid codes", "[unit][diagnose]") {
    std::vector<Meaning> const unknown = smtpprobe::diagnose::explain(459, "");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].source == "RFC 5321 §4.2.1");
    CHECK(contains(unknown[0].text, "Transient Negative Completion"));
    CHECK(contains(unknown[0].text, "mail system"));

    for (int code : {199, 600, 560, 42}) {
        CAPTURE(code);
        std::vector<Meaning> const invalid = smtpprobe::diagnose::explain(code, "");
        REQUIRE(invalid.size() == 1);
        CHECK(contains(invalid[0].text, "Not a valid SMTP reply code"));
    }

    std::vector<Meaning> const no_subject = smtpprobe::diagnose::explain(0, "5.9.1");
    REQUIRE(no_subject.size() == 2);
    CHECK(contains(no_subject[1].text, "not defined by RFC 3463"));

    for (std::string_view bad : {"5.7", "6.7.4", "5.07.4", "5.7.1000", "5..4", "5.7.4x"}) {
        CAPTURE(bad);
        std::vector<Meaning> const invalid = smtpprobe::diagnose::explain(0, bad);
        REQUIRE(invalid.size() == 1);
        CHECK(contains(invalid[0].text, "Not a valid enhanced status code"));
    }

    CHECK(smtpprobe::diagnose::explain(0, "").empty());

    // "X" class: the registry meaning only, no class meaning.
    std::vector<Meaning> const generic = smtpprobe::diagnose::explain(0, "X.7.4");
    REQUIRE(find(generic, "X.7.4", "IANA").size() == 1);
    CHECK(find(generic, "5.X.X", "RFC 3463").empty());
}

TEST_CASE("explain: every RFC 5321 §4.2.3 and RFC 4954 §6 code is known", "[unit][diagnose]") {
    for (int code : {211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452,
                     455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555}) {
        CAPTURE(code);
        CHECK(find(smtpprobe::diagnose::explain(code, ""), std::to_string(code), "RFC 5321 §4.2.3")
                  .size() == 1);
    }
    for (int code : {235, 334, 432, 454, 500, 530, 534, 535, 538}) {
        CAPTURE(code);
        CHECK(
            find(smtpprobe::diagnose::explain(code, ""), std::to_string(code), "RFC 4954").size() ==
            1);
    }
    CHECK(any_text(smtpprobe::diagnose::explain(500, "5.5.6"), "line is too long"));
    CHECK(contains(find(smtpprobe::diagnose::explain(530, ""), "530", "RFC 4954")[0].advice,
                   "STARTTLS first"));
}

TEST_CASE("parse_code_query", "[unit][diagnose]") {
    struct Row {
        std::string_view input;
        int reply_code;
        std::string_view enhanced;
    };
    Row const rows[] = {
        {"504 5.7.4", 504, "5.7.4"},
        {"5.7.139", 0, "5.7.139"},
        {"535", 535, ""},
        {"504-5.7.4", 504, "5.7.4"},
        {"  535 5.7.8 Username and Password not accepted", 535, "5.7.8"},
        {"x.7.4", 0, "X.7.4"},
        {"535 hello", 535, ""},
        {"600 5.7.4", 0, "5.7.4"},
        {"250\t2.0.0", 250, "2.0.0"},
    };
    for (Row const& row : rows) {
        CAPTURE(row.input);
        std::optional<CodeQuery> const query = smtpprobe::diagnose::parse_code_query(row.input);
        REQUIRE(query);
        CHECK(query->reply_code == row.reply_code);
        CHECK(query->enhanced == row.enhanced);
    }
    for (std::string_view bad : {"", "   ", "hello", "5355", "600", "5.7", "50", "5.07.4"}) {
        CAPTURE(bad);
        CHECK_FALSE(smtpprobe::diagnose::parse_code_query(bad));
    }
}

TEST_CASE("compiled-in registry matches data/enhanced-status-codes.json", "[unit][diagnose]") {
    std::ifstream file(SMTPPROBE_SOURCE_DIR "/data/enhanced-status-codes.json");
    REQUIRE(file);
    nlohmann::json const data = nlohmann::json::parse(file);
    std::span<smtpprobe::diagnose::RegistryEntry const> const registry =
        smtpprobe::diagnose::enhanced_status_registry();
    REQUIRE(data.size() == registry.size());
    for (std::size_t i = 0; i < registry.size(); ++i) {
        CAPTURE(i);
        CHECK(registry[i].code == data[i].at("code").get<std::string>());
        CHECK(registry[i].text == data[i].at("text").get<std::string>());
        CHECK(registry[i].reference == data[i].at("reference").get<std::string>());
    }
    CHECK(registry.front().code == "X.0.0");
    CHECK(registry.back().code == "X.7.30");
}

TEST_CASE("clients: every verdict names its library by id, in the listed order",
          "[unit][diagnose]") {
    using smtpprobe::diagnose::ClientLibrary;
    std::vector<ClientVerdict> const verdicts =
        smtpprobe::diagnose::client_compatibility(acs_view());
    std::vector<ClientLibrary> const expected = {
        ClientLibrary::go_net_smtp,    ClientLibrary::go_net_smtp,
        ClientLibrary::python_smtplib, ClientLibrary::nodemailer,
        ClientLibrary::nodemailer,     ClientLibrary::dotnet_smtp_client,
        ClientLibrary::mailkit,        ClientLibrary::jakarta_mail,
        ClientLibrary::phpmailer,      ClientLibrary::libcurl,
        ClientLibrary::libcurl,        ClientLibrary::libcurl,
        ClientLibrary::ruby_net_smtp,  ClientLibrary::lettre};
    REQUIRE(verdicts.size() == expected.size());
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
        CAPTURE(verdicts[i].client);
        CHECK(verdicts[i].library == expected[i]);
    }
    // A library keeps its id when the STARTTLS refusal replaces its verdict.
    ServerAuthView refused = acs_view();
    refused.starttls_refusal = smtpprobe::smtp::Reply{454, {"4.7.0 TLS not available"}};
    std::vector<ClientVerdict> const stopped = smtpprobe::diagnose::client_compatibility(refused);
    REQUIRE(stopped.size() == expected.size());
    for (std::size_t i = 0; i < stopped.size(); ++i)
        CHECK(stopped[i].library == expected[i]);
}

TEST_CASE("clients: Azure Communication Services (LOGIN only)", "[unit][diagnose]") {
    std::vector<ClientVerdict> const verdicts =
        smtpprobe::diagnose::client_compatibility(acs_view());
    REQUIRE(verdicts.size() == 14);

    ClientVerdict const& go = verdict_for(verdicts, "Go net/smtp (PlainAuth)");
    CHECK(go.outcome == Outcome::fails);
    CHECK(go.mechanism == "PLAIN");
    CHECK(contains(go.how, "without checking the list"));
    CHECK(contains(go.how, "504"));
    CHECK(go.source == "smtp-facts.md §4.1");

    ClientVerdict const& ruby = verdict_for(verdicts, "Ruby net-smtp (default :plain)");
    CHECK(ruby.outcome == Outcome::fails);
    // net-smtp 0.3.1 raises SMTPAuthenticationError for a 504 too (tests/clients/FINDINGS.md).
    CHECK(ruby.error == "Net::SMTPAuthenticationError");
    CHECK(ruby.checked_against == "net-smtp 0.3.1 (Ruby 3.1.2)");
    CHECK(contains(ruby.how, ":login"));

    for (std::string_view client :
         {"Python smtplib (login())", "Nodemailer", ".NET System.Net.Mail.SmtpClient", "MailKit",
          "Jakarta Mail", "PHPMailer", "libcurl", "lettre"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::works);
        CHECK(verdict.mechanism == "LOGIN");
        CHECK(verdict.source.starts_with("smtp-facts.md §4."));
    }
    CHECK(contains(verdict_for(verdicts, "lettre").how, "Username:"));
    CHECK(verdict_for(verdicts, "lettre").checked_against.empty());
    CHECK(verdict_for(verdicts, "MailKit").checked_against.empty());
    CHECK(verdict_for(verdicts, "Go net/smtp (LOGIN smtp.Auth)").outcome == Outcome::works);
    CHECK(verdict_for(verdicts, "libcurl (AUTH=PLAIN)").outcome == Outcome::fails);
    CHECK(verdict_for(verdicts, "libcurl (AUTH=PLAIN)").error == "(67) Login denied");
    CHECK_FALSE(verdict_for(verdicts, "libcurl (AUTH=PLAIN)").reaches_auth());
    // AUTH only after STARTTLS: the libraries that need STARTTLS turned on say so.
    CHECK(contains(verdict_for(verdicts, "Python smtplib (login())").how, "starttls()"));
    CHECK(contains(verdict_for(verdicts, "Jakarta Mail").how, "starttls.enable"));
    CHECK(contains(verdict_for(verdicts, ".NET System.Net.Mail.SmtpClient").how, "EnableSsl"));

    for (ClientVerdict const& verdict : verdicts) {
        CAPTURE(verdict.client);
        CHECK_FALSE(verdict.how.empty());
        CHECK(smtpprobe::to_string(verdict.outcome) == (verdict.outcome == Outcome::works ? "works"
                                                        : verdict.outcome == Outcome::fails
                                                            ? "fails"
                                                            : "depends"));
    }
}

TEST_CASE("clients: lettre and the LOGIN prompt", "[unit][diagnose]") {
    ServerAuthView view = acs_view();
    view.login_prompt = std::string("User Name\0", 10);
    CHECK(verdict_for(smtpprobe::diagnose::client_compatibility(view), "lettre").outcome ==
          Outcome::works);

    view.login_prompt = "Who are you?";
    ClientVerdict const odd =
        verdict_for(smtpprobe::diagnose::client_compatibility(view), "lettre");
    CHECK(odd.outcome == Outcome::fails);
    CHECK(contains(odd.how, "Unrecognized challenge"));

    view.login_prompt.reset();
    CHECK(verdict_for(smtpprobe::diagnose::client_compatibility(view), "lettre").outcome ==
          Outcome::depends);
}

TEST_CASE("clients: Microsoft 365 (LOGIN XOAUTH2)", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_before_tls = {};
    view.advertised_after_tls = {"LOGIN", "XOAUTH2"};
    view.first_reply = {{"PLAIN", 504}, {"LOGIN", 334}, {"XOAUTH2", 334}, {"CRAM-MD5", 504}};
    view.login_prompt = "Username:";
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    CHECK(verdict_for(verdicts, "Go net/smtp (PlainAuth)").outcome == Outcome::fails);
    CHECK(verdict_for(verdicts, "Ruby net-smtp (default :plain)").outcome == Outcome::fails);
    for (std::string_view client :
         {"Python smtplib (login())", "Nodemailer", ".NET System.Net.Mail.SmtpClient", "MailKit",
          "Jakarta Mail", "PHPMailer", "libcurl", "lettre"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::works);
        CHECK(verdict.mechanism == "LOGIN");
    }
}

TEST_CASE("clients: PLAIN only", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_before_tls = {"PLAIN"};
    view.advertised_after_tls = {"PLAIN"};
    view.first_reply = {{"PLAIN", 334}, {"LOGIN", 504}};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    ClientVerdict const& dotnet = verdict_for(verdicts, ".NET System.Net.Mail.SmtpClient");
    CHECK(dotnet.outcome == Outcome::fails);
    CHECK(contains(dotnet.how, "unauthenticated"));
    CHECK(contains(dotnet.how, "5.7.57"));
    for (std::string_view client :
         {"Go net/smtp (PlainAuth)", "Python smtplib (login())", "Nodemailer", "MailKit",
          "Jakarta Mail", "PHPMailer", "libcurl", "Ruby net-smtp (default :plain)", "lettre"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::works);
        CHECK(verdict.mechanism == "PLAIN");
    }
}

TEST_CASE("clients: CRAM-MD5 only", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_after_tls = {"CRAM-MD5"};
    view.first_reply = {{"CRAM-MD5", 334}, {"PLAIN", 504}, {"LOGIN", 504}};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    for (std::string_view client : {".NET System.Net.Mail.SmtpClient", "lettre", "Jakarta Mail",
                                    "Go net/smtp (PlainAuth)", "Ruby net-smtp (default :plain)"}) {
        CAPTURE(client);
        CHECK(verdict_for(verdicts, client).outcome == Outcome::fails);
    }
    CHECK(contains(verdict_for(verdicts, "lettre").how, "No compatible authentication mechanism"));
    CHECK(
        contains(verdict_for(verdicts, "Jakarta Mail").how, "supported by both server and client"));
    for (std::string_view client :
         {"Python smtplib (login())", "Nodemailer", "MailKit", "PHPMailer", "libcurl"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::works);
        CHECK(verdict.mechanism == "CRAM-MD5");
    }
}

TEST_CASE("clients: Python and MailKit move on after a refused mechanism", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_after_tls = {"PLAIN", "LOGIN"}; // advertises PLAIN but refuses it
    view.first_reply = {{"PLAIN", 504}, {"LOGIN", 334}};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    for (std::string_view client : {"Python smtplib (login())", "MailKit"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::works);
        CHECK(verdict.mechanism == "LOGIN");
        CHECK(contains(verdict.how, "PLAIN gets 504"));
    }
    // Single-choice libraries that prefer PLAIN stop there.
    for (std::string_view client : {"Nodemailer", "lettre", "libcurl"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::fails);
        CHECK(contains(verdict.how, "504"));
    }
    // Jakarta Mail and PHPMailer prefer LOGIN, so the refused PLAIN does not matter to them.
    for (std::string_view client : {"Jakarta Mail", "PHPMailer"}) {
        CAPTURE(client);
        CHECK(verdict_for(verdicts, client).mechanism == "LOGIN");
        CHECK(verdict_for(verdicts, client).outcome == Outcome::works);
    }
}

TEST_CASE("clients: lower-case mechanism names", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_after_tls = {"login", "plain"};
    view.first_reply = {{"PLAIN", 334}, {"LOGIN", 334}};
    view.login_prompt = "Username:";
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    // curl 7.88.1 compares case-sensitively too (the real-client suite showed it).
    for (std::string_view client :
         {"Python smtplib (login())", "PHPMailer", "lettre", "MailKit", "libcurl"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::fails);
        CHECK(contains(verdict.how, "case-sensitively"));
    }
    // Nodemailer upper-cases, .NET and Jakarta Mail compare case-insensitively; Go and Ruby
    // never read the list and the server takes "PLAIN" for "plain" (RFC 4954 §8).
    for (std::string_view client : {"Nodemailer", ".NET System.Net.Mail.SmtpClient", "Jakarta Mail",
                                    "Go net/smtp (PlainAuth)", "Ruby net-smtp (default :plain)"}) {
        CAPTURE(client);
        CHECK(verdict_for(verdicts, client).outcome == Outcome::works);
    }
}

TEST_CASE("clients: AUTH= line only", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_after_tls = {"LOGIN", "PLAIN"};
    view.legacy_auth_equals_only = true;
    view.first_reply = {{"PLAIN", 334}, {"LOGIN", 334}};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    for (std::string_view client :
         {"PHPMailer", "libcurl", "lettre", "Go net/smtp (PlainAuth)", "Jakarta Mail"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::fails);
        CHECK(contains(verdict.how, "AUTH="));
    }
    for (std::string_view client :
         {"Python smtplib (login())", "Nodemailer", ".NET System.Net.Mail.SmtpClient", "MailKit"}) {
        CAPTURE(client);
        CHECK(verdict_for(verdicts, client).outcome == Outcome::works);
    }
    // Ruby reads no list at all, so the AUTH= form does not matter to it.
    CHECK(verdict_for(verdicts, "Ruby net-smtp (default :plain)").outcome == Outcome::works);
}

TEST_CASE("clients: nothing advertised", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    for (std::string_view client :
         {"Go net/smtp (PlainAuth)", "Python smtplib (login())", ".NET System.Net.Mail.SmtpClient",
          "MailKit", "Jakarta Mail", "PHPMailer", "libcurl", "lettre"}) {
        CAPTURE(client);
        CHECK(verdict_for(verdicts, client).outcome == Outcome::fails);
    }
    CHECK(contains(verdict_for(verdicts, "Python smtplib (login())").how,
                   "SMTP AUTH extension not supported"));
    // Nodemailer and Ruby would send AUTH PLAIN anyway; nothing was probed.
    CHECK(verdict_for(verdicts, "Nodemailer").outcome == Outcome::depends);
    CHECK(verdict_for(verdicts, "Ruby net-smtp (default :plain)").outcome == Outcome::depends);
}

TEST_CASE("clients: TLS situations", "[unit][diagnose]") {
    SECTION("no TLS at all") {
        ServerAuthView view;
        view.advertised_before_tls = {"PLAIN", "LOGIN"};
        view.first_reply = {{"PLAIN", 334}, {"LOGIN", 334}};
        view.login_prompt = "Username:";
        std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);
        ClientVerdict const& go = verdict_for(verdicts, "Go net/smtp (PlainAuth)");
        CHECK(go.outcome == Outcome::fails);
        CHECK(contains(go.how, "unencrypted connection"));
        CHECK(verdict_for(verdicts, "lettre").outcome == Outcome::depends);
        CHECK(verdict_for(verdicts, "Python smtplib (login())").outcome == Outcome::works);
    }
    SECTION("implicit TLS") {
        ServerAuthView view;
        view.tls_available = true;
        view.implicit_tls = true;
        view.advertised_after_tls = {"PLAIN", "LOGIN"};
        view.first_reply = {{"PLAIN", 334}, {"LOGIN", 334}};
        std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);
        ClientVerdict const& dotnet = verdict_for(verdicts, ".NET System.Net.Mail.SmtpClient");
        CHECK(dotnet.outcome == Outcome::fails);
        CHECK(contains(dotnet.how, "implicit TLS"));
        CHECK(contains(verdict_for(verdicts, "Python smtplib (login())").how, "SMTP_SSL"));
        CHECK(verdict_for(verdicts, "MailKit").outcome == Outcome::works);
    }
}

TEST_CASE("clients: OAuth-only server", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_after_tls = {"XOAUTH2", "OAUTHBEARER"};
    view.first_reply = {{"XOAUTH2", 334}, {"OAUTHBEARER", 334}, {"PLAIN", 504}};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    for (std::string_view client :
         {"Python smtplib (login())", ".NET System.Net.Mail.SmtpClient", "Jakarta Mail", "lettre",
          "PHPMailer", "MailKit", "Nodemailer"}) {
        CAPTURE(client);
        CHECK(verdict_for(verdicts, client).outcome == Outcome::fails);
    }
    CHECK(contains(verdict_for(verdicts, "Jakarta Mail").how, "xoauth2.disable=false"));
    CHECK(contains(verdict_for(verdicts, "MailKit").how, "OAuth"));
}

TEST_CASE("clients: STARTTLS refused, injected, and the loopback exemption", "[unit][diagnose]") {
    SECTION("every client stops at a refused STARTTLS, with its own error") {
        ServerAuthView view;
        view.advertised_before_tls = {};
        view.starttls_refusal =
            smtpprobe::smtp::Reply{454, {"4.7.0 TLS not available due to local problem"}};
        std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);
        for (ClientVerdict const& verdict : verdicts) {
            CAPTURE(verdict.client);
            CHECK(verdict.outcome == Outcome::fails);
            CHECK_FALSE(verdict.reaches_auth());
            CHECK_FALSE(verdict.error.empty());
        }
        CHECK(verdict_for(verdicts, "Go net/smtp (PlainAuth)").error ==
              "454 4.7.0 TLS not available due to local problem");
        CHECK(verdict_for(verdicts, "Python smtplib (login())").error ==
              "SMTPResponseException: (454, b'4.7.0 TLS not available due to local problem')");
        CHECK(verdict_for(verdicts, "Ruby net-smtp (default :plain)").error ==
              "Net::SMTPServerBusy: 454 4.7.0 TLS not available due to local problem");
        CHECK(verdict_for(verdicts, "libcurl").error == "(64) STARTTLS denied, code 454");
        CHECK(verdict_for(verdicts, "lettre").error == "transient error");
    }
    SECTION("the errors follow the refusal's code; the first line is quoted") {
        ServerAuthView view;
        view.starttls_refusal =
            smtpprobe::smtp::Reply{530, {"5.7.0 Must authenticate first", "second line"}};
        std::vector<ClientVerdict> verdicts = smtpprobe::diagnose::client_compatibility(view);
        CHECK(verdict_for(verdicts, "Ruby net-smtp (default :plain)").error ==
              "Net::SMTPAuthenticationError: 530 5.7.0 Must authenticate first");
        CHECK(verdict_for(verdicts, "lettre").error == "permanent error");
        view.starttls_refusal = smtpprobe::smtp::Reply{501, {}};
        verdicts = smtpprobe::diagnose::client_compatibility(view);
        CHECK(verdict_for(verdicts, "Ruby net-smtp (default :plain)").error ==
              "Net::SMTPSyntaxError: 501");
        CHECK(verdict_for(verdicts, "Python smtplib (login())").error ==
              "SMTPResponseException: (501, b'')");
    }
    SECTION("injected bytes: curl refuses, PHPMailer is exposed, the others discard") {
        ServerAuthView view = acs_view();
        view.starttls_injected = true;
        view.injected_auth = {"PLAIN"};
        std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);
        ClientVerdict const& php = verdict_for(verdicts, "PHPMailer");
        CHECK(php.injection == ClientVerdict::Injection::exposed);
        CHECK(php.mechanism == "PLAIN");
        CHECK(php.outcome == Outcome::fails);
        CHECK(verdict_for(verdicts, "libcurl").injection == ClientVerdict::Injection::refuses);
        CHECK(verdict_for(verdicts, "libcurl").error == "(8) Weird server reply");
        ClientVerdict const& go = verdict_for(verdicts, "Go net/smtp (LOGIN smtp.Auth)");
        CHECK(go.injection == ClientVerdict::Injection::discards);
        CHECK(go.outcome == Outcome::works);
        CHECK(verdict_for(verdicts, "MailKit").injection == ClientVerdict::Injection::unchecked);
        CHECK(smtpprobe::to_string(php.injection) == "exposed");
    }
    SECTION("Go sends PLAIN in plaintext only to a loopback name") {
        ServerAuthView view;
        view.advertised_before_tls = {"PLAIN", "LOGIN"};
        view.first_reply = {{"PLAIN", 334}, {"LOGIN", 334}};
        view.server_name = "plain.example.test";
        CHECK(
            verdict_for(smtpprobe::diagnose::client_compatibility(view), "Go net/smtp (PlainAuth)")
                .error == "unencrypted connection");
        for (char const* name : {"127.0.0.1", "localhost", "::1"}) {
            view.server_name = name;
            ClientVerdict const go = verdict_for(smtpprobe::diagnose::client_compatibility(view),
                                                 "Go net/smtp (PlainAuth)");
            CHECK(go.outcome == Outcome::works);
            CHECK(contains(go.how, "localhost exemption"));
        }
    }
    SECTION("curl picks NTLM where it is offered, and is told to use LOGIN") {
        ServerAuthView view;
        view.tls_available = true;
        view.advertised_after_tls = {"NTLM", "LOGIN"};
        view.first_reply = {{"NTLM", 334}, {"LOGIN", 334}};
        ClientVerdict const curl =
            verdict_for(smtpprobe::diagnose::client_compatibility(view), "libcurl");
        CHECK(curl.mechanism == "NTLM");
        CHECK(curl.outcome == Outcome::fails);
        CHECK(curl.error == "(67) Login denied");
        CHECK(contains(curl.how, "--login-options AUTH=LOGIN"));
    }
    SECTION("curl's NTLM works where smtpprobe's NTLMv2 exchange with the credentials did") {
        ServerAuthView view;
        view.tls_available = true;
        view.advertised_after_tls = {"NTLM", "LOGIN"};
        view.first_reply = {{"NTLM", 334}, {"LOGIN", 334}};
        view.authenticated = {"NTLM", "LOGIN"};
        ClientVerdict const curl =
            verdict_for(smtpprobe::diagnose::client_compatibility(view), "libcurl");
        CHECK(curl.mechanism == "NTLM");
        CHECK(curl.outcome == Outcome::works);
    }
}

TEST_CASE("clients: the copied Go LOGIN smtp.Auth follows the server's prompts",
          "[unit][diagnose]") {
    ServerAuthView view = acs_view();
    std::string_view const go = "Go net/smtp (LOGIN smtp.Auth)";
    SECTION("Username: and Password: work") {
        view.login_password_prompt = "Password:";
        ClientVerdict const verdict =
            verdict_for(smtpprobe::diagnose::client_compatibility(view), go);
        CHECK(verdict.outcome == Outcome::works);
        CHECK(verdict.mechanism == "LOGIN");
        CHECK(verdict.error.empty());
    }
    SECTION("aiosmtpd's User Name\\0 breaks it at the first prompt") {
        view.login_prompt = "User Name\\0"; // as the probe shows it
        view.login_password_prompt = "Password\\0";
        ClientVerdict const verdict =
            verdict_for(smtpprobe::diagnose::client_compatibility(view), go);
        CHECK(verdict.outcome == Outcome::fails);
        CHECK(verdict.mechanism == "LOGIN"); // it has sent AUTH LOGIN, then "*"
        CHECK(verdict.error == "unknown fromServer");
        CHECK(contains(verdict.how, "user name prompt is \"User Name\\0\""));
        // Clients that ignore the prompt text still work there.
        CHECK(
            verdict_for(smtpprobe::diagnose::client_compatibility(view), "Jakarta Mail").outcome ==
            Outcome::works);
    }
    SECTION("a password prompt other than Password: breaks it at the second") {
        view.login_password_prompt = "Password\\0";
        ClientVerdict const verdict =
            verdict_for(smtpprobe::diagnose::client_compatibility(view), go);
        CHECK(verdict.outcome == Outcome::fails);
        CHECK(verdict.error == "unknown fromServer");
        CHECK(contains(verdict.how, "password prompt is \"Password\\0\""));
    }
    SECTION("without the password prompt it goes by the first, and says so") {
        ClientVerdict const verdict =
            verdict_for(smtpprobe::diagnose::client_compatibility(view), go);
        CHECK(verdict.outcome == Outcome::works);
        CHECK(contains(verdict.how, "password prompt was not seen"));
    }
    SECTION("no prompt probed: it depends") {
        view.login_prompt.reset();
        view.first_reply.erase("LOGIN");
        CHECK(verdict_for(smtpprobe::diagnose::client_compatibility(view), go).outcome ==
              Outcome::depends);
    }
    SECTION("it has no TLS check: plaintext to any name") {
        ServerAuthView plain;
        plain.advertised_before_tls = {"PLAIN", "LOGIN"};
        plain.first_reply = {{"PLAIN", 334}, {"LOGIN", 334}};
        plain.login_prompt = "Username:";
        plain.server_name = "plain.example.test";
        std::vector<ClientVerdict> const verdicts =
            smtpprobe::diagnose::client_compatibility(plain);
        ClientVerdict const& login = verdict_for(verdicts, go);
        CHECK(login.outcome == Outcome::works);
        CHECK(contains(login.how, "go in plaintext"));
        CHECK(verdict_for(verdicts, "Go net/smtp (PlainAuth)").error == "unencrypted connection");
    }
}

TEST_CASE("clients: curl takes GSSAPI only for a user that names a domain", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.advertised_after_tls = {"GSSAPI", "NTLM", "LOGIN"};
    view.first_reply = {{"GSSAPI", 334}, {"NTLM", 334}, {"LOGIN", 334}};
    view.password_given = true;
    ClientVerdict curl = verdict_for(smtpprobe::diagnose::client_compatibility(view), "libcurl");
    CHECK(curl.mechanism == "NTLM");
    CHECK(contains(curl.how, "passes over GSSAPI"));

    view.user_has_domain = true;
    curl = verdict_for(smtpprobe::diagnose::client_compatibility(view), "libcurl");
    CHECK(curl.mechanism == "GSSAPI");
    CHECK(curl.outcome == Outcome::fails); // smtpprobe's own GSSAPI exchange got no 235
    CHECK(curl.error == "(94) An authentication function returned an error");

    view.authenticated.insert("GSSAPI");
    curl = verdict_for(smtpprobe::diagnose::client_compatibility(view), "libcurl");
    CHECK(curl.outcome == Outcome::works);

    view.advertised_after_tls = {"EXTERNAL", "PLAIN"};
    view.first_reply = {{"EXTERNAL", 334}, {"PLAIN", 334}};
    curl = verdict_for(smtpprobe::diagnose::client_compatibility(view), "libcurl");
    CHECK(curl.mechanism == "PLAIN");
    CHECK(contains(curl.how, "EXTERNAL only without a password"));
}

TEST_CASE("clients: injected bytes in a segment of their own break every handshake",
          "[unit][diagnose]") {
    ServerAuthView view = acs_view();
    view.starttls_injected = true;
    view.starttls_injected_late = true;
    view.injected_auth = {"PLAIN"};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);
    for (ClientVerdict const& verdict : verdicts) {
        CAPTURE(verdict.client);
        if (verdict.verified()) {
            CHECK(verdict.injection == ClientVerdict::Injection::handshake_fails);
            CHECK(verdict.outcome == Outcome::fails);
            CHECK_FALSE(verdict.reaches_auth());
            CHECK_FALSE(verdict.error.empty());
        } else {
            CHECK(verdict.injection == ClientVerdict::Injection::unchecked);
        }
    }
    CHECK(smtpprobe::to_string(ClientVerdict::Injection::handshake_fails) == "handshake fails");
}

// The OAuth client rows (clients_oauth.cpp): when they appear, and what each library does with
// the token, as tests/clients/FINDINGS.md records it.
TEST_CASE("clients: OAuth rows appear with a token or an advertised OAuth mechanism",
          "[unit][diagnose]") {
    // acs_view() advertises LOGIN only, and no token was given: no OAuth row.
    CHECK(smtpprobe::diagnose::client_compatibility(acs_view()).size() == 14);

    ServerAuthView token = acs_view();
    token.token_given = true;
    CHECK(smtpprobe::diagnose::client_compatibility(token).size() == 20);

    ServerAuthView advertised;
    advertised.tls_available = true;
    advertised.implicit_tls = true;
    advertised.advertised_after_tls = {"LOGIN", "PLAIN", "XOAUTH2"};
    advertised.first_reply = {{"LOGIN", 334}, {"PLAIN", 334}, {"XOAUTH2", 334}};
    std::vector<ClientVerdict> const verdicts =
        smtpprobe::diagnose::client_compatibility(advertised);
    REQUIRE(verdicts.size() == 20);
    // Without a token the token decides: nobody is promised success.
    for (std::string_view client :
         {"Go net/smtp (XOAUTH2 smtp.Auth)", "Python smtplib (auth() XOAUTH2)",
          "Nodemailer (OAuth2 accessToken)", "Jakarta Mail (auth.mechanisms XOAUTH2)",
          "PHPMailer (AuthType XOAUTH2)", "libcurl (--oauth2-bearer)"}) {
        CAPTURE(client);
        ClientVerdict const& verdict = verdict_for(verdicts, client);
        CHECK(verdict.outcome == Outcome::depends);
        CHECK(verdict.mechanism == "XOAUTH2");
        CHECK(contains(verdict.how, "depends on the token"));
        CHECK(!verdict.checked_against.empty());
    }
}

TEST_CASE("clients: a token refused after an error challenge (Gmail's list)", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.token_given = true;
    view.advertised_after_tls = {"LOGIN",       "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN",
                                 "OAUTHBEARER", "XOAUTH"};
    view.first_reply = {{"XOAUTH2", 334}, {"OAUTHBEARER", 334}, {"LOGIN", 334}, {"PLAIN", 334}};
    smtpprobe::smtp::Reply const refused{
        535,
        {"5.7.8 Username and Password not accepted. For more information, go to",
         "5.7.8  https://support.google.com/mail/?p=BadCredentials"}};
    view.exchange_refusal = {{"XOAUTH2", refused}, {"OAUTHBEARER", refused}};
    view.error_challenge = {"XOAUTH2", "OAUTHBEARER"};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    ClientVerdict const& curl = verdict_for(verdicts, "libcurl (--oauth2-bearer)");
    CHECK(curl.outcome == Outcome::fails);
    CHECK(curl.mechanism == "OAUTHBEARER"); // preferred over XOAUTH2
    CHECK(curl.error == "(67) Login denied");
    CHECK(contains(curl.how, "AQ=="));

    ClientVerdict const& jakarta = verdict_for(verdicts, "Jakarta Mail (auth.mechanisms XOAUTH2)");
    CHECK(jakarta.outcome == Outcome::fails);
    // Its message is the error challenge as sent ("334 eyJ..."), not doAuth()'s own text.
    CHECK(jakarta.error == "jakarta.mail.AuthenticationFailedException: 334 ");

    // The libraries that answer the challenge quote the final, multi-line 535 in their way.
    CHECK(verdict_for(verdicts, "Nodemailer (OAuth2 accessToken)").error ==
          "Invalid login: 535-5.7.8 Username and Password not accepted. For more information, "
          "go to");
    CHECK(verdict_for(verdicts, "Python smtplib (auth() XOAUTH2)").error ==
          "SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted. For more "
          "information, go to");
    CHECK(verdict_for(verdicts, "Go net/smtp (XOAUTH2 smtp.Auth)").error ==
          "535 5.7.8 Username and Password not accepted. For more information, go to");
    CHECK(verdict_for(verdicts, "PHPMailer (AuthType XOAUTH2)").error ==
          "SMTP Error: Could not authenticate.");
    CHECK(contains(verdict_for(verdicts, "Nodemailer (OAuth2 accessToken)").how, "a second time"));

    // Accepted: every one works with the mechanism it takes.
    view.exchange_refusal.clear();
    view.error_challenge.clear();
    view.authenticated = {"XOAUTH2", "OAUTHBEARER"};
    for (ClientVerdict const& verdict : smtpprobe::diagnose::client_compatibility(view)) {
        if (contains(verdict.client, "XOAUTH2") || contains(verdict.client, "OAuth2") ||
            contains(verdict.client, "oauth2")) {
            CAPTURE(verdict.client);
            CHECK(verdict.outcome == Outcome::works);
            CHECK(verdict.error.empty());
        }
    }
}

TEST_CASE("clients: a token for a server without OAuth", "[unit][diagnose]") {
    ServerAuthView view;
    view.tls_available = true;
    view.token_given = true;
    view.advertised_after_tls = {"PLAIN", "LOGIN"};
    view.first_reply = {{"PLAIN", 334}, {"LOGIN", 334}, {"XOAUTH2", 504}, {"OAUTHBEARER", 504}};
    view.first_reply_text = {{"XOAUTH2", "504 5.5.4 Unrecognized authentication type"}};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);

    // Those that do not check the list send XOAUTH2 and quote the refusal.
    CHECK(verdict_for(verdicts, "Go net/smtp (XOAUTH2 smtp.Auth)").error ==
          "504 5.5.4 Unrecognized authentication type");
    CHECK(verdict_for(verdicts, "Nodemailer (OAuth2 accessToken)").error ==
          "Invalid login: 504 5.5.4 Unrecognized authentication type");
    CHECK(verdict_for(verdicts, "Python smtplib (auth() XOAUTH2)").mechanism == "XOAUTH2");
    // PHPMailer drops the AuthType and sends LOGIN with empty credentials.
    ClientVerdict const& php = verdict_for(verdicts, "PHPMailer (AuthType XOAUTH2)");
    CHECK(php.outcome == Outcome::fails);
    CHECK(php.mechanism == "LOGIN");
    // Jakarta Mail and curl check the list and send no AUTH.
    ClientVerdict const& jakarta = verdict_for(verdicts, "Jakarta Mail (auth.mechanisms XOAUTH2)");
    CHECK(jakarta.mechanism.empty());
    CHECK(contains(jakarta.error, "No authentication mechanisms supported by both"));
    ClientVerdict const& curl = verdict_for(verdicts, "libcurl (--oauth2-bearer)");
    CHECK(curl.mechanism.empty());
    CHECK(curl.error == "(67) Login denied");

    // Names in lower case: Jakarta Mail matches them, PHPMailer and curl do not.
    view.advertised_after_tls = {"plain", "login", "xoauth2"};
    view.first_reply["XOAUTH2"] = 334;
    view.exchange_refusal = {{"XOAUTH2", smtpprobe::smtp::Reply{535, {"5.7.8 no"}}}};
    std::vector<ClientVerdict> const lower = smtpprobe::diagnose::client_compatibility(view);
    CHECK(verdict_for(lower, "Jakarta Mail (auth.mechanisms XOAUTH2)").mechanism == "XOAUTH2");
    CHECK(verdict_for(lower, "Jakarta Mail (auth.mechanisms XOAUTH2)").error ==
          "jakarta.mail.AuthenticationFailedException: 535 5.7.8 no");
    CHECK(verdict_for(lower, "PHPMailer (AuthType XOAUTH2)").mechanism.empty());
    CHECK(verdict_for(lower, "libcurl (--oauth2-bearer)").mechanism.empty());
}

TEST_CASE("clients: a password smtpprobe saw refused is refused for every library",
          "[unit][diagnose]") {
    ServerAuthView view = acs_view();
    view.exchange_refusal = {
        {"LOGIN",
         smtpprobe::smtp::Reply{
             550, {"5.7.30 Basic authentication is not supported for Client Submission"}}}};
    std::vector<ClientVerdict> const verdicts = smtpprobe::diagnose::client_compatibility(view);
    CHECK(verdict_for(verdicts, "Go net/smtp (LOGIN smtp.Auth)").error ==
          "550 5.7.30 Basic authentication is not supported for Client Submission");
    CHECK(verdict_for(verdicts, "Nodemailer").error ==
          "Invalid login: 550 5.7.30 Basic authentication is not supported for Client Submission");
    CHECK(verdict_for(verdicts, "libcurl").error == "(67) Login denied");
    for (ClientVerdict const& verdict : verdicts) {
        CAPTURE(verdict.client);
        CHECK(verdict.outcome != Outcome::works);
        if (verdict.mechanism == "LOGIN") {
            CHECK(contains(verdict.how, "550 5.7.30"));
        }
    }
}
