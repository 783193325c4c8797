// libFuzzer target: the SASL layer (src/sasl): the strict base64 decoder, the client state
// machines against challenges cut from the input, the server side against responses cut from
// the input, a client-server round trip on credentials from the input, and the SCRAM helpers.
// Not part of the CMake build; tests/fuzz/run.sh builds and runs it (in CI from scripts/test.sh).
//
// The first byte picks the mode (byte % 5); FuzzedDataProvider takes the rest: small choices
// from the end of the input, strings (challenges, responses, credentials) from the front, each
// ended by a backslash followed by a byte other than a backslash ("\\" is a literal one).
// Any violated invariant traps.

#include "sasl/sasl.hpp"
#include "sasl/scram.hpp"
#include "smtp/ascii.hpp"
#include "smtp/base64.hpp"

#include "fuzz_check.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sasl = smtpprobe::sasl;
namespace smtp = smtpprobe::smtp;
namespace detail = smtpprobe::sasl::detail;

namespace {

using namespace std::string_view_literals;

constexpr std::array<std::string_view, 10> mechanisms = {
    "PLAIN",   "LOGIN",       "CRAM-MD5",   "SCRAM-SHA-1", "SCRAM-SHA-256",
    "XOAUTH2", "OAUTHBEARER", "DIGEST-MD5", "NTLM",        "ANONYMOUS",
};

constexpr int max_steps = 8; // Client::respond: "after 8 steps it cancels"

bool is_scram(std::string_view mechanism) {
    return mechanism.starts_with("SCRAM-");
}

bool uses_password(std::string_view mechanism) {
    return mechanism != "XOAUTH2" && mechanism != "OAUTHBEARER" && mechanism != "ANONYMOUS";
}

/// The step whose response follows a checked server proof: SCRAM's v= (3rd), DIGEST-MD5's
/// rspauth (2nd).
bool proof_step(std::string_view mechanism, std::size_t i) {
    return (mechanism.starts_with("SCRAM-") && i == 2) || (mechanism == "DIGEST-MD5" && i == 1);
}

/// True when `text` is valid UTF-8 without surrogates or overlong forms (NTLM sends names as
/// UTF-16LE, so anything else comes back changed).
bool valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        unsigned char const lead = static_cast<unsigned char>(text[i]);
        std::size_t const length = lead < 0x80                   ? 1
                                   : lead >= 0xc2 && lead < 0xe0 ? 2
                                   : (lead & 0xf0) == 0xe0       ? 3
                                   : lead >= 0xf0 && lead < 0xf5 ? 4
                                                                 : 0;
        if (length == 0 || i + length > text.size())
            return false;
        for (std::size_t k = 1; k < length; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80)
                return false;
        unsigned char const second = length > 1 ? static_cast<unsigned char>(text[i + 1]) : 0;
        if ((lead == 0xe0 && second < 0xa0) || (lead == 0xed && second >= 0xa0) ||
            (lead == 0xf0 && second < 0x90) || (lead == 0xf4 && second >= 0x90))
            return false;
        i += length;
    }
    return true;
}

// The fixed test credentials of the client mode. Set 0 is the RFC 5802 / RFC 7677 example
// (user "user", password "pencil"), so the seeds can drive SCRAM to a verified server
// signature; the others carry punctuation, non-ASCII, SCRAM-escaped and control characters.
struct CredentialSet {
    std::string_view user;
    std::string_view password;
    std::string_view token;
};
constexpr std::array<CredentialSet, 6> credential_sets = {{
    {"user", "pencil", "ya29.fuzz-token-0"},
    {"fuzz.user@example.test", "Wh0?Kn0ws!", "ya29.a0Af-fuzz_token~1"},
    {"j\xc3\xbcrgen", "p\xc3\xa4sswort-\xc3\xbc", "t\xc3\xb8ken-2"},
    {"", "", ""},
    {"a,b=c", "p=w,d", "t=k,n"},
    {"ctl\x01user", "pass\x7fword", "tok\x01en"},
}};

constexpr std::array<std::string_view, 4> authzids = {"", "admin", "a,b=c", "ctl\x01"};

// RFC 5802 §5 and RFC 7677 §3 client nonces.
constexpr std::string_view rfc5802_nonce = "fyko+d2lbbFgONRv9qkxdawL";
constexpr std::string_view rfc7677_nonce = "rOprNGfwEbeRWgbNEkqO";

bool contains(std::string_view haystack, std::string_view needle) {
    return !needle.empty() && haystack.find(needle) != std::string_view::npos;
}

/// libFuzzer finds an iteration count in the millions quickly, and the client then spends
/// seconds in PBKDF2 (the client accepts up to 1,000,000). Such inputs are skipped so the
/// run stays fast; counts above the limit, which the client refuses at once, still run.
bool slow_scram_challenge(std::string_view challenge) {
    auto const attributes = detail::scram_attributes(challenge);
    if (!attributes || attributes->size() < 3 || (*attributes)[2].first != 'i')
        return false;
    std::string_view const count = (*attributes)[2].second;
    unsigned long long value = 0;
    auto const [end, ec] = std::from_chars(count.data(), count.data() + count.size(), value);
    return ec == std::errc() && end == count.data() + count.size() && value > 20'000 &&
           value <= 1'000'000;
}

// ---------------------------------------------------------------------------------- base64

void fuzz_base64(std::string_view text) {
    std::optional<std::string> const decoded = smtp::base64_decode(text);
    if (decoded) {
        // strict: whole quanta, the canonical alphabet, '=' only as final padding
        FUZZ_CHECK(text.size() % 4 == 0);
        std::size_t const padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
        FUZZ_CHECK(decoded->size() == text.size() / 4 * 3 - padding);
        std::string const encoded = smtp::base64_encode(*decoded);
        std::optional<std::string> const again = smtp::base64_decode(encoded);
        FUZZ_CHECK(again.has_value() && *again == *decoded);
        // The re-encoding differs from the text at most in the last data character, whose
        // pad bits the decoder drops rather than rejects (base64.cpp says so).
        FUZZ_CHECK(encoded.size() == text.size());
        if (padding == 0) {
            FUZZ_CHECK(encoded == text);
        } else {
            std::size_t const last_data = text.size() - padding - 1;
            for (std::size_t i = 0; i < text.size(); ++i)
                FUZZ_CHECK(i == last_data || encoded[i] == text[i]);
        }
    } else {
        FUZZ_CHECK(!text.empty());
    }
    // any bytes survive encode then decode
    std::string const encoded = smtp::base64_encode(text);
    FUZZ_CHECK(encoded.size() == (text.size() + 2) / 3 * 4);
    std::optional<std::string> const back = smtp::base64_decode(encoded);
    FUZZ_CHECK(back.has_value() && *back == text);
}

// ---------------------------------------------------------------------------------- client

void fuzz_client(FuzzedDataProvider& in) {
    std::string_view const mechanism =
        mechanisms[in.ConsumeIntegralInRange<std::size_t>(0, mechanisms.size() - 1)];
    CredentialSet const& set =
        credential_sets[in.ConsumeIntegralInRange<std::size_t>(0, credential_sets.size() - 1)];
    sasl::Credentials credentials{std::string(set.user), std::string(set.password),
                                  std::string(set.token)};
    sasl::ClientOptions options;
    options.authzid = authzids[in.ConsumeIntegralInRange<std::size_t>(0, authzids.size() - 1)];
    if (in.ConsumeBool()) {
        options.host = "mail.example.test";
        options.port = 587;
    }
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
        options.nonce = std::string(mechanism == "SCRAM-SHA-1" ? rfc5802_nonce : rfc7677_nonce);
        break;
    case 1:
        options.nonce = "fuzz-client-nonce";
        break;
    case 2:
        options.nonce = "bad,nonce"; // not a SCRAM nonce: the client must refuse it
        break;
    default:
        break; // random, from RAND_bytes
    }

    std::optional<sasl::Client> client = sasl::Client::create(mechanism, credentials, options);
    FUZZ_CHECK(client.has_value());
    FUZZ_CHECK(client->mechanism() == mechanism);

    std::vector<std::string> challenges;
    while (challenges.size() < 12 && in.remaining_bytes() > 0)
        challenges.push_back(in.ConsumeRandomLengthString(4096));
    if (is_scram(mechanism) && challenges.size() >= 2 && slow_scram_challenge(challenges[1]))
        return;

    bool cancelled = false;
    std::size_t responded = 0;
    std::vector<std::string> data;
    bool verified_step = false;
    // beyond the input's challenges, empty ones: the bound must hold whatever the server does
    for (std::size_t i = 0; i < max_steps + 2; ++i) {
        std::string_view const challenge = i < challenges.size() ? challenges[i] : ""sv;
        sasl::ClientStep const step = client->respond(challenge);
        if (step.kind == sasl::ClientStep::Kind::respond) {
            FUZZ_CHECK(!cancelled); // a cancelled exchange stays cancelled
            FUZZ_CHECK(step.error.empty());
            ++responded;
            data.push_back(step.data);
            if (proof_step(mechanism, i))
                verified_step = true;
            // a line marked as no secret (ANONYMOUS's trace, NTLM's NEGOTIATE) carries none
            FUZZ_CHECK(step.secret || !contains(step.data, credentials.password));
        } else {
            FUZZ_CHECK(step.kind == sasl::ClientStep::Kind::cancel);
            FUZZ_CHECK(step.data.empty());
            FUZZ_CHECK(!step.error.empty());
            cancelled = true;
        }
        // the error is shown to the user: it must never carry a secret
        FUZZ_CHECK(!contains(step.error, credentials.password));
        FUZZ_CHECK(!contains(step.error, credentials.token));
        FUZZ_CHECK(i < max_steps || cancelled); // the 9th challenge is refused at the latest
    }
    FUZZ_CHECK(cancelled);
    FUZZ_CHECK(responded <= static_cast<std::size_t>(max_steps));
    FUZZ_CHECK(client->responses() == data);
    FUZZ_CHECK(!client->server_verified() || verified_step);
}

// ---------------------------------------------------------------------------------- server

/// Three server configurations: the RFC 5802 (SCRAM-SHA-1) and RFC 7677 (SCRAM-SHA-256)
/// examples, whose client messages the seeds carry, and the CRAM-MD5 challenge recorded in
/// samples/transcripts/auth (user "tim", password "tanstaaftanstaaf").
sasl::ServerOptions server_options(int config) {
    sasl::ServerOptions options;
    options.accounts.push_back({"user", "pencil", ""});
    options.accounts.push_back({"tim", "tanstaaftanstaaf", ""});
    options.accounts.push_back({"alice", "Wh0?Kn0ws!", ""});
    options.accounts.push_back({"bob@example.org", "", "ya29.good-token"});
    options.scram_iterations = 4096;
    switch (config) {
    case 0:
        options.nonce = "3rfcNHYJY1ZVvWVs7j";
        options.scram_salt = smtp::base64_decode("QSXCR+Q6sek8bf92").value();
        break;
    case 1:
        options.nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        options.scram_salt = smtp::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==").value();
        break;
    default:
        options.nonce = "0302787859903040.1795912064";
        options.hostname = "dovecot.integration.test";
        options.scram_iterations = 64;
        options.scram_salt = "fuzz-salt";
        break;
    }
    return options;
}

bool is_account_user(sasl::ServerOptions const& options, std::string_view user) {
    for (sasl::Credentials const& account : options.accounts)
        if (account.user == user)
            return true;
    return false;
}

void fuzz_server(FuzzedDataProvider& in) {
    std::string_view const mechanism =
        mechanisms[in.ConsumeIntegralInRange<std::size_t>(0, mechanisms.size() - 1)];
    sasl::ServerOptions const options = server_options(in.ConsumeIntegralInRange<int>(0, 2));
    std::optional<sasl::Server> server = sasl::Server::create(mechanism, options);
    FUZZ_CHECK(server.has_value());

    // respond() before start() has nothing to answer
    if (in.ConsumeBool()) {
        sasl::ServerStep const early = server->respond(in.ConsumeRandomLengthString(256));
        FUZZ_CHECK(early.kind == sasl::ServerStep::Kind::failure);
    }

    sasl::ServerStep step = server->start();
    FUZZ_CHECK(step.kind == sasl::ServerStep::Kind::challenge);
    int challenges = 0;
    bool done = false;
    for (int i = 0; i < 8 && in.remaining_bytes() > 0; ++i) {
        step = server->respond(in.ConsumeRandomLengthString(4096));
        if (done) {
            FUZZ_CHECK(step.kind == sasl::ServerStep::Kind::failure); // the exchange is over
            continue;
        }
        switch (step.kind) {
        case sasl::ServerStep::Kind::challenge:
            ++challenges;
            // LOGIN 1, SCRAM 2 (server-first, server-final), OAuth 1, DIGEST-MD5 1 (rspauth),
            // NTLM 1 (CHALLENGE)
            FUZZ_CHECK(challenges <= 2);
            FUZZ_CHECK(step.user.empty());
            break;
        case sasl::ServerStep::Kind::success:
            // ANONYMOUS logs in as "anonymous"; everything else as an account's user
            FUZZ_CHECK(mechanism == "ANONYMOUS" ? step.user == "anonymous"
                                                : is_account_user(options, step.user));
            FUZZ_CHECK(step.data.empty());
            done = true;
            break;
        case sasl::ServerStep::Kind::failure:
        case sasl::ServerStep::Kind::malformed:
            FUZZ_CHECK(step.data.empty() && step.user.empty());
            done = true;
            break;
        }
    }
}

// ------------------------------------------------------------------------------ round trip

/// A client and a server that share credentials agree, unless the client refuses them.
void fuzz_round_trip(FuzzedDataProvider& in) {
    std::string_view const mechanism =
        mechanisms[in.ConsumeIntegralInRange<std::size_t>(0, mechanisms.size() - 1)];
    bool const authzid_is_user = in.ConsumeBool();
    bool const with_host = in.ConsumeBool();
    unsigned const iterations = in.ConsumeIntegralInRange<unsigned>(1, 64);
    sasl::Credentials credentials;
    credentials.user = in.ConsumeRandomLengthString(64);
    credentials.password = in.ConsumeRandomLengthString(64);
    credentials.token = in.ConsumeRandomLengthString(64);
    std::string const client_nonce = in.ConsumeRandomLengthString(32);
    std::string const server_nonce = in.ConsumeRandomLengthString(32);

    sasl::ClientOptions client_options;
    client_options.nonce = detail::is_scram_nonce(client_nonce) ? client_nonce : "cnonce";
    if (authzid_is_user)
        client_options.authzid = credentials.user;
    if (with_host) {
        client_options.host = "mail.example.test";
        client_options.port = 587;
    }
    sasl::ServerOptions server_options;
    server_options.nonce = detail::is_scram_nonce(server_nonce) ? server_nonce : "snonce";
    server_options.scram_iterations = iterations;
    server_options.accounts.push_back(credentials);
    // the server keeps a password account and a token account apart
    if (!uses_password(mechanism))
        server_options.accounts.back().password.clear();

    std::optional<sasl::Client> client =
        sasl::Client::create(mechanism, credentials, client_options);
    std::optional<sasl::Server> server = sasl::Server::create(mechanism, server_options);
    FUZZ_CHECK(client && server);

    sasl::ServerStep step = server->start();
    bool client_cancelled = false;
    for (int round = 0; round < 12 && step.kind == sasl::ServerStep::Kind::challenge; ++round) {
        // No leak check here: a secret from the input may be a word of a fixed message
        // ("a", "SCRAM"); the honest server sends no text of its own, and the client mode
        // checks leaks with fixed credentials.
        sasl::ClientStep const answer = client->respond(step.data);
        if (answer.kind == sasl::ClientStep::Kind::cancel) {
            client_cancelled = true;
            break;
        }
        step = server->respond(answer.data);
    }
    if (client_cancelled)
        return;
    if (step.kind == sasl::ServerStep::Kind::success) {
        // ANONYMOUS logs in as "anonymous" whoever asks (RFC 4505 §3).
        FUZZ_CHECK(step.user == (mechanism == "ANONYMOUS" ? "anonymous" : credentials.user));
        if (is_scram(mechanism) || mechanism == "DIGEST-MD5")
            FUZZ_CHECK(client->server_verified());
        return;
    }
    // The server may refuse only what the protocols cannot carry or it requires: an empty
    // user name (empty authcid) or password, an empty token or one starting with a space
    // (RFC 6750 b64token has none; the server skips spaces after "Bearer").
    bool const user_required = mechanism != "OAUTHBEARER";
    // NTLM sends the user and domain as UTF-16LE: other bytes come back changed, and the
    // server then finds no such account.
    bool const refusable = (user_required && credentials.user.empty()) ||
                           (uses_password(mechanism) && credentials.password.empty()) ||
                           (mechanism == "NTLM" && !valid_utf8(credentials.user)) ||
                           (!uses_password(mechanism) && mechanism != "ANONYMOUS" &&
                            (credentials.token.empty() || credentials.token.front() == ' '));
    FUZZ_CHECK(step.kind != sasl::ServerStep::Kind::challenge); // the loop ended on a decision
    FUZZ_CHECK(refusable);
}

// ---------------------------------------------------------------------------- SCRAM helpers

void fuzz_scram_helpers(std::string_view text) {
    std::string const escaped = detail::scram_escape(text);
    FUZZ_CHECK(escaped.find(',') == std::string::npos);
    std::optional<std::string> const unescaped = detail::scram_unescape(escaped);
    FUZZ_CHECK(unescaped.has_value() && *unescaped == text);
    if (std::optional<std::string> const u = detail::scram_unescape(text))
        FUZZ_CHECK(detail::scram_escape(*u) == text);

    if (auto const attributes = detail::scram_attributes(text)) {
        FUZZ_CHECK(!attributes->empty());
        std::size_t total = 0;
        for (auto const& [name, value] : *attributes) {
            FUZZ_CHECK((name >= 'a' && name <= 'z') || (name >= 'A' && name <= 'Z'));
            FUZZ_CHECK(value.find(',') == std::string_view::npos);
            total += 2 + value.size();
        }
        FUZZ_CHECK(total + attributes->size() - 1 == text.size());
    }
    if (auto const header = detail::parse_gs2_header(text)) {
        FUZZ_CHECK(header->size >= 3 && header->size <= text.size());
        FUZZ_CHECK(text[header->size - 1] == ',');
        FUZZ_CHECK(header->flag == 'n' || header->flag == 'y' || header->flag == 'p');
    }
    if (std::optional<std::string> const prepared = detail::saslprep(text))
        FUZZ_CHECK(*prepared == text);
    (void)detail::is_scram_nonce(text);
    FUZZ_CHECK(detail::cram_md5_digest(text, "<1.2@fuzz>").size() == 32);
    FUZZ_CHECK(smtpprobe::smtp::iequals(smtpprobe::smtp::to_upper(text), text));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size == 0)
        return 0;
    std::string_view const rest(reinterpret_cast<char const*>(data) + 1, size - 1);
    FuzzedDataProvider in(data + 1, size - 1);
    switch (data[0] % 5) {
    case 0:
        fuzz_base64(rest);
        break;
    case 1:
        fuzz_client(in);
        break;
    case 2:
        fuzz_server(in);
        break;
    case 3:
        fuzz_round_trip(in);
        break;
    default:
        fuzz_scram_helpers(rest);
        break;
    }
    return 0;
}
