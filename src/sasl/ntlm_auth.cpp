// NTLMv2 (MS-NLMP 3.3.2): the one-way functions, the AUTHENTICATE_MESSAGE, and the client's
// steps.

#include "sasl/ntlm_auth.hpp"

#include "sasl/client_steps.hpp"
#include "sasl/md4.hpp"
#include "sasl/ntlm_bytes.hpp"
#include "sasl/scram.hpp"
#include "smtp/ascii.hpp"

namespace smtpprobe::sasl {
namespace ntlm {
namespace {

using detail::encode_string;
using detail::put16;
using detail::put32;
using detail::put64;
using detail::signature;
using detail::u16;
using detail::u32;

constexpr std::uint32_t authenticate_type = 3;
constexpr std::size_t authenticate_header = 64; // up to and including NegotiateFlags

/// Uppercase(User): ASCII and the Latin-1 letters U+00E0-U+00FE (but U+00F7) in UTF-8.
std::string uppercase(std::string_view utf8) {
    std::string out = smtp::to_upper(utf8);
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        unsigned char const lead = static_cast<unsigned char>(out[i]);
        unsigned char const next = static_cast<unsigned char>(out[i + 1]);
        if (lead == 0xc3 && next >= 0xa0 && next <= 0xbe && next != 0xb7)
            out[i + 1] = static_cast<char>(next - 0x20);
    }
    return out;
}

std::string decode_text(std::string_view bytes, bool unicode) {
    return unicode ? detail::utf16le_to_utf8(bytes) : detail::latin1_to_utf8(bytes);
}

} // namespace

std::string nt_hash(std::string_view password) {
    return sasl::detail::md4(encode_string(password, true));
}

std::string ntowfv2(std::string_view password, std::string_view user, std::string_view domain) {
    return sasl::detail::hmac_md5(nt_hash(password),
                                  encode_string(uppercase(user) + std::string(domain), true));
}

V2Response ntlmv2_response(std::string_view response_key, std::string_view server_challenge,
                           std::string_view client_challenge, std::uint64_t time,
                           std::string_view target_info) {
    // temp = Responserversion HiResponserversion Z(6) Time ClientChallenge Z(4) ServerName Z(4)
    std::string temp("\x01\x01", 2);
    temp += std::string(6, '\0');
    put64(temp, time);
    temp += client_challenge;
    temp += std::string(4, '\0');
    temp += target_info;
    temp += std::string(4, '\0');
    V2Response r;
    std::string const challenge(server_challenge);
    r.nt_proof = sasl::detail::hmac_md5(response_key, challenge + temp);
    r.nt_response = r.nt_proof + temp;
    r.lm_response =
        sasl::detail::hmac_md5(response_key, challenge + std::string(client_challenge)) +
        std::string(client_challenge);
    r.session_base_key = sasl::detail::hmac_md5(response_key, r.nt_proof);
    return r;
}

Identity split_identity(std::string_view typed) {
    std::size_t const backslash = typed.find('\\');
    if (backslash == std::string_view::npos)
        return {std::string(typed), {}};
    return {std::string(typed.substr(backslash + 1)), std::string(typed.substr(0, backslash))};
}

std::string encode_authenticate(Authenticate const& m) {
    bool const unicode = (m.flags & flag::negotiate_unicode) != 0;
    std::string const fields[] = {
        m.lm_response.substr(0, detail::max_field), m.nt_response.substr(0, detail::max_field),
        encode_string(m.domain, unicode),           encode_string(m.user, unicode),
        encode_string(m.workstation, unicode),      std::string(),
    };
    std::string out(signature);
    put32(out, authenticate_type);
    std::size_t offset = authenticate_header;
    std::string payload;
    for (std::string const& field : fields) {
        put16(out, static_cast<std::uint16_t>(field.size()));
        put16(out, static_cast<std::uint16_t>(field.size()));
        put32(out, static_cast<std::uint32_t>(offset));
        offset += field.size();
        payload += field;
    }
    put32(out, m.flags);
    return out + payload;
}

AuthenticateResult decode_authenticate(std::string_view message) {
    AuthenticateResult r;
    if (message.size() < authenticate_header) {
        r.error = "the message has " + std::to_string(message.size()) +
                  " bytes; an AUTHENTICATE_MESSAGE has at least " +
                  std::to_string(authenticate_header);
        return r;
    }
    if (message.substr(0, signature.size()) != signature || u32(message, 8) != authenticate_type) {
        r.error = "not an AUTHENTICATE_MESSAGE (signature or MessageType)";
        return r;
    }
    Authenticate m;
    m.flags = u32(message, 60);
    bool const unicode = (m.flags & flag::negotiate_unicode) != 0;
    std::string* const targets[] = {&m.lm_response, &m.nt_response, &m.domain, &m.user,
                                    &m.workstation};
    for (std::size_t i = 0; i < 5; ++i) {
        std::size_t const at = 12 + 8 * i;
        std::size_t const length = u16(message, at);
        std::size_t const offset = u32(message, at + 4);
        if (length == 0)
            continue;
        if (offset < authenticate_header || offset > message.size() ||
            length > message.size() - offset) {
            r.error = "a payload field lies outside the message";
            return r;
        }
        std::string_view const bytes = message.substr(offset, length);
        if (i < 2) {
            *targets[i] = std::string(bytes);
        } else {
            // Perl's Authen::NTLM (what swaks uses) sends the domain in OEM even under
            // NEGOTIATE_UNICODE: a name of an odd number of bytes cannot be UTF-16, so the
            // emulator reads it as OEM rather than refuse that client.
            *targets[i] = decode_text(bytes, unicode && length % 2 == 0);
        }
    }
    r.message = std::move(m);
    return r;
}

std::string_view raw_target_info(std::string_view challenge_message) {
    if (challenge_message.size() < detail::target_info_header)
        return {};
    std::size_t const length = u16(challenge_message, 40);
    std::size_t const offset = u32(challenge_message, 44);
    if (length == 0 || offset > challenge_message.size() ||
        length > challenge_message.size() - offset)
        return {};
    return challenge_message.substr(offset, length);
}

bool carries_target_info(Challenge const& challenge) noexcept {
    return (challenge.flags & flag::negotiate_target_info) != 0 && challenge.target_info;
}

} // namespace ntlm

namespace detail {
namespace {

constexpr std::size_t client_challenge_bytes = 8;

/// The flags of the AUTHENTICATE message: what both sides offered, without OEM when Unicode
/// is on, and nothing that would need a Version, MIC or exchanged session key.
std::uint32_t authenticate_flags(std::uint32_t challenge_flags) {
    namespace f = ntlm::flag;
    std::uint32_t flags =
        challenge_flags &
        (f::negotiate_unicode | f::negotiate_oem | f::request_target | f::negotiate_ntlm |
         f::negotiate_always_sign | f::extended_session_security | f::negotiate_target_info |
         f::negotiate_128 | f::negotiate_56);
    if ((flags & f::negotiate_unicode) != 0)
        flags &= ~f::negotiate_oem;
    return flags;
}

ClientStep ntlm_authenticate(Credentials const& credentials, ClientOptions const& options,
                             std::string_view message, std::vector<std::string>& derived) {
    ntlm::DecodeResult decoded = ntlm::decode_challenge(message);
    if (!decoded.challenge)
        return cancel_with("malformed NTLM CHALLENGE: " + decoded.detail);
    ntlm::Challenge const& c = *decoded.challenge;
    // Without TargetInfo the response is still NTLMv2, with an empty ServerName (MS-NLMP
    // 3.1.5.1.2 requires the AV pairs only for signing or sealing, which SMTP does not use):
    // Cyrus SASL's ntlm plugin sends no TargetInfo and checks NTLMv2. A server that then
    // refuses may want NTLMv1 or LM, never sent (diagnose: auth.ntlm_v1_only).
    ntlm::Identity const id = ntlm::split_identity(credentials.user);
    if (id.user.empty())
        return cancel_with("NTLM needs a user name");
    std::string client_challenge;
    if (!options.nonce.empty()) {
        client_challenge = options.nonce;
    } else if (std::optional<std::string> random = random_bytes(client_challenge_bytes)) {
        client_challenge = std::move(*random);
    } else {
        return cancel_with("the random number generator failed");
    }
    if (client_challenge.size() != client_challenge_bytes)
        return cancel_with("the NTLM client challenge must be 8 bytes");
    // MS-NLMP 3.1.5.1.2: the server's MsvAvTimestamp when it sends one, else the client's clock.
    bool const server_time = c.target_info && c.target_info->timestamp;
    std::uint64_t const time = server_time ? *c.target_info->timestamp : options.filetime;
    std::string const key = ntlm::ntowfv2(credentials.password, id.user, id.domain);
    std::string const server_challenge(c.server_challenge.begin(), c.server_challenge.end());
    ntlm::V2Response const v2 = ntlm::ntlmv2_response(key, server_challenge, client_challenge, time,
                                                      ntlm::raw_target_info(message));
    ntlm::Authenticate out;
    out.flags = authenticate_flags(c.flags);
    // With a server timestamp the client "SHOULD NOT send the LmChallengeResponse and SHOULD
    // send Z(24) instead" (MS-NLMP 3.1.5.1.2).
    out.lm_response = server_time ? std::string(24, '\0') : v2.lm_response;
    out.nt_response = v2.nt_response;
    out.domain = id.domain;
    out.user = id.user;
    std::string const hash = ntlm::nt_hash(credentials.password);
    for (std::string const* secret : {&hash, &key, &v2.session_base_key}) {
        derived.push_back(*secret);
        derived.push_back(to_hex(*secret));
    }
    derived.push_back(to_hex(v2.nt_proof));
    return respond_with(ntlm::encode_authenticate(out));
}

} // namespace

ClientStep ntlm_step(Credentials const& credentials, ClientOptions const& options, int step,
                     std::string_view challenge, std::vector<std::string>& derived_secrets) {
    switch (step) {
    case 1: // MS-SMTPNTLM §2.2.1.2: the first 334's text has no protocol meaning
        return respond_public(ntlm::negotiate_message());
    case 2:
        return ntlm_authenticate(credentials, options, challenge, derived_secrets);
    default:
        return cancel_with("server sent another challenge after the NTLM AUTHENTICATE message");
    }
}

} // namespace detail
} // namespace smtpprobe::sasl
