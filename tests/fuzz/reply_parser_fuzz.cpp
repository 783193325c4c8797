// libFuzzer target: smtp::ReplyParser (src/smtp/reply.hpp), the Reply accessors and
// smtp::parse_capabilities (src/smtp/capabilities.hpp). Not part of the CMake build;
// tests/fuzz/run.sh builds and runs it (in CI from scripts/test.sh).
//
// Input layout (inputs shorter than the header are parsed with the defaults, unsplit):
//   byte 0  number of cut points, 0..14; 15 feeds the stream one byte at a time
//   byte 1  seed for the cut positions and for when next() is drained
//   byte 2  max_line: 0 = the default (4096), otherwise 2 * byte (2..510)
//   byte 3  max_lines: 0 = the default (256), otherwise byte % 16 (0..15)
//   rest    the bytes a server sent
//
// The same bytes are parsed in one piece and in pieces; any violated invariant traps.

#include "smtp/capabilities.hpp"
#include "smtp/errc.hpp"
#include "smtp/reply.hpp"

#include "fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using smtpprobe::smtp::Capabilities;
using smtpprobe::smtp::enhanced_code_length;
using smtpprobe::smtp::iequals;
using smtpprobe::smtp::parse_capabilities;
using smtpprobe::smtp::ParserLimits;
using smtpprobe::smtp::Reply;
using smtpprobe::smtp::ReplyParser;

namespace {

constexpr std::size_t header_size = 4;
constexpr std::size_t evidence_limit = 200; // ReplyParser::error_line() bound (reply.hpp)

struct Rng {
    std::uint32_t state;
    std::uint32_t next() {
        // xorshift32; the seed is never 0
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    }
};

struct Outcome {
    std::vector<Reply> replies;
    std::error_code error;
    std::string error_line;
    std::size_t bare_lf_lines = 0;
    std::size_t long_lines = 0;
};

void check_reply(Reply const& reply, ParserLimits const& limits) {
    FUZZ_CHECK(reply.code >= 200 && reply.code <= 599);
    FUZZ_CHECK(!reply.lines.empty());
    FUZZ_CHECK(reply.lines.size() <= limits.max_lines);
    for (std::string const& line : reply.lines) {
        FUZZ_CHECK(line.size() <= limits.max_line);
        // the raw line was "NNN-" + text (+ CR): text and its prefix fit the hard limit
        FUZZ_CHECK(line.empty() || line.size() + 4 <= limits.max_line);
        FUZZ_CHECK(line.find('\n') == std::string::npos);
    }

    std::string const enhanced = reply.enhanced();
    if (!enhanced.empty()) {
        FUZZ_CHECK(enhanced_code_length(reply.lines.front()) == enhanced.size());
        FUZZ_CHECK(std::string_view(reply.lines.front()).starts_with(enhanced));
        FUZZ_CHECK(enhanced[0] - '0' == reply.first_digit());
    }
    std::string const status = reply.status();
    FUZZ_CHECK(status == std::to_string(reply.code) + (enhanced.empty() ? "" : " " + enhanced));
    std::string const text = reply.text();
    std::string const summary = reply.summary();
    FUZZ_CHECK(summary == status + (text.empty() ? "" : " " + text));

    // wire() is the reply as sent; sent again (CRLF-terminated) it parses to the same reply.
    std::string wire = reply.wire();
    std::size_t const newlines =
        static_cast<std::size_t>(std::count(wire.begin(), wire.end(), '\n'));
    FUZZ_CHECK(newlines + 1 == reply.lines.size());
    std::string crlf;
    for (char c : wire) {
        if (c == '\n')
            crlf += '\r';
        crlf += c;
    }
    crlf += "\r\n";
    // a bare "250" line comes back as "250 ": one octet longer than it was
    ReplyParser again(
        ParserLimits{std::max<std::size_t>(limits.max_line, 4) + 1, limits.max_lines});
    FUZZ_CHECK(again.feed(crlf) == crlf.size());
    FUZZ_CHECK(!again.error());
    std::optional<Reply> reparsed = again.next();
    FUZZ_CHECK(reparsed.has_value() && *reparsed == reply);
    FUZZ_CHECK(!again.next().has_value());
    FUZZ_CHECK(again.buffered() == 0);

    Capabilities const caps = parse_capabilities(reply);
    FUZZ_CHECK(caps.items.size() + 1 <= reply.lines.size());
    for (std::size_t i = 0; i < caps.auth.size(); ++i) {
        FUZZ_CHECK(!caps.auth[i].empty());
        FUZZ_CHECK(caps.offers(caps.auth[i]));
        for (std::size_t j = i + 1; j < caps.auth.size(); ++j)
            FUZZ_CHECK(!iequals(caps.auth[i], caps.auth[j])); // deduplicated
    }
    FUZZ_CHECK(caps.auth.empty() || caps.auth_space_form || caps.auth_equals_form);
    for (std::string const& keyword : caps.keywords())
        FUZZ_CHECK(caps.has(keyword));
    (void)caps.offers("PLAIN");
}

/// Drains next(), checking the buffered() accounting: a reply taken out frees exactly its
/// wire bytes, and what stays buffered plus what was taken is everything fed.
void drain(ReplyParser& parser, Outcome& out, std::size_t fed, std::size_t& taken_out,
           ParserLimits const& limits) {
    while (true) {
        std::size_t const before = parser.buffered();
        std::optional<Reply> reply = parser.next();
        if (!reply) {
            FUZZ_CHECK(parser.buffered() == before);
            break;
        }
        std::size_t const after = parser.buffered();
        FUZZ_CHECK(after < before);
        taken_out += before - after;
        check_reply(*reply, limits);
        out.replies.push_back(std::move(*reply));
    }
    FUZZ_CHECK(parser.buffered() <= fed);
    FUZZ_CHECK(taken_out + parser.buffered() == fed);
    // with every complete reply taken, what is left is one unfinished reply (at most
    // max_lines lines, plus the line that failed) and one unfinished line
    FUZZ_CHECK(parser.buffered() <=
               (limits.max_lines + 1) * (limits.max_line + 1) + limits.max_line);
}

void finish(ReplyParser& parser, Outcome& out) {
    std::error_code const before = parser.error();
    parser.finish();
    if (before)
        FUZZ_CHECK(parser.error() == before);
    parser.finish(); // idempotent
    out.error = parser.error();
    out.error_line = parser.error_line();
    out.bare_lf_lines = parser.bare_lf_lines();
    out.long_lines = parser.long_lines();
    FUZZ_CHECK(out.error_line.size() <= evidence_limit);
    FUZZ_CHECK(!out.error || out.error.category() == smtpprobe::smtp::smtp_category());
}

/// Feeds one piece and checks feed()'s contract and the stickiness of error().
std::size_t feed_checked(ReplyParser& parser, std::string_view piece, std::size_t& fed) {
    std::error_code const before = parser.error();
    std::size_t const taken = parser.feed(piece);
    FUZZ_CHECK(taken <= piece.size());
    if (before) {
        FUZZ_CHECK(taken == 0);
        FUZZ_CHECK(parser.error() == before); // sticky: never cleared, never replaced
    } else if (!parser.error()) {
        FUZZ_CHECK(taken == piece.size());
    }
    fed += taken;
    return taken;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::size_t cuts = 0;
    std::uint32_t seed = 1;
    ParserLimits limits;
    std::string_view input(reinterpret_cast<char const*>(data), size);
    if (size >= header_size) {
        cuts = data[0] & 0x0f;
        seed = 0x9e3779b9u ^ (static_cast<std::uint32_t>(data[1]) << 8 | data[0]);
        if (data[2] != 0)
            limits.max_line = 2u * data[2];
        if (data[3] != 0)
            limits.max_lines = data[3] % 16u;
        input.remove_prefix(header_size);
    }
    Rng rng{seed};

    // In one piece.
    Outcome whole;
    {
        ReplyParser parser(limits);
        std::size_t fed = 0;
        std::size_t taken_out = 0;
        feed_checked(parser, input, fed);
        drain(parser, whole, fed, taken_out, limits);
        finish(parser, whole);
        drain(parser, whole, fed, taken_out, limits); // finish() produces no reply
        FUZZ_CHECK(fed == input.size() || whole.error);
    }

    // In pieces, draining at random points.
    std::vector<std::size_t> points;
    if (cuts == 15) {
        for (std::size_t i = 1; i < input.size(); ++i)
            points.push_back(i);
    } else if (!input.empty()) {
        for (std::size_t i = 0; i < cuts; ++i)
            points.push_back(rng.next() % (input.size() + 1));
        std::sort(points.begin(), points.end());
    }
    points.push_back(input.size());

    Outcome pieces;
    {
        ReplyParser parser(limits);
        std::size_t fed = 0;
        std::size_t taken_out = 0;
        std::size_t start = 0;
        for (std::size_t point : points) {
            feed_checked(parser, input.substr(start, point - start), fed);
            FUZZ_CHECK(parser.buffered() <= fed);
            start = point;
            if (rng.next() & 1)
                drain(parser, pieces, fed, taken_out, limits);
        }
        feed_checked(parser, {}, fed); // an empty feed changes nothing
        drain(parser, pieces, fed, taken_out, limits);
        finish(parser, pieces);
        std::error_code const sticky = parser.error();
        if (sticky) {
            feed_checked(parser, "250 more after the error\r\n", fed);
            FUZZ_CHECK(parser.error() == sticky);
            FUZZ_CHECK(!parser.next().has_value());
        }
    }

    FUZZ_CHECK(whole.error == pieces.error);
    FUZZ_CHECK(whole.replies == pieces.replies);
    FUZZ_CHECK(whole.bare_lf_lines == pieces.bare_lf_lines);
    FUZZ_CHECK(whole.long_lines == pieces.long_lines);
    // The evidence for a too-long line ends where the piece that crossed the limit ended; under
    // a limit below the 200-octet evidence bound that depends on the split, so it is compared
    // only when the limit is at least the bound (then both hold the line's first 200 octets).
    if (limits.max_line >= evidence_limit)
        FUZZ_CHECK(whole.error_line == pieces.error_line);
    return 0;
}
