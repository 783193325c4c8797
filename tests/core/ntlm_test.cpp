// The NTLM information decoder (src/sasl/ntlm.hpp) against the CHALLENGE_MESSAGEs of
// MS-NLMP section 4.2 and against malformed messages.
//
// The example messages: MS-NLMP 4.2.2.3 (NTLM v1), 4.2.3.3 (NTLM v1 with extended session
// security) and 4.2.4.3 (NTLMv2). The specification's own pages were not reachable from
// here; the bytes below are the ones that several independent implementations carry in their
// tests as those sections' messages (.NET's System.Net.Security NTAuthenticationTests "from
// 4.2.4.3 Messages", iPXE's ntlm_test.c "from MS-NLMP specification", go-ntlm's
// ntlmv1_test.go / ntlmv2_test.go) and agree on byte for byte.

#include "sasl/ntlm.hpp"
#include "smtp/base64.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

using namespace smtpprobe::sasl::ntlm;
using smtpprobe::smtp::base64_encode;

namespace {

std::string unhex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

// MS-NLMP 4.2.4.3: NTLMv2, target name "Server", TargetInfo NbDomainName "Domain" and
// NbComputerName "Server", VERSION 6.0.6000 revision 15.
std::string const spec_v2 = unhex("4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"
                                  "00000000000000002400240044000000060070170000000f5300650072007600"
                                  "6500720002000c0044006f006d00610069006e0001000c005300650072007600"
                                  "6500720000000000");
// MS-NLMP 4.2.2.3: NTLM v1, no target information.
std::string const spec_v1 = unhex("4e544c4d53535000020000000c000c0038000000338202e20123456789abcdef"
                                  "00000000000000000000000000000000060070170000000f5300650072007600"
                                  "65007200");
// MS-NLMP 4.2.3.3: NTLM v1 with extended session security.
std::string const spec_v1_ess =
    unhex("4e544c4d53535000020000000c000c003800000033820a820123456789abcdef"
          "00000000000000000000000000000000060070170000000f5300650072007600"
          "65007200");

Challenge decoded(std::string_view message) {
    DecodeResult r = decode_challenge(message);
    INFO(r.detail);
    REQUIRE(r.error == Errc::none);
    REQUIRE(r.challenge.has_value());
    return *r.challenge;
}

Errc error_of(std::string_view message) {
    DecodeResult const r = decode_challenge(message);
    CHECK(r.challenge.has_value() == (r.error == Errc::none));
    if (r.error != Errc::none)
        CHECK_FALSE(r.detail.empty());
    return r.error;
}

void put16(std::string& m, std::size_t at, unsigned value) {
    m[at] = static_cast<char>(value & 0xff);
    m[at + 1] = static_cast<char>(value >> 8 & 0xff);
}

void put32(std::string& m, std::size_t at, unsigned long value) {
    put16(m, at, static_cast<unsigned>(value & 0xffff));
    put16(m, at + 2, static_cast<unsigned>(value >> 16 & 0xffff));
}

std::string utf16(std::string_view ascii) {
    std::string out;
    for (char c : ascii) {
        out += c;
        out += '\0';
    }
    return out;
}

/// The 4.2.4.3 message with its TargetInfo replaced by `info` (lengths fixed up).
std::string with_target_info(std::string const& info) {
    std::string m = spec_v2.substr(0, 0x44) + info;
    put16(m, 40, static_cast<unsigned>(info.size()));
    put16(m, 42, static_cast<unsigned>(info.size()));
    return m;
}

std::string av(unsigned id, std::string const& value) {
    std::string out(4, '\0');
    put16(out, 0, id);
    put16(out, 2, static_cast<unsigned>(value.size()));
    return out + value;
}

std::string const eol(4, '\0');

} // namespace

TEST_CASE("the NEGOTIATE message carries the probe's flags and nothing else", "[core][ntlm]") {
    std::string const m = negotiate_message();
    REQUIRE(m.size() == 40);
    CHECK(m.substr(0, 8) == std::string("NTLMSSP\0", 8));
    CHECK(m.substr(8, 4) == std::string("\x01\0\0\0", 4));
    CHECK(m.substr(12, 4) == "\x07\x82\x08\xa2"); // 0xa2088207, as nmap's smtp-ntlm-info
    CHECK(probe_flags == 0xa2088207u);
    // empty DomainName and Workstation fields, then VERSION with NTLMRevisionCurrent 15
    CHECK(m.substr(16, 24) == unhex("0000000028000000"
                                    "0000000028000000"
                                    "000000000000000f"));
    CHECK(base64_encode(m) == "TlRMTVNTUAABAAAAB4IIogAAAAAoAAAAAAAAACgAAAAAAAAAAAAADw==");
}

TEST_CASE("MS-NLMP 4.2.4.3: the NTLMv2 CHALLENGE_MESSAGE", "[core][ntlm]") {
    Challenge const c = decoded(spec_v2);
    CHECK(c.flags == 0xe28a8233u);
    CHECK(c.server_challenge ==
          std::array<std::uint8_t, 8>{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef});
    CHECK(c.target_name == "Server");
    REQUIRE(c.version.has_value());
    CHECK(*c.version == Version{6, 0, 6000, 15});
    CHECK(to_string(*c.version) == "6.0.6000");
    CHECK(windows_release(*c.version) == "Windows Vista");
    REQUIRE(c.target_info.has_value());
    TargetInfo const& t = *c.target_info;
    CHECK(t.nb_domain_name == "Domain");
    CHECK(t.nb_computer_name == "Server");
    CHECK_FALSE(t.dns_computer_name);
    CHECK_FALSE(t.dns_domain_name);
    CHECK_FALSE(t.dns_tree_name);
    CHECK_FALSE(t.timestamp);
    CHECK_FALSE(t.flags);
    CHECK(t.other_ids.empty());
    CHECK(t.pairs == 2);
    CHECK(flag_names(c.flags) ==
          std::vector<std::string>{"NEGOTIATE_UNICODE", "NEGOTIATE_OEM", "NEGOTIATE_SIGN",
                                   "NEGOTIATE_SEAL", "NEGOTIATE_NTLM", "NEGOTIATE_ALWAYS_SIGN",
                                   "TARGET_TYPE_SERVER", "NEGOTIATE_EXTENDED_SESSIONSECURITY",
                                   "NEGOTIATE_TARGET_INFO", "NEGOTIATE_VERSION", "NEGOTIATE_128",
                                   "NEGOTIATE_KEY_EXCH", "NEGOTIATE_56"});
}

TEST_CASE("MS-NLMP 4.2.2.3 and 4.2.3.3: NTLM v1 challenges without target information",
          "[core][ntlm]") {
    Challenge const v1 = decoded(spec_v1);
    CHECK(v1.flags == 0xe2028233u);
    CHECK(v1.target_name == "Server");
    CHECK_FALSE(v1.target_info); // NEGOTIATE_TARGET_INFO is not set
    REQUIRE(v1.version.has_value());
    CHECK(*v1.version == Version{6, 0, 6000, 15});

    Challenge const ess = decoded(spec_v1_ess);
    CHECK(ess.flags == 0x820a8233u);
    CHECK((ess.flags & flag::extended_session_security) != 0);
    CHECK(ess.target_name == "Server");
    CHECK_FALSE(ess.target_info);
    CHECK(ess.version == Version{6, 0, 6000, 15});
}

TEST_CASE("a CHALLENGE with every AV_PAIR an Exchange server sends", "[core][ntlm]") {
    Challenge c;
    c.flags = flag::negotiate_unicode | flag::request_target | flag::negotiate_ntlm |
              flag::target_type_domain | flag::negotiate_target_info | flag::negotiate_version;
    c.server_challenge = {1, 2, 3, 4, 5, 6, 7, 8};
    c.target_name = "EXAMPLE";
    TargetInfo t;
    t.nb_domain_name = "EXAMPLE";
    t.nb_computer_name = "EXCH01";
    t.dns_domain_name = "example.test";
    t.dns_computer_name = "exch01.example.test";
    t.dns_tree_name = "example.test";
    t.timestamp = unix_to_filetime(1704067200); // 2024-01-01T00:00:00Z
    t.flags = 2;
    t.other_ids = {8};
    t.pairs = 8;
    c.target_info = t;
    c.version = Version{10, 0, 17763, 15};
    std::string const bytes = encode_challenge(c);
    Challenge const back = decoded(bytes);
    CHECK(back == c);
    CHECK(filetime_to_iso8601(*back.target_info->timestamp) == "2024-01-01T00:00:00Z");
    CHECK(windows_release(*back.version) == "Windows 10 1809 / Windows Server 2019");
    // the layout Windows uses: VERSION block, then the payload at offset 56
    CHECK(bytes.substr(48, 8) == unhex("0a0063450000000f"));
    CHECK(bytes.substr(56, 14) == utf16("EXAMPLE"));
}

TEST_CASE("names: surrogate pairs, unpaired surrogates and OEM target names", "[core][ntlm]") {
    // U+1F600 as a surrogate pair, then a lone high surrogate, then 'x'
    std::string const name = unhex("3dd800de") + unhex("00d8") + utf16("x");
    std::string m = with_target_info(av(1, name) + eol);
    CHECK(decoded(m).target_info->nb_computer_name == "\xf0\x9f\x98\x80\xef\xbf\xbdx");

    // Without NEGOTIATE_UNICODE the target name is OEM: bytes taken as ISO 8859-1.
    std::string oem = spec_v1.substr(0, 56) + "Caf\xe9";
    put32(oem, 20, 0xe2028232ul);
    put16(oem, 12, 4);
    put16(oem, 14, 4);
    CHECK(decoded(oem).target_name == "Caf\xc3\xa9");
}

TEST_CASE("a repeated AV_PAIR: the first value counts", "[core][ntlm]") {
    std::string const m =
        with_target_info(av(1, utf16("FIRST")) + av(1, utf16("SECOND")) +
                         av(10, std::string(16, 'x')) + av(10, "") + av(0x99, "?") + eol);
    Challenge const c = decoded(m);
    CHECK(c.target_info->nb_computer_name == "FIRST");
    CHECK(c.target_info->other_ids == std::vector<std::uint16_t>{10, 0x99});
    CHECK(c.target_info->pairs == 5);
}

TEST_CASE("every truncation of the 4.2.4.3 message is refused, none read past the end",
          "[core][ntlm]") {
    for (std::size_t size = 0; size < spec_v2.size(); ++size) {
        // a copy of exactly `size` bytes: a sanitizer build catches any read past it
        std::string const prefix = spec_v2.substr(0, size);
        INFO("size " << size);
        Errc const e = error_of(prefix);
        CHECK(e != Errc::none);
        if (size < 32)
            CHECK(e == Errc::too_short);
    }
}

TEST_CASE("malformed CHALLENGE messages give an error value", "[core][ntlm]") {
    SECTION("too short for the fixed part") {
        CHECK(error_of("") == Errc::too_short);
        CHECK(error_of(spec_v2.substr(0, 31)) == Errc::too_short);
    }
    SECTION("signature and message type") {
        std::string m = spec_v2;
        m[4] = 'X';
        CHECK(error_of(m) == Errc::bad_signature);
        m = spec_v2;
        m[8] = 3; // an AUTHENTICATE message
        DecodeResult const r = decode_challenge(m);
        CHECK(r.error == Errc::not_a_challenge);
        CHECK(r.detail == "MessageType is 3, not 2 (CHALLENGE)");
        CHECK(error_of(negotiate_message()) == Errc::not_a_challenge);
    }
    SECTION("NEGOTIATE_TARGET_INFO set on a message too short for TargetInfoFields") {
        CHECK(error_of(spec_v2.substr(0, 40)) == Errc::too_short);
        std::string v1 = spec_v1.substr(0, 40);
        put16(v1, 12, 0); // no target name either: a 40-byte message is fine without the flag
        put16(v1, 14, 0);
        CHECK(error_of(v1) == Errc::none);
    }
    SECTION("offsets out of range") {
        std::string m = spec_v2;
        put32(m, 16, 0xfffffff0ul); // target name offset: offset + length overflows 32 bits
        DecodeResult const r = decode_challenge(m);
        CHECK(r.error == Errc::field_out_of_range);
        CHECK(r.detail ==
              "the target name (12 bytes at offset 4294967280) lies outside the 104-byte message");
        m = spec_v2;
        put32(m, 44, 0x45); // target information one byte too far
        CHECK(error_of(m) == Errc::field_out_of_range);
        m = spec_v2;
        put16(m, 40, 0xffff); // a huge TargetInfo length
        CHECK(error_of(m) == Errc::field_out_of_range);
        m = spec_v2;
        put32(m, 16, 8); // the target name inside the header
        CHECK(error_of(m) == Errc::field_in_header);
        m = spec_v2;
        put32(m, 44, 40); // target information over its own fields
        CHECK(error_of(m) == Errc::field_in_header);
    }
    SECTION("an empty field's offset is not checked") {
        std::string m = spec_v2;
        put16(m, 12, 0);
        put32(m, 16, 0xffffffff);
        Challenge const c = decoded(m);
        CHECK_FALSE(c.target_name);
        CHECK(c.target_info->nb_domain_name == "Domain");
        m = spec_v2.substr(0, 0x44);
        put16(m, 40, 0);
        put32(m, 44, 0xffffffff); // empty target information far beyond the end
        Challenge const empty = decoded(m);
        REQUIRE(empty.target_info);
        CHECK(empty.target_info->pairs == 0);
    }
    SECTION("odd lengths") {
        std::string m = spec_v2;
        put16(m, 12, 11); // "Server" as 11 bytes of UTF-16
        CHECK(error_of(m) == Errc::odd_length);
        CHECK(error_of(with_target_info(av(3, "abc") + eol)) == Errc::odd_length);
    }
    SECTION("AV_PAIRs") {
        CHECK(error_of(with_target_info(av(1, utf16("A")))) == Errc::av_unterminated);
        CHECK(error_of(with_target_info(av(1, utf16("A")) + std::string(2, '\0'))) ==
              Errc::av_pair_truncated);
        std::string huge = av(2, utf16("D"));
        put16(huge, 2, 0xfff0); // AvLen beyond the field
        CHECK(error_of(with_target_info(huge + eol)) == Errc::av_value_too_long);
        CHECK(error_of(with_target_info(av(6, std::string("\x02\0", 2)) + eol)) ==
              Errc::av_value_bad_length);
        CHECK(error_of(with_target_info(av(7, "1234") + eol)) == Errc::av_value_bad_length);
        std::string many;
        for (std::size_t i = 0; i <= max_av_pairs; ++i)
            many += av(8, "");
        CHECK(error_of(with_target_info(many + eol)) == Errc::too_many_av_pairs);
        many.resize(max_av_pairs * 4);
        CHECK(decoded(with_target_info(many + eol)).target_info->pairs == max_av_pairs);
    }
    SECTION("bytes after MsvAvEOL are ignored") {
        Challenge const c = decoded(with_target_info(av(2, utf16("D")) + eol + "junk"));
        CHECK(c.target_info->nb_domain_name == "D");
    }
    SECTION("a VERSION flag on a layout without the VERSION block") {
        // payload at offset 48: an older layout; no version is read from the payload
        std::string m = spec_v2.substr(0, 48) + utf16("Server");
        put32(m, 16, 48);
        put16(m, 40, 0);
        Challenge const c = decoded(m);
        CHECK(c.target_name == "Server");
        CHECK_FALSE(c.version);
    }
}

TEST_CASE("FILETIME as ISO 8601", "[core][ntlm]") {
    CHECK(filetime_to_iso8601(0) == "1601-01-01T00:00:00Z");
    CHECK(filetime_to_iso8601(unix_to_filetime(0)) == "1970-01-01T00:00:00Z");
    CHECK(filetime_to_iso8601(unix_to_filetime(951782400)) == "2000-02-29T00:00:00Z");
    CHECK(filetime_to_iso8601(unix_to_filetime(1704067199) + 9'999'999) == "2023-12-31T23:59:59Z");
    CHECK(filetime_to_iso8601(~std::uint64_t{0}) == "60056-05-28T05:36:10Z");
}

TEST_CASE("flag names for unnamed bits", "[core][ntlm]") {
    CHECK(flag_names(0) == std::vector<std::string>{});
    CHECK(flag_names(0x00000008) == std::vector<std::string>{"0x00000008"});
    CHECK(flag_names(0x10000000 | flag::negotiate_56) ==
          std::vector<std::string>{"0x10000000", "NEGOTIATE_56"});
}
