// libFuzzer target: the emulator's profile loader (src/emulator/profile.hpp), which reads
// files users write: parse_profile_text() (what load_profile() does with a file's bytes: JSON
// with comments, then parse_profile()), and render_reply() on every reply of a profile it
// accepts. Built and run by tests/fuzz/run.sh (in CI from scripts/test.sh).
//
// Input: the bytes of a profile file.
//
// A bad profile must be a std::runtime_error naming the source ("fuzz: <field>: ..."): the
// message `smtpprobe emulate` prints. Any other exception (a nlohmann::json error, an
// out_of_range from a standard container) escaping it traps, and so does a profile that
// parses but has a reply render_reply() cannot send as SMTP lines.

#include "emulator/profile.hpp"
#include "emulator/reply_text.hpp"

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

using smtpprobe::emulator::parse_profile_text;
using smtpprobe::emulator::Profile;
using smtpprobe::emulator::render_reply;

namespace {

bool is_code(std::string_view line) {
    return line.size() >= 4 && line[0] >= '0' && line[0] <= '9' && line[1] >= '0' &&
           line[1] <= '9' && line[2] >= '0' && line[2] <= '9';
}

/// A stored reply renders into CRLF-terminated lines that each start with a code, with no
/// bare CR or LF inside a line.
void check_reply(std::string_view reply, std::string_view hostname) {
    std::string const wire = render_reply(reply, hostname, "192.0.2.1");
    FUZZ_CHECK(wire.size() >= 2 && wire.substr(wire.size() - 2) == "\r\n");
    std::size_t start = 0;
    while (start < wire.size()) {
        std::size_t const end = wire.find("\r\n", start);
        FUZZ_CHECK(end != std::string::npos);
        std::string_view const line = std::string_view(wire).substr(start, end - start);
        FUZZ_CHECK(line.find('\r') == std::string_view::npos);
        FUZZ_CHECK(line.find('\n') == std::string_view::npos);
        FUZZ_CHECK(is_code(line) || line.size() == 3);
        start = end + 2;
    }
}

void check_profile(Profile const& p) {
    FUZZ_CHECK(!p.name.empty());
    FUZZ_CHECK(p.tls_min <= p.tls_max);
    for (std::string const* reply :
         {&p.banner, &p.helo, &p.syntax_reply, &p.data_end_reply, &p.starttls_active_reply,
          &p.starttls_unavailable_reply, &p.line_too_long_reply, &p.too_many_connections_reply,
          &p.timeout_reply, &p.auth.before_tls_reply, &p.auth.unknown_mechanism_reply,
          &p.auth.success_reply, &p.auth.failure_reply, &p.auth.cancel_reply,
          &p.auth.already_authenticated_reply, &p.auth.malformed_reply, &p.auth.syntax_reply,
          &p.auth.line_too_long_reply, &p.auth.drop_reply})
        check_reply(*reply, p.hostname);
    if (!p.hello_first_reply.empty())
        check_reply(p.hello_first_reply, p.hostname);
    for (auto const& [verb, reply] : p.replies)
        check_reply(reply, p.hostname);
    for (auto const& [verb, reply] : p.authenticated_replies)
        check_reply(reply, p.hostname);
    for (auto const& [mechanism, reply] : p.auth.failure_replies)
        check_reply(reply, p.hostname);
    for (auto const& [mechanism, reply] : p.auth.first_replies)
        check_reply(reply, p.hostname);
    FUZZ_CHECK(p.auth.drop_after_failures <= 1000);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    Profile profile;
    try {
        profile =
            parse_profile_text(std::string_view(reinterpret_cast<char const*>(data), size), "fuzz");
    } catch (std::runtime_error const& e) {
        std::string_view const what = e.what();
        if (typeid(e) != typeid(std::runtime_error) || what.substr(0, 6) != "fuzz: ") {
            std::fprintf(stderr, "unexpected %s: %s\n", typeid(e).name(), e.what());
            __builtin_trap();
        }
        return 0;
    } catch (std::exception const& e) {
        std::fprintf(stderr, "unexpected exception %s: %s\n", typeid(e).name(), e.what());
        __builtin_trap();
    }
    check_profile(profile);
    return 0;
}
