// libFuzzer target: the DIGEST-MD5 challenge parser (src/sasl/digest_md5.hpp) and the client's
// two steps on what it accepts. The input is a digest-challenge as a server sends it (the
// decoded text of the first 334 line). Checked on every input:
//   - parse_directives() and parse_challenge() return without reading past the input (ASan),
//     throwing or trapping; exactly one of "parsed" and "error" holds; an error is printable
//     words and quotes no text of the input: the input with every letter rotated (ROT13, which
//     keeps the syntax) gives the same error (a hostile server could make a directive name
//     the password);
//   - parsed directives keep the bounds: at most max_directives, names non-empty lower-case
//     tokens, no control character but tab in a value;
//   - parse_challenge() agrees with parse_directives(): its nonce is the one nonce directive,
//     its realms every realm directive in order, qop "auth" when the directive is absent;
//   - a parsed challenge written back with quote() parses to the same challenge;
//   - sasl::Client for DIGEST-MD5 (credentials and cnonce fixed) answers the challenge with a
//     response exactly when the challenge parses and offers qop auth; the response parses
//     within RFC 2831's 4095 bytes, names the challenge's nonce and the first realm, its
//     "response" is response_value() of the same inputs, and it carries no password unless the
//     challenge held it (realm and nonce are echoed); a cancel
//     has words without the password;
//   - the server's rspauth: the right one verifies the server, any other is
//     server_proof_mismatch and leaves it unverified.
// tests/fuzz/run.sh builds and runs it; seeds come from samples/transcripts (DIGEST-MD5
// challenges), RFC 2831's example and hand-written edge cases.

#include "fuzz_check.hpp"
#include "sasl/digest_md5.hpp"
#include "sasl/sasl.hpp"

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sasl = smtpprobe::sasl;
namespace digest = smtpprobe::sasl::digest;

namespace {

constexpr std::string_view user = "chris";
constexpr std::string_view password = "Wh0?Kn0ws!s3cr3t";
constexpr std::string_view cnonce = "OA6MHXh6VqTrRk";
constexpr std::string_view host = "elwood.innosoft.com";

bool printable(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return false;
    return true;
}

bool is_token(std::string_view s) {
    if (s.empty())
        return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos) ||
            std::isupper(static_cast<unsigned char>(c)))
            return false;
    return true;
}

/// ROT13 on ASCII letters: a letter stays a letter (a token character), nothing else changes.
std::string rot13(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>('a' + (c - 'a' + 13) % 26);
        else if (c >= 'A' && c <= 'Z')
            c = static_cast<char>('A' + (c - 'A' + 13) % 26);
    }
    return out;
}

bool has_control(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f')
            return true;
    return false;
}

std::string build_challenge(digest::Challenge const& c) {
    std::string out;
    for (std::string const& realm : c.realms)
        out += "realm=" + digest::quote(realm) + ",";
    out += "nonce=" + digest::quote(c.nonce);
    std::string qop;
    for (std::string const& q : c.qops)
        qop += (qop.empty() ? "" : ",") + q;
    out += ",qop=" + digest::quote(qop);
    if (c.utf8)
        out += ",charset=utf-8";
    if (c.stale)
        out += ",stale=true";
    return out + ",algorithm=md5-sess";
}

void check_client(std::string_view text, digest::ChallengeResult const& parsed) {
    sasl::ClientOptions options;
    options.host = std::string(host);
    options.nonce = std::string(cnonce);
    auto client =
        sasl::Client::create("DIGEST-MD5", {std::string(user), std::string(password), {}}, options);
    FUZZ_CHECK(client.has_value());
    sasl::ClientStep const step = client->respond(text);
    bool offers_auth = false;
    if (parsed.challenge)
        for (std::string const& q : parsed.challenge->qops)
            offers_auth = offers_auth || q == "auth";
    if (step.kind == sasl::ClientStep::Kind::cancel) {
        // Only a challenge that does not parse, offers no qop auth, has a realm the response
        // cannot carry, or makes the response too long is cancelled.
        if (parsed.challenge && offers_auth &&
            !(!parsed.challenge->realms.empty() && has_control(parsed.challenge->realms[0])))
            FUZZ_CHECK(step.error.find("4095") != std::string::npos);
        FUZZ_CHECK(!step.error.empty() && printable(step.error));
        FUZZ_CHECK(step.error.find(password) == std::string::npos);
        return;
    }
    FUZZ_CHECK(parsed.challenge.has_value() && offers_auth);
    FUZZ_CHECK(step.error.empty());
    FUZZ_CHECK(step.data.size() <= digest::max_response);
    // The response echoes the server's realm and nonce (RFC 2831 2.1.2), so only what the
    // server itself sent may hold the password (the fuzzer planted it there): in the raw text,
    // or in a value once its quoted-string escapes are undone ("Kn0ws!\s3cr3t" is
    // "Kn0ws!s3cr3t").
    bool const server_sent_it = text.find(password) != std::string_view::npos ||
                                parsed.challenge->nonce.find(password) != std::string::npos ||
                                (!parsed.challenge->realms.empty() &&
                                 parsed.challenge->realms[0].find(password) != std::string::npos);
    FUZZ_CHECK(step.data.find(password) == std::string::npos || server_sent_it);
    digest::Directives const d = digest::parse_directives(step.data, digest::max_response);
    FUZZ_CHECK(d.error.empty());
    auto const nonce = d.all("nonce");
    auto const realm = d.all("realm");
    auto const response = d.all("response");
    auto const uri = d.all("digest-uri");
    FUZZ_CHECK(nonce.size() == 1 && *nonce[0] == parsed.challenge->nonce);
    FUZZ_CHECK(realm.size() == (parsed.challenge->realms.empty() ? 0U : 1U));
    FUZZ_CHECK(realm.empty() || *realm[0] == parsed.challenge->realms[0]);
    FUZZ_CHECK(response.size() == 1 && response[0]->size() == 32);
    FUZZ_CHECK(uri.size() == 1 && *uri[0] == "smtp/" + std::string(host));

    digest::Input in;
    in.user = std::string(user);
    in.realm = realm.empty() ? std::string() : *realm[0];
    if (parsed.challenge->utf8)
        in.realm = digest::to_latin1(in.realm).value_or(in.realm);
    in.password = std::string(password);
    in.nonce = parsed.challenge->nonce;
    in.cnonce = std::string(cnonce);
    in.digest_uri = "smtp/" + std::string(host);
    FUZZ_CHECK(*response[0] == digest::response_value(in));

    // The server's proof: a wrong one first on a copy, then the right one.
    sasl::Client wrong = *client;
    sasl::ClientStep const bad = wrong.respond("rspauth=00000000000000000000000000000000");
    FUZZ_CHECK(bad.kind == sasl::ClientStep::Kind::cancel);
    FUZZ_CHECK(bad.problem == sasl::ClientStep::Problem::server_proof_mismatch);
    FUZZ_CHECK(!wrong.server_verified());
    sasl::ClientStep const good = client->respond("rspauth=" + digest::rspauth_value(in));
    FUZZ_CHECK(good.kind == sasl::ClientStep::Kind::respond && good.data.empty());
    FUZZ_CHECK(client->server_verified());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    // A copy of exactly `size` bytes, so that ASan sees any read past the challenge.
    std::string const text(reinterpret_cast<char const*>(data), size);

    digest::Directives const d = digest::parse_directives(text, digest::max_challenge);
    if (!d.error.empty()) {
        // The error quotes nothing of the input: the same input with every letter changed
        // (which keeps the directive syntax) gives the same words.
        FUZZ_CHECK(printable(d.error));
        FUZZ_CHECK(digest::parse_directives(rot13(text), digest::max_challenge).error == d.error);
    } else {
        FUZZ_CHECK(d.list.size() <= digest::max_directives);
        for (digest::Directive const& one : d.list) {
            FUZZ_CHECK(is_token(one.name));
            for (char c : one.value)
                FUZZ_CHECK(c == '\t' || static_cast<unsigned char>(c) >= 0x20);
            FUZZ_CHECK(one.value.find('\x7f') == std::string::npos);
        }
    }

    digest::ChallengeResult const parsed = digest::parse_challenge(text);
    FUZZ_CHECK(parsed.challenge.has_value() == parsed.error.empty());
    if (!parsed.challenge) {
        FUZZ_CHECK(!parsed.error.empty() && printable(parsed.error));
    } else {
        digest::Challenge const& c = *parsed.challenge;
        FUZZ_CHECK(d.error.empty());
        FUZZ_CHECK(text.size() <= digest::max_challenge);
        auto const nonces = d.all("nonce");
        FUZZ_CHECK(nonces.size() == 1 && *nonces[0] == c.nonce);
        auto const realms = d.all("realm");
        FUZZ_CHECK(realms.size() == c.realms.size());
        for (std::size_t i = 0; i < realms.size(); ++i)
            FUZZ_CHECK(*realms[i] == c.realms[i]);
        FUZZ_CHECK(!c.qops.empty());
        if (d.all("qop").empty())
            FUZZ_CHECK(c.qops.size() == 1 && c.qops[0] == "auth");

        // Written back, it parses to the same challenge (when it still fits).
        std::string const again = build_challenge(c);
        digest::ChallengeResult const back = digest::parse_challenge(again);
        if (again.size() <= digest::max_challenge) {
            FUZZ_CHECK(back.challenge.has_value());
            FUZZ_CHECK(back.challenge->nonce == c.nonce && back.challenge->realms == c.realms &&
                       back.challenge->qops == c.qops && back.challenge->utf8 == c.utf8 &&
                       back.challenge->stale == c.stale);
        }
    }
    check_client(text, parsed);

    // to_latin1: a result is at most as long as the input, and pure ASCII stays as it is.
    if (auto const latin1 = digest::to_latin1(text)) {
        FUZZ_CHECK(latin1->size() <= text.size());
        bool ascii = true;
        for (char c : text)
            ascii = ascii && static_cast<unsigned char>(c) < 0x80;
        FUZZ_CHECK(!ascii || *latin1 == text);
    }
    return 0;
}
