// The NTLM server side (MS-NLMP 3.2.5.1.2, NTLMv2 only), for the emulator.

#include "sasl/ntlm_auth.hpp"
#include "sasl/ntlm_bytes.hpp"
#include "sasl/server_steps.hpp"
#include "smtp/ascii.hpp"

namespace smtpprobe::sasl::detail {
namespace {

constexpr std::size_t negotiate_minimum = 16; // Signature, MessageType, NegotiateFlags
constexpr std::size_t nt_proof_bytes = 16;
constexpr std::size_t ntlmv1_response_bytes = 24;

/// A CHALLENGE in the image of a Windows domain member named after the host: NetBIOS names
/// from its first label, DNS names from the rest.
std::string built_challenge(std::string const& hostname) {
    std::size_t const dot = hostname.find('.');
    std::string const computer = smtp::to_upper(hostname.substr(0, dot));
    std::string const dns_domain = dot == std::string::npos ? hostname : hostname.substr(dot + 1);
    std::string const domain = smtp::to_upper(dns_domain.substr(0, dns_domain.find('.')));
    namespace f = ntlm::flag;
    ntlm::Challenge c;
    c.flags = f::negotiate_unicode | f::request_target | f::negotiate_ntlm |
              f::negotiate_always_sign | f::target_type_domain | f::extended_session_security |
              f::negotiate_target_info | f::negotiate_128 | f::negotiate_56;
    std::string const random = random_or_throw(c.server_challenge.size());
    std::copy(random.begin(), random.end(), c.server_challenge.begin());
    c.target_name = domain;
    ntlm::TargetInfo info;
    info.nb_domain_name = domain;
    info.nb_computer_name = computer;
    info.dns_domain_name = dns_domain;
    info.dns_computer_name = hostname;
    c.target_info = std::move(info);
    return ntlm::encode_challenge(c);
}

/// The password account of (user, domain): the account's name split like a client's
/// (DOMAIN\user, or a UPN with no domain), both parts compared without case.
Credentials const* find_ntlm_account(std::vector<Credentials> const& accounts,
                                     std::string_view user, std::string_view domain) {
    for (Credentials const& account : accounts) {
        ntlm::Identity const id = ntlm::split_identity(account.user);
        if (!account.password.empty() && smtp::iequals(id.user, user) &&
            smtp::iequals(id.domain, domain))
            return &account;
    }
    return nullptr;
}

ServerStep check_authenticate(ServerOptions const& options, std::string_view response,
                              std::string_view challenge_sent) {
    ntlm::AuthenticateResult const decoded = ntlm::decode_authenticate(response);
    ntlm::DecodeResult const sent = ntlm::decode_challenge(challenge_sent);
    if (!decoded.message || !sent.challenge)
        return malformed();
    ntlm::Authenticate const& m = *decoded.message;
    // An NTLMv1 response is exactly 24 bytes; this server, like one with
    // LmCompatibilityLevel 5, refuses it. NTLMv2's is NTProofStr plus at least 28 bytes.
    if (m.nt_response.size() <= ntlmv1_response_bytes)
        return failure();
    Credentials const* account = find_ntlm_account(options.accounts, m.user, m.domain);
    if (account == nullptr)
        return failure();
    std::string const key = ntlm::ntowfv2(account->password, m.user, m.domain);
    std::array<std::uint8_t, 8> const& server = sent.challenge->server_challenge;
    std::string_view const proof = std::string_view(m.nt_response).substr(0, nt_proof_bytes);
    std::string_view const temp = std::string_view(m.nt_response).substr(nt_proof_bytes);
    std::string const expected =
        hmac_md5(key, std::string(server.begin(), server.end()) + std::string(temp));
    if (!constant_time_equal(expected, proof))
        return failure();
    return success(account->user);
}

} // namespace

ServerStep ntlm_respond(ServerOptions const& options, int step, std::string_view response,
                        std::string& challenge_sent) {
    if (step == 1) {
        if (response.size() < negotiate_minimum ||
            response.substr(0, ntlm::detail::signature.size()) != ntlm::detail::signature ||
            ntlm::detail::u32(response, 8) != 1)
            return malformed();
        challenge_sent =
            options.ntlm_challenge ? *options.ntlm_challenge : built_challenge(options.hostname);
        return challenge(challenge_sent);
    }
    if (step == 2)
        return check_authenticate(options, response, challenge_sent);
    return failure();
}

} // namespace smtpprobe::sasl::detail
