#include "probes/catalogue.hpp"

#include "smtp/capabilities.hpp"

#include <array>

namespace smtpprobe::probes {
namespace {

// smtp-facts §2.0 for who speaks first; §2.1-§2.11 for the references.
constexpr std::array<MechanismInfo, 14> table{{
    {"PLAIN", true, "RFC 4616"},
    {"LOGIN", false, "draft-murchison-sasl-login"},
    {"CRAM-MD5", false, "RFC 2195"},
    {"DIGEST-MD5", false, "RFC 2831 (historic)"},
    {"SCRAM-SHA-1", true, "RFC 5802"},
    {"SCRAM-SHA-256", true, "RFC 7677"},
    {"SCRAM-SHA-1-PLUS", true, "RFC 5802"},
    {"SCRAM-SHA-256-PLUS", true, "RFC 7677"},
    {"XOAUTH2", true, "Google/Microsoft XOAUTH2"},
    {"OAUTHBEARER", true, "RFC 7628"},
    {"NTLM", true, "MS-SMTPNTLM"},
    {"GSSAPI", true, "RFC 4752"},
    {"ANONYMOUS", true, "RFC 4505"},
    {"EXTERNAL", true, "RFC 4422"},
}};

} // namespace

std::span<MechanismInfo const> catalogue() noexcept {
    return table;
}

MechanismInfo const* find_mechanism(std::string_view name) noexcept {
    for (MechanismInfo const& m : table)
        if (smtp::iequals(m.name, name))
            return &m;
    return nullptr;
}

} // namespace smtpprobe::probes
