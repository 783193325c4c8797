#include "sasl/mechanisms.hpp"

#include "smtp/ascii.hpp"

#include <array>

namespace smtpprobe::sasl {
namespace {

// smtp-facts §2.0 for who speaks first; §2.1-§2.11 for the references.
constexpr std::array<Mechanism, 14> table{{
    {"PLAIN", true, true, false, "RFC 4616"},
    {"LOGIN", false, true, false, "draft-murchison-sasl-login"},
    {"CRAM-MD5", false, true, false, "RFC 2195"},
    {"DIGEST-MD5", false, false, false, "RFC 2831 (historic)"},
    {"SCRAM-SHA-1", true, true, false, "RFC 5802"},
    {"SCRAM-SHA-256", true, true, false, "RFC 7677"},
    {"SCRAM-SHA-1-PLUS", true, false, false, "RFC 5802"},
    {"SCRAM-SHA-256-PLUS", true, false, false, "RFC 7677"},
    {"XOAUTH2", true, true, true, "Google/Microsoft XOAUTH2"},
    {"OAUTHBEARER", true, true, true, "RFC 7628"},
    {"NTLM", true, false, false, "MS-SMTPNTLM"},
    {"GSSAPI", true, false, false, "RFC 4752"},
    {"ANONYMOUS", true, false, false, "RFC 4505"},
    {"EXTERNAL", true, false, false, "RFC 4422"},
}};

} // namespace

std::span<Mechanism const> catalogue() noexcept {
    return table;
}

Mechanism const* find_mechanism(std::string_view name) noexcept {
    for (Mechanism const& m : table)
        if (smtp::iequals(m.name, name))
            return &m;
    return nullptr;
}

bool client_implements(std::string_view mechanism) noexcept {
    Mechanism const* m = find_mechanism(mechanism);
    return m != nullptr && m->implemented;
}

bool uses_token(std::string_view mechanism) noexcept {
    Mechanism const* m = find_mechanism(mechanism);
    return m != nullptr && m->token;
}

} // namespace smtpprobe::sasl
