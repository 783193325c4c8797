// libFuzzer target: the OAuth bearer-token reader sasl::read_bearer_token and the provider
// predicates (src/sasl/bearer_token.hpp). Built and run by tests/fuzz/run.sh.
//
// Input: byte 0 picks the mode. Mode 0: the rest is the token as given. Mode 1: the rest is
// "HEADER\0CLAIMS" (raw JSON, usually), which the target base64url-encodes into
// HEADER.CLAIMS.sig, so that the fuzzer reaches the claims' reader without having to find
// valid base64url first.

#include "sasl/bearer_token.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace smtpprobe::sasl;

namespace {

void check_list(std::vector<std::string> const& list) {
    FUZZ_CHECK(list.size() <= max_list);
    for (std::string const& item : list) {
        FUZZ_CHECK(!item.empty());
        FUZZ_CHECK(item.size() <= max_value);
    }
}

void check_token(std::string_view text) {
    BearerToken const t = read_bearer_token(text);
    FUZZ_CHECK(t.length == text.size());
    bool const google =
        text.substr(0, google_access_token_prefix.size()) == google_access_token_prefix;
    FUZZ_CHECK((t.kind == TokenKind::google_opaque) == (google && text.size() <= max_token_bytes));
    if (!t.claims)
        return;
    FUZZ_CHECK(t.kind == TokenKind::jwt);
    FUZZ_CHECK(t.error.empty());
    TokenClaims const& c = *t.claims;
    for (auto const* list : {&c.aud, &c.scp, &c.roles, &c.scope})
        check_list(*list);
    for (std::string const* value :
         {&c.iss, &c.tid, &c.appid, &c.azp, &c.idtyp, &c.upn, &c.unique_name, &c.preferred_username,
          &c.email, &c.sub, &c.oid, &c.ver})
        FUZZ_CHECK(value->size() <= max_value);
    if (std::string const* user = c.user())
        FUZZ_CHECK(!user->empty());
    // The predicates and the dates on whatever was read.
    (void)c.app_only();
    (void)c.expired(0);
    (void)c.not_yet_valid(0);
    (void)c.has_scope(smtp_send_scope);
    (void)c.has_role(smtp_send_as_app_role);
    (void)microsoft_token(c);
    for (std::string const& aud : c.aud)
        FUZZ_CHECK(!(exchange_online_audience(aud) && graph_audience(aud)));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size == 0)
        return 0;
    std::string_view const input(reinterpret_cast<char const*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        check_token(input);
        return 0;
    }
    std::size_t const nul = input.find('\0');
    std::string_view const header = input.substr(0, nul);
    std::string_view const claims =
        nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
    std::string const token = base64url_encode(header) + "." + base64url_encode(claims) + ".c2ln";
    check_token(token);
    // base64url round trip of what the target encoded.
    std::optional<std::string> const decoded = base64url_decode(base64url_encode(claims));
    FUZZ_CHECK(decoded && *decoded == claims);
    return 0;
}
