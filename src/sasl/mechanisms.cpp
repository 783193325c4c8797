#include "sasl/mechanisms.hpp"
#include "sasl/sasl.hpp"

#include "smtp/ascii.hpp"

#include <array>

namespace smtpprobe::sasl {
namespace {

// smtp-facts §2.0 for who speaks first; §2.1-§2.11 for the references.
constexpr Secret password = Secret::password;
constexpr Secret token = Secret::token;
// The first `probed` entries are the catalogue the matrix always probes; the rest are names
// it recognises (and probes only when a server advertises them): Gmail's PLAIN-CLIENTTOKEN
// and XOAUTH (smtp-facts §2.12, §3.3), which smtpprobe cannot run.
constexpr std::size_t probed = 14;
constexpr std::array<Mechanism, 16> table{{
    {"PLAIN", true, true, password, "RFC 4616"},
    {"LOGIN", false, true, password, "draft-murchison-sasl-login"},
    {"CRAM-MD5", false, true, password, "RFC 2195"},
    {"DIGEST-MD5", false, true, password, "RFC 2831 (historic)"},
    {"SCRAM-SHA-1", true, true, password, "RFC 5802"},
    {"SCRAM-SHA-256", true, true, password, "RFC 7677"},
    {"SCRAM-SHA-1-PLUS", true, true, password, "RFC 5802"},
    {"SCRAM-SHA-256-PLUS", true, true, password, "RFC 7677"},
    {"XOAUTH2", true, true, token, "Google/Microsoft XOAUTH2"},
    {"OAUTHBEARER", true, true, token, "RFC 7628"},
    {"NTLM", true, true, password, "MS-SMTPNTLM, MS-NLMP"},
    {"GSSAPI", true, true, Secret::ticket, "RFC 4752"},
    {"ANONYMOUS", true, true, Secret::none, "RFC 4505"},
    {"EXTERNAL", true, true, Secret::certificate, "RFC 4422"},
    {"PLAIN-CLIENTTOKEN", true, false, token, "Google (no published specification)"},
    {"XOAUTH", true, false, token, "Google's OAuth 1.0 mechanism (retired)"},
}};

} // namespace

std::span<Mechanism const> catalogue() noexcept {
    return std::span<Mechanism const>(table).first(probed);
}

std::span<Mechanism const> known_mechanisms() noexcept {
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
    return m != nullptr && m->secret == Secret::token;
}

bool uses_ticket(std::string_view mechanism) noexcept {
    Mechanism const* m = find_mechanism(mechanism);
    return m != nullptr && m->secret == Secret::ticket;
}

bool needs_no_secret(std::string_view mechanism) noexcept {
    Mechanism const* m = find_mechanism(mechanism);
    return m != nullptr && m->secret == Secret::none;
}

bool binds_channel(std::string_view mechanism) noexcept {
    return mechanism.size() > 5 && smtp::iequals(mechanism.substr(mechanism.size() - 5), "-PLUS") &&
           find_mechanism(mechanism) != nullptr;
}

bool uses_certificate(std::string_view mechanism) noexcept {
    Mechanism const* m = find_mechanism(mechanism);
    return m != nullptr && m->secret == Secret::certificate;
}

} // namespace smtpprobe::sasl
