// libFuzzer target: the decoder of a refused token's error challenge, sasl::decode_oauth_error
// (src/sasl/oauth_error.hpp): the text of the 334 a server sends after an XOAUTH2 or
// OAUTHBEARER token it refuses. Built and run by tests/fuzz/run.sh.
//
// Input: byte 0 picks the mode. Mode 0: the rest is the challenge text as the server sent it.
// Mode 1: the rest is the decoded challenge (JSON, usually), which the target base64-encodes,
// so that the fuzzer reaches the JSON reader without having to find valid base64 first.

#include "sasl/oauth_error.hpp"
#include "smtp/base64.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

using namespace smtpprobe::sasl;

namespace {

void check_value(std::optional<std::string> const& value) {
    if (value)
        FUZZ_CHECK(value->size() <= max_error_value);
}

void check_challenge(std::string_view challenge, bool base64) {
    OAuthError const e = decode_oauth_error(challenge);
    FUZZ_CHECK(e.text.size() <= max_error_text);
    if (challenge.empty())
        FUZZ_CHECK(e.form == OAuthError::Form::empty);
    if (base64 && challenge.size() <= max_error_challenge)
        FUZZ_CHECK(e.form != OAuthError::Form::not_base64);
    if (e.form != OAuthError::Form::json) {
        // Members come only from a JSON object.
        FUZZ_CHECK(!e.status && !e.schemes && !e.scope && !e.openid_configuration);
    }
    for (auto const* value : {&e.status, &e.schemes, &e.scope, &e.openid_configuration})
        check_value(*value);
    if (e.status)
        (void)oauth_status_meaning(*e.status);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size == 0)
        return 0;
    std::string_view const input(reinterpret_cast<char const*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        check_challenge(input, false);
        return 0;
    }
    check_challenge(smtpprobe::smtp::base64_encode(input), !input.empty());
    return 0;
}
