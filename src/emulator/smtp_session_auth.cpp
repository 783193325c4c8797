// SmtpSession's AUTH command and the exchange that follows it (RFC 4954): the rest of the
// session is in smtp_session.cpp.

#include "emulator/reply_text.hpp"
#include "emulator/smtp_session.hpp"

#include <chrono>
#include <utility>

namespace smtpprobe::emulator {

void SmtpSession::on_auth(std::string const& args) {
    AuthProfile const& auth = profile_.auth;
    if (authenticated_) {
        // RFC 4954 §4: after a successful AUTH, further AUTH commands are refused with 503.
        reply_to("AUTH", auth.already_authenticated_reply);
        return;
    }
    std::optional<AuthCommand> const command = parse_auth_command(args);
    if (!command) {
        reply_to("AUTH", auth.syntax_reply);
        return;
    }
    bool const before_starttls = profile_.tls == TlsMode::starttls && !tls_active_;
    if (std::string const* refusal = auth_refusal(auth, before_starttls, command->mechanism)) {
        reply_to("AUTH", *refusal);
        return;
    }
    pause(profile_.delay_for("AUTH"));
    start_exchange(command->mechanism, command->initial);
}

void SmtpSession::start_exchange(std::string const& mechanism,
                                 std::optional<std::string> const& initial) {
    sasl::ServerOptions options = context_.sasl_options;
    options.channel_binding = channel_binding_;
    options.external_identity = client_identity_;
    options.now = context_.clock ? context_.clock()
                                 : std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
    exchange_.emplace(profile_.auth, options, mechanism);
    on_result(exchange_->begin(initial));
}

void SmtpSession::on_result(AuthExchange::Result const& result) {
    AuthProfile const& auth = profile_.auth;
    phase_ = Phase::command;
    switch (result.kind) {
    case AuthExchange::Result::Kind::challenge:
        send(result.reply);
        phase_ = Phase::auth;
        return;
    case AuthExchange::Result::Kind::success:
        authenticated_ = true;
        user_ = exchange_->user();
        send(result.reply.empty() ? auth.success_reply : result.reply);
        return;
    case AuthExchange::Result::Kind::failure:
        auth_failed(result.reply.empty() ? auth.failure_reply_for(exchange_->mechanism())
                                         : result.reply,
                    true);
        return;
    case AuthExchange::Result::Kind::malformed:
        auth_failed(auth.malformed_reply, false);
        return;
    case AuthExchange::Result::Kind::cancelled:
        auth_failed(auth.cancel_reply, false); // RFC 4954 §4: "*" gets 501
        return;
    }
}

void SmtpSession::on_auth_line(LineReader::Line const& line) {
    if (line.too_long) {
        record(line.text + " [line too long, cut]");
        auth_failed(profile_.auth.line_too_long_reply, false);
    } else {
        record(line.text);
        on_result(exchange_->answer(line.text));
    }
    if (phase_ == Phase::command) {
        command_done();
    }
}

/// Sends the reply for a failed, cancelled or undecodable attempt; after the profile's limit
/// (RFC 4954 §9) follows it with drop_reply in the same write and ends the session. An empty
/// drop_reply closes without one, as Exim does after folding its farewell into the 504.
void SmtpSession::auth_failed(std::string const& reply, bool delayed) {
    AuthProfile const& auth = profile_.auth;
    ++failures_;
    phase_ = Phase::command;
    if (delayed) {
        pause(auth.failure_delay);
    }
    std::string wire = render_reply(reply, profile_.hostname, client_ip_);
    if (auth.drop_after_failures > 0 && failures_ >= auth.drop_after_failures) {
        if (!auth.drop_reply.empty()) {
            wire += render_reply(auth.drop_reply, profile_.hostname, client_ip_);
        }
        send_wire(std::move(wire));
        close();
        return;
    }
    send_wire(std::move(wire));
}

} // namespace smtpprobe::emulator
