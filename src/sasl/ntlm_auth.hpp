#pragma once
// NTLM with credentials (MS-NLMP 3.3.2, NTLMv2 only): the one-way functions, the
// AUTHENTICATE_MESSAGE (2.2.1.3) and its decoder, for sasl::Client and sasl::Server. NTLMv1
// and LM are not implemented, on purpose: a server that leaves nothing else is reported.
//
// Sans-I/O and bounded like ntlm.hpp: bytes in, values out, every field checked against the
// buffer before it is read.

#include "sasl/ntlm.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtpprobe::sasl::ntlm {

/// MD4(UNICODE(Passwd)) (MS-NLMP 3.3.1, the NT hash): 16 raw bytes.
std::string nt_hash(std::string_view password);
/// NTOWFv2(Passwd, User, UserDom) = HMAC_MD5(NT hash, UNICODE(Uppercase(User) + UserDom))
/// (MS-NLMP 3.3.2). Strings are UTF-8; Uppercase covers ASCII and Latin-1 letters.
std::string ntowfv2(std::string_view password, std::string_view user, std::string_view domain);

/// The results of MS-NLMP 3.3.2's ComputeResponse for NTLMv2, raw bytes.
struct V2Response {
    std::string nt_proof;         ///< NTProofStr, 16 bytes
    std::string nt_response;      ///< NtChallengeResponse: NTProofStr + temp
    std::string lm_response;      ///< LmChallengeResponse (LMv2): 16-byte HMAC + ClientChallenge
    std::string session_base_key; ///< HMAC_MD5(ResponseKeyNT, NTProofStr)
};

/// ComputeResponse with ResponseKeyNT = ResponseKeyLM = `response_key` (NTOWFv2), the 8-byte
/// challenges, Time as a FILETIME and ServerName = the CHALLENGE's TargetInfo bytes.
V2Response ntlmv2_response(std::string_view response_key, std::string_view server_challenge,
                           std::string_view client_challenge, std::uint64_t time,
                           std::string_view target_info);

/// The user name as typed, split into MS-NLMP's UserName and UserDom: "DOMAIN\user" gives
/// both; "user@domain" (a UPN) and a bare name stay whole, with an empty domain, as Windows
/// sends a UPN.
struct Identity {
    std::string user;
    std::string domain;
};
Identity split_identity(std::string_view typed);

/// An AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) without Version, MIC or session key: the 64-byte
/// header, then the payload. Strings are UTF-8, written as UTF-16LE when `flags` has
/// NEGOTIATE_UNICODE, else as ISO 8859-1.
struct Authenticate {
    std::uint32_t flags = 0;
    std::string lm_response; ///< raw
    std::string nt_response; ///< raw
    std::string domain;
    std::string user;
    std::string workstation;
};
std::string encode_authenticate(Authenticate const& message);

struct AuthenticateResult {
    std::optional<Authenticate> message; ///< set exactly when error is empty
    std::string error;
};
/// Decodes an AUTHENTICATE_MESSAGE (raw bytes). Never reads outside `message`.
AuthenticateResult decode_authenticate(std::string_view message);

/// The TargetInfo bytes of a CHALLENGE_MESSAGE that decode_challenge() accepted; empty when it
/// has none.
std::string_view raw_target_info(std::string_view challenge_message);

/// Whether the CHALLENGE carries TargetInfo (NEGOTIATE_TARGET_INFO set and AV pairs present).
/// Windows servers since Windows 2000 send it; one without it may expect NTLMv1 or LM, but not
/// necessarily: Cyrus SASL's ntlm plugin sends none and checks NTLMv2 responses.
bool carries_target_info(Challenge const& challenge) noexcept;

} // namespace smtpprobe::sasl::ntlm
