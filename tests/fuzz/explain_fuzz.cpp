// libFuzzer target: the `smtpprobe explain` argument parser, diagnose::parse_code_query, and
// diagnose::explain on what it returns (src/diagnose/status_codes.hpp). Built and run by
// tests/fuzz/run.sh (in CI from scripts/test.sh).
//
// Input: the text a user typed after "smtpprobe explain" (the words joined by spaces); after
// a NUL byte, an optional vendor hint for explain().

#include "diagnose/status_codes.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using smtpprobe::diagnose::CodeQuery;
using smtpprobe::diagnose::explain;
using smtpprobe::diagnose::Meaning;
using smtpprobe::diagnose::parse_code_query;

namespace {

bool digits(std::string_view text, std::size_t max) {
    if (text.empty() || text.size() > max)
        return false;
    for (char c : text)
        if (c < '0' || c > '9')
            return false;
    return true;
}

/// RFC 3463 §2 shape as parse_code_query documents it: class 2, 4, 5 or X, then two dotted
/// parts of one to three digits.
bool enhanced_shape(std::string_view code) {
    if (code.size() < 5 || code[1] != '.')
        return false;
    if (code[0] != '2' && code[0] != '4' && code[0] != '5' && code[0] != 'X')
        return false;
    std::size_t const dot = code.find('.', 2);
    if (dot == std::string_view::npos)
        return false;
    return digits(code.substr(2, dot - 2), 3) && digits(code.substr(dot + 1), 3);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const input(reinterpret_cast<char const*>(data), size);
    std::size_t const nul = input.find('\0');
    std::string_view const text = input.substr(0, nul);
    std::string_view const hint = nul == std::string_view::npos ? "" : input.substr(nul + 1);

    std::optional<CodeQuery> const query = parse_code_query(text);
    if (!query)
        return 0;
    // nullopt unless at least one code was found; each one found is valid.
    FUZZ_CHECK(query->reply_code != 0 || !query->enhanced.empty());
    if (query->reply_code != 0) {
        int const c = query->reply_code;
        FUZZ_CHECK(c >= 200 && c <= 599 && (c / 10) % 10 <= 5);
    }
    if (!query->enhanced.empty()) {
        FUZZ_CHECK(enhanced_shape(query->enhanced));
        FUZZ_CHECK(text.find(query->enhanced.substr(1)) != std::string_view::npos);
    }

    // What was found parses back to itself (the query is normalised: "x.7.4" -> "X.7.4").
    std::string again;
    if (query->reply_code != 0)
        again = std::to_string(query->reply_code);
    if (!query->enhanced.empty())
        again += (again.empty() ? "" : " ") + query->enhanced;
    std::optional<CodeQuery> const reparsed = parse_code_query(again);
    FUZZ_CHECK(reparsed.has_value());
    FUZZ_CHECK(reparsed->reply_code == query->reply_code);
    FUZZ_CHECK(reparsed->enhanced == query->enhanced);

    // `smtpprobe explain` then prints every meaning: each has a subject, a text and a source.
    std::vector<Meaning> const meanings = explain(query->reply_code, query->enhanced, hint);
    FUZZ_CHECK(!meanings.empty());
    for (Meaning const& m : meanings) {
        FUZZ_CHECK(!m.subject.empty());
        FUZZ_CHECK(!m.text.empty());
        FUZZ_CHECK(!m.source.empty());
    }
    return 0;
}
