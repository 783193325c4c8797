#include "probes/envelope.hpp"

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
    std::string const sender = request.mail_from == "<>" ? std::string() : request.mail_from;
    smtp::Command const mail = smtp::mail_command(sender, mail_parameters(request, capabilities));
    EnvelopeStep step;
    step.kind = K::mail;
    step.argument = mail.shown.substr(std::string_view("MAIL FROM:").size());
    if (!send(conversation, mail, step, envelope))
        return;
    // After a refused MAIL every RCPT would get 503 (bad sequence): nothing to learn.
    if (envelope.steps.back().reply->code / 100 == 2) {
        for (std::string const& rcpt : request.rcpt) {
            smtp::Command const command = smtp::rcpt_command(rcpt);
            step = {};
            step.kind = K::rcpt;
            step.argument = command.shown.substr(std::string_view("RCPT TO:").size());
            if (!send(conversation, command, step, envelope))
                return;
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
