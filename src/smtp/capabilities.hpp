#pragma once
// EHLO reply -> capabilities (RFC 5321 §4.1.1.1, RFC 4954 §3, RFC 1870).

#include "smtp/ascii.hpp"
#include "smtp/reply.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::smtp {

struct Capability {
    std::string keyword;             ///< upper-cased keyword ("AUTH", "SIZE")
    std::vector<std::string> params; ///< parameters as sent (case kept)
    std::string line;                ///< the line as sent
    friend bool operator==(Capability const&, Capability const&) = default;
};

struct Capabilities {
    std::string domain;            ///< first EHLO line: the server's name
    std::vector<Capability> items; ///< lines 2..n, in order
    std::vector<std::string> auth; ///< mechanisms from "AUTH" and "AUTH=" lines, as sent,
                                   ///< deduplicated case-insensitively
    bool auth_space_form = false;  ///< an "AUTH m1 m2" line was present
    bool auth_equals_form = false; ///< a legacy "AUTH=m1 m2" line was present
    bool auth_lowercase = false;   ///< some mechanism name had lower-case letters
    /// Exchange's "X-EXPS GSSAPI NTLM" line: the mechanisms of its server-to-server
    /// authentication (the X-EXPS command), upper-cased; not offered to AUTH.
    std::vector<std::string> x_exps;
    std::optional<std::uint64_t> size; ///< SIZE n (0 = no fixed limit); nullopt if no number
    bool from_helo = false;            ///< the server only answered HELO: no capabilities

    bool has(std::string_view keyword) const noexcept;
    /// Case-insensitive lookup of an advertised mechanism.
    bool offers(std::string_view mechanism) const noexcept;
    std::vector<std::string> keywords() const;
};

/// Parses a 250 EHLO reply. Lines that are not valid ehlo-lines are kept as items with the
/// keyword as sent (upper-cased); nothing here fails.
Capabilities parse_capabilities(Reply const& ehlo_reply);

} // namespace smtpprobe::smtp
