// libFuzzer target: the NTLM CHALLENGE decoder (src/sasl/ntlm.hpp) and the whole exchange with
// credentials (src/sasl/ntlm_auth.hpp): NEGOTIATE -> the input as CHALLENGE -> AUTHENTICATE.
// The input is the raw message (what base64 decoding of a 334 line gives). Checked on every
// input:
//   - decode_challenge() returns, without reading past the input (ASan) or throwing;
//   - exactly one of "decoded" and "error" holds, and an error has words;
//   - a decoded message keeps the bounds: at most max_av_pairs pairs, names valid UTF-8,
//     other_ids unique and none of the decoded ids, VERSION / TARGET_INFO only with their flags;
//   - encode_challenge() of a decoded message decodes to the same message (pairs aside);
//   - the renderer's helpers (flag names, FILETIME, version) accept every value;
//   - the exchange: sasl::Client for NTLM (one of three credential sets, picked by the input's
//     size; ClientChallenge and clock fixed) sends the NEGOTIATE message (marked as no
//     secret), then answers the input with an AUTHENTICATE message exactly when it decodes
//     (else a cancel with words), TargetInfo or not (without it the ServerName is empty,
//     MS-NLMP 3.1.5.1.2). The AUTHENTICATE decodes; its user and domain are the typed
//     name split by split_identity(); its NtChallengeResponse is MS-NLMP 3.3.2's for
//     NTOWFv2, the CHALLENGE's ServerChallenge and TargetInfo, and the server's timestamp (or
//     the client's clock); LmChallengeResponse is Z(24) with a server timestamp, LMv2 without;
//     neither the password nor the NT hash is in it unless the CHALLENGE held them (its
//     TargetInfo is echoed); the NTProofStr is among the derived
//     secrets; a further challenge is cancelled. Then sasl::Server, sending the same
//     CHALLENGE, accepts that AUTHENTICATE for the account and refuses it for another
//     password.
// tests/fuzz/run.sh builds and runs it; seeds are in tests/fuzz/corpus/ntlm_fuzz.

#include "fuzz_check.hpp"
#include "sasl/ntlm.hpp"
#include "sasl/ntlm_auth.hpp"
#include "sasl/sasl.hpp"

#include <algorithm>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ntlm = smtpprobe::sasl::ntlm;
namespace sasl = smtpprobe::sasl;

namespace {

/// Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        unsigned char const c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80             ? 1
                        : (c & 0xe0) == 0xc0 ? 2
                        : (c & 0xf0) == 0xe0 ? 3
                        : (c & 0xf8) == 0xf0 ? 4
                                             : 0;
        if (n == 0 || i + n > s.size())
            return false;
        std::uint32_t cp = n == 1 ? c : c & (0xff >> (n + 1));
        for (std::size_t k = 1; k < n; ++k) {
            unsigned char const d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (d & 0x3f);
        }
        std::uint32_t const min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
            return false;
        i += n;
    }
    return true;
}

bool valid(std::optional<std::string> const& s) {
    return !s || valid_utf8(*s);
}

void check_decoded(ntlm::Challenge const& c) {
    FUZZ_CHECK(valid(c.target_name));
    FUZZ_CHECK(!c.version || (c.flags & ntlm::flag::negotiate_version) != 0);
    FUZZ_CHECK(c.target_info.has_value() == ((c.flags & ntlm::flag::negotiate_target_info) != 0));
    if (c.target_info) {
        ntlm::TargetInfo const& t = *c.target_info;
        FUZZ_CHECK(t.pairs <= ntlm::max_av_pairs);
        for (auto const* name : {&t.nb_computer_name, &t.nb_domain_name, &t.dns_computer_name,
                                 &t.dns_domain_name, &t.dns_tree_name, &t.target_name})
            FUZZ_CHECK(valid(*name));
        FUZZ_CHECK(t.other_ids.size() <= t.pairs);
        for (std::size_t i = 0; i < t.other_ids.size(); ++i) {
            std::uint16_t const id = t.other_ids[i];
            FUZZ_CHECK(id > 7 && id != 9);
            for (std::size_t j = 0; j < i; ++j)
                FUZZ_CHECK(t.other_ids[j] != id);
        }
        if (t.timestamp)
            FUZZ_CHECK(!ntlm::filetime_to_iso8601(*t.timestamp).empty());
    }
    if (c.version) {
        FUZZ_CHECK(!ntlm::to_string(*c.version).empty());
        (void)ntlm::windows_release(*c.version);
    }
    FUZZ_CHECK(ntlm::flag_names(c.flags).size() ==
               static_cast<std::size_t>(__builtin_popcount(c.flags)));
}

struct Account {
    std::string_view typed; ///< as the user types it
    std::string_view password;
};
/// MS-NLMP 4.2.4's user, a UPN, and Latin-1 names (OEM can carry them too).
constexpr Account accounts[] = {
    {"Domain\\User", "Password"},
    {"alice@example.test", "s3cr3t-Passw0rd"},
    {"CORP\\b\xc3\xa9n\xc3\xa9"
     "dicte",
     "p\xc3\xa4ssw\xc3\xb6rd!"},
};
constexpr std::string_view client_challenge = "\x01\x02\x03\x04\x05\x06\x07\x08";
constexpr std::uint64_t client_clock = 0x01d0'0000'0000'0000ULL;

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

void check_exchange(std::string const& message, ntlm::DecodeResult const& decoded) {
    Account const& account = accounts[message.size() % std::size(accounts)];
    sasl::ClientOptions options;
    options.nonce = std::string(client_challenge);
    options.filetime = client_clock;
    auto client = sasl::Client::create(
        "NTLM", {std::string(account.typed), std::string(account.password), {}}, options);
    FUZZ_CHECK(client.has_value());
    sasl::ClientStep const negotiate = client->respond("");
    FUZZ_CHECK(negotiate.kind == sasl::ClientStep::Kind::respond && !negotiate.secret);
    FUZZ_CHECK(negotiate.data == ntlm::negotiate_message());

    sasl::ClientStep const step = client->respond(message);
    if (!decoded.challenge) {
        FUZZ_CHECK(step.kind == sasl::ClientStep::Kind::cancel && !step.error.empty());
        FUZZ_CHECK(!contains(step.error, account.password));
        FUZZ_CHECK(step.problem == sasl::ClientStep::Problem::none);
        return;
    }
    FUZZ_CHECK(step.kind == sasl::ClientStep::Kind::respond && step.secret && step.error.empty());
    std::string const hash = ntlm::nt_hash(account.password);
    // The response echoes the server's TargetInfo (MS-NLMP 3.3.2), so only what the server
    // itself sent may hold them (the fuzzer planted the password there).
    FUZZ_CHECK(!contains(step.data, account.password) || contains(message, account.password));
    FUZZ_CHECK(!contains(step.data, hash) || contains(message, hash));

    ntlm::AuthenticateResult const out = ntlm::decode_authenticate(step.data);
    FUZZ_CHECK(out.message.has_value() && out.error.empty());
    ntlm::Identity const id = ntlm::split_identity(account.typed);
    FUZZ_CHECK(out.message->user == id.user && out.message->domain == id.domain);
    ntlm::Challenge const& c = *decoded.challenge;
    std::optional<std::uint64_t> const server_time =
        c.target_info ? c.target_info->timestamp : std::nullopt;
    std::string const key = ntlm::ntowfv2(account.password, id.user, id.domain);
    ntlm::V2Response const v2 = ntlm::ntlmv2_response(
        key, std::string(c.server_challenge.begin(), c.server_challenge.end()), client_challenge,
        server_time.value_or(client_clock), ntlm::raw_target_info(message));
    FUZZ_CHECK(out.message->nt_response == v2.nt_response);
    FUZZ_CHECK(out.message->lm_response == (server_time ? std::string(24, '\0') : v2.lm_response));
    auto const& derived = client->derived_secrets();
    FUZZ_CHECK(std::find(derived.begin(), derived.end(), hash) != derived.end());
    FUZZ_CHECK(std::find(derived.begin(), derived.end(), key) != derived.end());
    FUZZ_CHECK(client->respond(message).kind == sasl::ClientStep::Kind::cancel);

    // The server that sent this CHALLENGE accepts the AUTHENTICATE for the account only.
    for (bool right : {true, false}) {
        sasl::ServerOptions so;
        so.ntlm_challenge = message;
        so.accounts = {{std::string(account.typed),
                        right ? std::string(account.password) : std::string("not-the-password"),
                        {}}};
        auto server = sasl::Server::create("NTLM", so);
        FUZZ_CHECK(server.has_value());
        (void)server->start();
        sasl::ServerStep const sent = server->respond(negotiate.data);
        FUZZ_CHECK(sent.kind == sasl::ServerStep::Kind::challenge && sent.data == message);
        sasl::ServerStep const verdict = server->respond(step.data);
        FUZZ_CHECK(verdict.kind ==
                   (right ? sasl::ServerStep::Kind::success : sasl::ServerStep::Kind::failure));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    // A copy of exactly `size` bytes, so that ASan sees any read past the message.
    std::string const message(reinterpret_cast<char const*>(data), size);
    ntlm::DecodeResult const r = ntlm::decode_challenge(message);
    FUZZ_CHECK(r.challenge.has_value() == (r.error == ntlm::Errc::none));
    check_exchange(message, r);
    if (!r.challenge) {
        FUZZ_CHECK(!r.detail.empty());
        return 0;
    }
    FUZZ_CHECK(r.detail.empty());
    check_decoded(*r.challenge);

    std::string const again = ntlm::encode_challenge(*r.challenge);
    ntlm::DecodeResult const back = ntlm::decode_challenge(again);
    FUZZ_CHECK(back.error == ntlm::Errc::none);
    ntlm::Challenge expected = *r.challenge;
    ntlm::Challenge got = *back.challenge;
    if (expected.target_info && got.target_info)
        got.target_info->pairs = expected.target_info->pairs; // repeats are not re-encoded
    FUZZ_CHECK(got == expected);
    return 0;
}
