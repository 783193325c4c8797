#include "probes/auth.hpp"

#include "net/errc.hpp"
#include "sasl/ntlm.hpp"
#include "sasl/oauth_error.hpp"
#include "smtp/base64.hpp"

#include <chrono>
#include <system_error>

namespace smtpprobe::probes {
namespace {

constexpr int max_sasl_steps = 10;

bool printable(std::string_view text) {
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 && c != '\0')
            return false;
    return true;
}

std::string shown_challenge(std::string_view decoded) {
    std::string out;
    for (char c : decoded) {
        if (c == '\0')
            out += "\\0";
        else
            out += c;
    }
    return out;
}

// RFC 4954 §4: "334" SP [base64]. The text may be absent (bare "334").
std::string challenge_text(smtp::Reply const& reply) {
    return reply.lines.empty() ? std::string() : reply.lines.front();
}

void throw_if_closing(smtp::Reply const& reply) {
    // RFC 5321 §3.8: 421 may answer any command when the server is about to close.
    if (reply.code == 421)
        throw std::system_error(net::errc::closed_by_peer, reply.wire());
}

/// The NTLM information probe (nmap's smtp-ntlm-info): answers the server's first 334 with a
/// NEGOTIATE message and decodes the CHALLENGE that comes back. No credential is involved.
/// Leaves the exchange waiting for "*" when the server answered 334.
NtlmInfo ntlm_information(Conversation& conversation) {
    smtp::Reply const reply =
        conversation.exchange(smtp::public_sasl_response_command(sasl::ntlm::negotiate_message()));
    throw_if_closing(reply);
    return ntlm_challenge_information(reply);
}

/// The FILETIME of now (MS-NLMP 2.2.2.7's Time), for a server that sends no MsvAvTimestamp.
std::uint64_t filetime_now() {
    auto const since_epoch = std::chrono::system_clock::now().time_since_epoch();
    auto const ticks =
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() / 100;
    return sasl::ntlm::unix_to_filetime(0) + static_cast<std::uint64_t>(ticks);
}

/// Every form of the exchange's password equivalents (raw, hex; their base64 is added by the
/// redactor) is registered before the response that carries them is sent.
void register_derived(Redactor* redactor, sasl::Client const& client, std::size_t& registered) {
    if (redactor == nullptr)
        return;
    std::vector<std::string> const& derived = client.derived_secrets();
    for (; registered < derived.size(); ++registered)
        redactor->add_secret(derived[registered], "SASL secret");
}

/// GSSAPI: a cancel before anything was sent because the client's side failed (the KDC
/// refused the credentials, or there was no way to get a ticket). The server never judged
/// them, so the row says what the GSS-API library said, and the "*" reply stays recognition
/// evidence. False for every other cancel.
bool local_failure(sasl::ClientStep const& answer, smtp::Reply const& cancel, MechanismRow& row) {
    Authentication& a = row.authentication;
    switch (answer.gss_failure) {
    case sasl::GssFailure::credentials_refused:
        a.status = Status::rejected;
        a.reason = "credentials refused: " + answer.error;
        break;
    case sasl::GssFailure::cannot_try:
        a.status = Status::skipped;
        a.reason = "cannot try (" + answer.error + ")";
        break;
    case sasl::GssFailure::none:
    case sasl::GssFailure::server_token:
        return false;
    }
    row.recognition.cancel_reply = cancel;
    return true;
}

} // namespace

NtlmInfo ntlm_challenge_information(smtp::Reply const& reply) {
    NtlmInfo info;
    info.reply = reply;
    if (reply.code != 334) {
        info.outcome = NtlmInfo::Outcome::refused;
        info.error = "the server answered the NEGOTIATE message with " + reply.summary();
        return info;
    }
    std::optional<std::string> const bytes = smtp::base64_decode(challenge_text(reply));
    if (!bytes) {
        info.outcome = NtlmInfo::Outcome::malformed;
        info.error = "the reply to the NEGOTIATE message is not base64";
        return info;
    }
    sasl::ntlm::DecodeResult decoded = sasl::ntlm::decode_challenge(*bytes);
    if (!decoded.challenge) {
        info.outcome = NtlmInfo::Outcome::malformed;
        info.error = "not a valid CHALLENGE_MESSAGE: " + decoded.detail;
        return info;
    }
    info.outcome = NtlmInfo::Outcome::decoded;
    info.challenge = std::move(decoded.challenge);
    return info;
}

Status classify_first_reply(smtp::Reply const& reply, std::string& note) {
    switch (reply.code) {
    case 334:
        return Status::recognised;
    case 235:
        note = "the server accepted AUTH without any credentials";
        return Status::accepted;
    case 504:
        return Status::not_supported;
    case 535:
    case 501:
        note = "the server answered " + std::to_string(reply.code) +
               " before any credential was sent; RFC 4954 §4 says 504 for an unsupported "
               "mechanism, so this counts as not supported";
        return Status::not_supported;
    case 500:
    case 502:
        note = "the server does not know the AUTH command";
        return Status::not_supported;
    default:
        break;
    }
    if (reply.first_digit() == 4)
        return Status::temporary_failure;
    if (reply.first_digit() == 5)
        return Status::refused;
    note = "unexpected reply to AUTH";
    return Status::error;
}

Status classify_final_reply(smtp::Reply const& reply) {
    if (reply.code == 235)
        return Status::accepted;
    if (reply.code == 504)
        return Status::not_supported;
    if (reply.code == 530 || reply.code == 534 || reply.code == 538)
        return Status::refused;
    if (reply.first_digit() == 4)
        return Status::temporary_failure;
    if (reply.first_digit() == 5)
        return Status::rejected;
    return Status::error;
}

SessionAfter recognise(Conversation& conversation, MechanismRow& row) {
    smtp::Reply const first = conversation.exchange(smtp::auth_command(row.name));
    throw_if_closing(first); // not an answer about this mechanism: the engine retries
    Recognition& r = row.recognition;
    r.reply = first;
    r.status = classify_first_reply(first, r.note);
    row.connection = conversation.session();
    if (first.code == 235)
        return SessionAfter::closed; // authenticated by accident: this session is spent
    if (first.code != 334)
        return SessionAfter::usable;
    std::string const text = challenge_text(first);
    if (std::optional<std::string> decoded = smtp::base64_decode(text);
        decoded && !decoded->empty() && printable(*decoded))
        r.challenge = shown_challenge(*decoded);
    else if (!decoded && !text.empty())
        r.challenge = text; // NTLM answers "334 NTLM supported" in plain text (MS-SMTPNTLM)
    if (row.name == "NTLM") {
        r.ntlm = ntlm_information(conversation);
        if (r.ntlm->outcome == NtlmInfo::Outcome::refused)
            return SessionAfter::usable; // the exchange is over: nothing to cancel
    }
    smtp::Reply const cancel = conversation.exchange(smtp::cancel_command());
    r.cancel_reply = cancel;
    if (cancel.code != 501) {
        if (!r.note.empty())
            r.note += "; ";
        r.note += "RFC 4954 §4 requires 501 after \"*\"; the server answered " +
                  std::to_string(cancel.code);
    }
    return cancel.code == 421 ? SessionAfter::closed : SessionAfter::usable;
}

SessionAfter authenticate(Conversation& conversation, MechanismRow& row,
                          AuthAttempt const& attempt) {
    Authentication& a = row.authentication;
    sasl::ClientOptions options = attempt.client;
    if (options.filetime == 0)
        options.filetime = filetime_now();
    if (sasl::binds_channel(row.name)) {
        net::TlsChannelBindings bindings = conversation.channel_bindings();
        options.channel_binding = sasl::choose_channel_binding(std::move(bindings.tls_unique),
                                                               std::move(bindings.tls_exporter));
        if (options.channel_binding.type == sasl::ChannelBinding::Type::none) {
            a.status = Status::skipped;
            a.reason = "cannot try (no TLS session to bind the exchange to)";
            return SessionAfter::usable;
        }
        a.channel_binding = options.channel_binding.type;
    }
    std::optional<sasl::Client> client =
        sasl::Client::create(row.name, *attempt.credentials, std::move(options));
    if (!client) {
        a.status = Status::skipped;
        a.reason = "not implemented by smtpprobe";
        return SessionAfter::usable;
    }
    row.connection = conversation.session();
    smtp::Reply reply = conversation.exchange(smtp::auth_command(row.name));
    Recognition& r = row.recognition;
    r.reply = reply;
    r.status = classify_first_reply(reply, r.note);
    if (reply.code != 334) {
        a.status = reply.code == 235 ? Status::accepted : Status::skipped;
        a.reason = reply.code == 235 ? "accepted without credentials"
                                     : "the server did not recognise the mechanism";
        a.reply = reply;
        throw_if_closing(reply); // the engine retries once on a new connection
        return reply.code == 235 ? SessionAfter::closed : SessionAfter::usable;
    }
    if (std::optional<std::string> decoded = smtp::base64_decode(challenge_text(reply));
        decoded && !decoded->empty() && printable(*decoded))
        r.challenge = shown_challenge(*decoded);
    bool sent_credentials = false;
    bool const ntlm = row.name == "NTLM";
    std::size_t registered = 0;
    for (int step = 0; step < max_sasl_steps && reply.code == 334; ++step) {
        std::optional<std::string> challenge = smtp::base64_decode(challenge_text(reply));
        // MS-SMTPNTLM §2.2.1.2: the text of the first 334 ("NTLM supported") has no meaning.
        if (ntlm && step == 0)
            challenge = std::string();
        // The CHALLENGE names the server (as recognise() records it without credentials).
        if (ntlm && step == 1)
            r.ntlm = ntlm_challenge_information(reply);
        if (row.name == "LOGIN" && step == 1 && challenge && printable(*challenge))
            a.password_prompt = shown_challenge(*challenge);
        // A 334 after the token is the error challenge of a refused token (RFC 7628 §3.2.2,
        // Google's XOAUTH2); the client acknowledges it below and the 535 follows.
        if (sent_credentials && sasl::uses_token(row.name) && !a.oauth_error)
            a.oauth_error = sasl::decode_oauth_error(challenge_text(reply));
        sasl::ClientStep answer;
        if (!challenge) {
            answer.kind = sasl::ClientStep::Kind::cancel;
            answer.error = "the server's challenge is not valid base64";
        } else {
            answer = client->respond(*challenge);
        }
        if (answer.kind == sasl::ClientStep::Kind::cancel) {
            smtp::Reply const cancel = conversation.exchange(smtp::cancel_command());
            if (local_failure(answer, cancel, row))
                return SessionAfter::closed;
            a.status = Status::error;
            a.reason = "cancelled: " + answer.error;
            a.problem = answer.problem;
            a.reply = cancel;
            return SessionAfter::closed;
        }
        register_derived(attempt.redactor, *client, registered);
        smtp::Command const command = answer.secret
                                          ? smtp::sasl_response_command(answer.data)
                                          : smtp::public_sasl_response_command(answer.data);
        if (attempt.redactor != nullptr && command.secret)
            attempt.redactor->add_encoded(command.wire.substr(0, command.wire.size() - 2),
                                          "SASL response");
        // ANONYMOUS and EXTERNAL send nothing secret, but their one message is the whole of
        // the credential (none, or the certificate of the handshake).
        sent_credentials = sent_credentials || (!answer.data.empty() && answer.secret) ||
                           sasl::needs_no_secret(row.name) || sasl::uses_certificate(row.name);
        reply = conversation.exchange(command);
    }
    a.reply = reply;
    a.server_verified = client->server_verified();
    if (reply.code == 334) {
        conversation.exchange(smtp::cancel_command());
        a.status = Status::error;
        a.reason = "the exchange did not end after " + std::to_string(max_sasl_steps) + " steps";
        return SessionAfter::closed;
    }
    a.status =
        sent_credentials ? classify_final_reply(reply) : classify_first_reply(reply, a.reason);
    if (a.status == Status::accepted)
        a.reason = a.server_verified ? "credentials accepted; the server proved it knows them"
                                     : "credentials accepted";
    else if (a.status == Status::rejected)
        a.reason = "credentials rejected";
    else if (a.reason.empty()) // a policy refusal or a temporary failure: say which
        a.reason = "the server answered " + std::to_string(reply.code) +
                   (a.status == Status::temporary_failure ? " (a temporary failure)"
                                                          : " (a refusal by policy)") +
                   " after the credentials";
    return SessionAfter::closed;
}

} // namespace smtpprobe::probes
