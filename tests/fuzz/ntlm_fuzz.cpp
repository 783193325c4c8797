// libFuzzer target: the NTLM CHALLENGE decoder (src/sasl/ntlm.hpp). The input is the raw
// message (what base64 decoding of a 334 line gives). Checked on every input:
//   - decode_challenge() returns, without reading past the input (ASan) or throwing;
//   - exactly one of "decoded" and "error" holds, and an error has words;
//   - a decoded message keeps the bounds: at most max_av_pairs pairs, names valid UTF-8,
//     other_ids unique and none of the decoded ids, VERSION / TARGET_INFO only with their flags;
//   - encode_challenge() of a decoded message decodes to the same message (pairs aside);
//   - the renderer's helpers (flag names, FILETIME, version) accept every value.
// tests/fuzz/run.sh builds and runs it; seeds are in tests/fuzz/corpus/ntlm_fuzz.

#include "fuzz_check.hpp"
#include "sasl/ntlm.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ntlm = smtpprobe::sasl::ntlm;

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    // A copy of exactly `size` bytes, so that ASan sees any read past the message.
    std::string const message(reinterpret_cast<char const*>(data), size);
    ntlm::DecodeResult const r = ntlm::decode_challenge(message);
    FUZZ_CHECK(r.challenge.has_value() == (r.error == ntlm::Errc::none));
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
