#pragma once
// The AUTH probes and the one verdict table (ARCHITECTURE §3), following msmtp's 504-vs-535
// split: a failure before any credential was sent is about the mechanism; a failure after
// credentials were sent is about the credentials.

#include "report/report.hpp"
#include "sasl/sasl.hpp"
#include "session/conversation.hpp"
#include "session/redactor.hpp"

namespace smtpprobe::probes {

/// Judges the first reply to "AUTH <MECH>" (no initial response, so no secret was sent).
/// `note` gets a sentence when the server deviates from RFC 4954 (e.g. 535 for an unknown
/// mechanism instead of 504).
Status classify_first_reply(smtp::Reply const& reply, std::string& note);
/// Judges the final reply of an exchange in which credentials were sent.
Status classify_final_reply(smtp::Reply const& reply);

/// Whether the conversation can carry another AUTH probe afterwards.
enum class SessionAfter { usable, closed };

/// "AUTH <MECH>"; on 334 records the (decoded) challenge and cancels with "*" (RFC 4954 §4).
/// For NTLM, first answers the 334 with a NEGOTIATE message and records the server's
/// CHALLENGE in row.recognition.ntlm (the names it discloses), then cancels. No secret is sent.
/// Fills row.recognition. Throws std::system_error on transport/protocol failure (the caller
/// decides whether to reconnect).
SessionAfter recognise(Conversation& conversation, MechanismRow& row);

/// Decodes the reply to an NTLM NEGOTIATE message (a 334 with a CHALLENGE, or a refusal).
NtlmInfo ntlm_challenge_information(smtp::Reply const& reply);

struct AuthAttempt {
    sasl::Credentials const* credentials = nullptr;
    sasl::ClientOptions client;
    Redactor* redactor = nullptr; ///< every response's base64 is registered before it is sent
};

/// A real exchange on a session that has carried no credentials yet: "AUTH <MECH>" without
/// initial response (so the first reply still tells recognition), then the SASL steps. Fills
/// row.recognition and row.authentication. Returns `usable` when the server refused the
/// mechanism before any credential was sent, `closed` (spent: the caller opens a fresh
/// session for the next exchange, RFC 4954 §4) otherwise. Throws like recognise().
SessionAfter authenticate(Conversation& conversation, MechanismRow& row,
                          AuthAttempt const& attempt);

} // namespace smtpprobe::probes
