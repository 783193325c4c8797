#include "probes/envelope.hpp"

#include "report/words.hpp"
#include "smtp/message.hpp"

#include <algorithm>
#include <system_error>

namespace smtpprobe::probes {
namespace {

bool ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

/// Sends one command as `step`; false when the envelope cannot go on (421, broken).
bool send(Conversation& conversation, smtp::Command const& command, EnvelopeStep step,
          Envelope& envelope) {
    try {
        step.reply = conversation.exchange(command);
    } catch (std::system_error const& e) {
        envelope.steps.push_back(std::move(step));
        envelope.stopped = e.what();
        return false;
    }
    bool const closing = step.reply->code == 421;
    envelope.steps.push_back(std::move(step));
    if (closing)
        envelope.stopped = "the server closed the session (421)";
    return !closing;
}

enum class Sent { accepted, not_accepted, broken };

/// --send, once MAIL and at least one RCPT got 2xx: DATA, then after 354 the payload, shown in
/// the transcript only by its size, and the reply to it. The transcript says plainly that a
/// message goes out, and whether it was taken.
Sent send_message(Conversation& conversation, smtp::DataPayload const& payload,
                  EnvelopeRequest const& request, smtp::Capabilities const* capabilities,
                  std::vector<std::string> const& accepted, Envelope& envelope) {
    using K = EnvelopeStep::Kind;
    if (request.eight_bit && (capabilities == nullptr || !capabilities->has("8BITMIME"))) {
        envelope.not_sent = "the message has 8-bit data (a byte of 0x80 or more) and the server "
                            "does not advertise 8BITMIME (RFC 6152), so it was not sent";
        conversation.note("--send: NO message sent: " + envelope.not_sent);
        return Sent::not_accepted;
    }
    conversation.note("--send: sending a test message (" + std::to_string(envelope.message_bytes) +
                      " bytes) to " + join(accepted, ", "));
    EnvelopeStep step;
    step.kind = K::data;
    if (!send(conversation, smtp::data_command(), step, envelope))
        return Sent::broken;
    if (envelope.steps.back().reply->code != 354) {
        conversation.note("--send: DATA was refused: no message was sent");
        return Sent::not_accepted;
    }
    smtp::Command message;
    message.wire = payload.wire;
    message.shown = "<" + std::to_string(payload.wire.size()) + " bytes, " +
                    std::to_string(payload.lines) + " lines>";
    step = {};
    step.kind = K::message;
    step.argument = message.shown;
    if (!send(conversation, message, step, envelope))
        return Sent::broken;
    smtp::Reply const& reply = *envelope.steps.back().reply;
    if (reply.code / 100 != 2) {
        conversation.note("--send: the message was refused after DATA: no message was sent");
        return Sent::not_accepted;
    }
    envelope.message_sent = true;
    envelope.queue_id = smtp::queue_id(reply.text());
    envelope.recipients = accepted;
    conversation.note("--send: a test message WAS SENT to " + join(accepted, ", ") +
                      (envelope.queue_id.empty() ? std::string(" (no queue id in the reply)")
                                                 : ", queued as " + envelope.queue_id));
    return Sent::accepted;
}

} // namespace

std::vector<std::string> mail_parameters(EnvelopeRequest const& request,
                                         smtp::Capabilities const* capabilities) {
    std::vector<std::string> out;
    if (capabilities == nullptr)
        return out;
    if (request.size && capabilities->has("SIZE"))
        out.push_back("SIZE=" + std::to_string(*request.size));
    if (request.eight_bit && capabilities->has("8BITMIME"))
        out.emplace_back("BODY=8BITMIME");
    bool const utf8 =
        !ascii(request.mail_from) || std::any_of(request.rcpt.begin(), request.rcpt.end(),
                                                 [](std::string const& r) { return !ascii(r); });
    if (utf8 && capabilities->has("SMTPUTF8"))
        out.emplace_back("SMTPUTF8");
    return out;
}

void run_envelope(Conversation& conversation, EnvelopeRequest const& request,
                  smtp::Capabilities const* capabilities, Envelope& envelope) {
    using K = EnvelopeStep::Kind;
    envelope.mail_from = request.mail_from;
    envelope.rcpt = request.rcpt;
    envelope.send_requested = request.send;
    std::optional<smtp::DataPayload> payload;
    if (request.send && request.message) {
        payload = smtp::data_payload(*request.message);
        envelope.message_bytes = smtp::message_size(*payload);
        envelope.message_lines = payload->lines;
    }
    std::string const sender = request.mail_from == "<>" ? std::string() : request.mail_from;
    smtp::Command const mail = smtp::mail_command(sender, mail_parameters(request, capabilities));
    EnvelopeStep step;
    step.kind = K::mail;
    step.argument = mail.shown.substr(std::string_view("MAIL FROM:").size());
    if (!send(conversation, mail, step, envelope))
        return;
    // After a refused MAIL every RCPT would get 503 (bad sequence): nothing to learn.
    std::vector<std::string> accepted;
    if (envelope.steps.back().reply->code / 100 == 2) {
        for (std::string const& rcpt : request.rcpt) {
            smtp::Command const command = smtp::rcpt_command(rcpt);
            step = {};
            step.kind = K::rcpt;
            step.argument = command.shown.substr(std::string_view("RCPT TO:").size());
            if (!send(conversation, command, step, envelope))
                return;
            if (envelope.steps.back().reply->code / 100 == 2)
                accepted.push_back(rcpt);
        }
    }
    if (payload && !accepted.empty()) {
        switch (send_message(conversation, *payload, request, capabilities, accepted, envelope)) {
        case Sent::broken:
            return;
        case Sent::accepted:
            // No RSET after a message that was taken: the transaction is over.
            step = {};
            step.kind = K::quit;
            send(conversation, smtp::quit_command(), step, envelope);
            return;
        case Sent::not_accepted:
            break;
        }
    }
    step = {};
    step.kind = K::rset;
    if (!send(conversation, smtp::rset_command(), step, envelope))
        return;
    step = {};
    step.kind = K::quit;
    send(conversation, smtp::quit_command(), step, envelope);
}

} // namespace smtpprobe::probes
