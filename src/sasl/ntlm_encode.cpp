// NTLM message building: the probe's NEGOTIATE_MESSAGE, CHALLENGE_MESSAGEs for tests/profiles.

#include "sasl/ntlm.hpp"

#include "sasl/ntlm_bytes.hpp"

#include <algorithm>

namespace smtpprobe::sasl::ntlm {

using detail::challenge_type;
using detail::encode_string;
using detail::max_field;
using detail::put16;
using detail::put32;
using detail::put64;
using detail::signature;
using detail::target_info_header;
using detail::version_header;

std::string negotiate_message() {
    std::string out(signature);
    put32(out, 1); // MessageType: NEGOTIATE
    put32(out, probe_flags);
    constexpr std::uint32_t end = 40; // empty DomainName and Workstation: offset = the end
    for (int field = 0; field < 2; ++field) {
        put16(out, 0);
        put16(out, 0);
        put32(out, end);
    }
    out += std::string(7, '\0'); // Version: 0.0 build 0, Reserved
    out += '\x0f';               // NTLMRevisionCurrent: NTLMSSP_REVISION_W2K3
    return out;
}

std::string encode_challenge(Challenge const& c) {
    bool const unicode = (c.flags & flag::negotiate_unicode) != 0;
    std::string const name = c.target_name ? encode_string(*c.target_name, unicode) : "";
    std::string info;
    if (c.target_info) {
        TargetInfo const& t = *c.target_info;
        auto pair = [&](AvId id, std::string_view value) {
            if (info.size() + 4 + value.size() + 4 > max_field)
                return; // keep the field within its 16-bit length, room for MsvAvEOL
            put16(info, static_cast<std::uint16_t>(id));
            put16(info, static_cast<std::uint16_t>(value.size()));
            info += value;
        };
        auto name_pair = [&](AvId id, std::optional<std::string> const& value) {
            if (value)
                pair(id, encode_string(*value, true));
        };
        // Windows' order: domain before computer, NetBIOS before DNS, then the clock.
        name_pair(AvId::nb_domain_name, t.nb_domain_name);
        name_pair(AvId::nb_computer_name, t.nb_computer_name);
        name_pair(AvId::dns_domain_name, t.dns_domain_name);
        name_pair(AvId::dns_computer_name, t.dns_computer_name);
        name_pair(AvId::dns_tree_name, t.dns_tree_name);
        name_pair(AvId::target_name, t.target_name);
        if (t.flags) {
            std::string value;
            put32(value, *t.flags);
            pair(AvId::flags, value);
        }
        if (t.timestamp) {
            std::string value;
            put64(value, *t.timestamp);
            pair(AvId::timestamp, value);
        }
        std::vector<std::uint16_t> written;
        for (std::uint16_t id : t.other_ids) {
            bool const known = id <= static_cast<std::uint16_t>(AvId::timestamp) ||
                               id == static_cast<std::uint16_t>(AvId::target_name);
            if (known || std::find(written.begin(), written.end(), id) != written.end())
                continue;
            written.push_back(id);
            pair(static_cast<AvId>(id), "");
        }
        put16(info, 0); // MsvAvEOL
        put16(info, 0);
    }
    std::size_t const header = c.version ? version_header : target_info_header;
    std::string out(signature);
    put32(out, challenge_type);
    put16(out, static_cast<std::uint16_t>(name.size()));
    put16(out, static_cast<std::uint16_t>(name.size()));
    put32(out, static_cast<std::uint32_t>(header));
    put32(out, c.flags);
    for (std::uint8_t b : c.server_challenge)
        out += static_cast<char>(b);
    out += std::string(8, '\0'); // Reserved
    put16(out, static_cast<std::uint16_t>(info.size()));
    put16(out, static_cast<std::uint16_t>(info.size()));
    put32(out, static_cast<std::uint32_t>(header + name.size()));
    if (c.version) {
        out += static_cast<char>(c.version->major);
        out += static_cast<char>(c.version->minor);
        put16(out, c.version->build);
        out += std::string(3, '\0');
        out += static_cast<char>(c.version->ntlm_revision);
    }
    return out + name + info;
}

} // namespace smtpprobe::sasl::ntlm
