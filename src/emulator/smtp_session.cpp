#include "emulator/smtp_session.hpp"

#include "smtp/capabilities.hpp"

#include <algorithm>
#include <utility>

namespace smtpprobe::emulator {
namespace {

// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including CRLF. Command lines may be
// only 512 (§4.5.3.1.4); the emulator is lenient up to the text-line limit.
constexpr std::size_t max_command_line = 998;
// RFC 4954 §4: "12288 octets is considered to be a sufficient line length limit" for AUTH,
// which also covers long initial responses (XOAUTH2 tokens) on the AUTH command line. Every
// line is read with this limit; command lines are then held to max_command_line.
constexpr std::size_t max_line = 12288;
constexpr std::size_t max_commands = 100'000;
constexpr std::size_t max_message_lines = 1'000'000;
constexpr std::size_t max_discarded_lines = 1000;

} // namespace

SmtpSession::SmtpSession(SessionContext const& context, std::size_t id, std::string client_ip)
    : context_(context), profile_(context.profile), id_(id), client_ip_(std::move(client_ip)),
      reader_(max_line, Recorder::max_line) {
    if (profile_.bare_lf == Profile::BareLf::wait) {
        reader_.bare_lf(LineReader::BareLf::part_of_line);
    }
}

std::vector<Step> SmtpSession::start() {
    Behaviour const& behaviour = profile_.behaviour;
    if (behaviour.tarpit.count() > 0) {
        hold(behaviour.tarpit);
    } else if (profile_.tls == TlsMode::implicit && behaviour.tls_stall.count() > 0) {
        hold(behaviour.tls_stall);
    } else if (profile_.tls == TlsMode::implicit) {
        phase_ = Phase::tls_pending;
        steps_.push_back({Step::Kind::start_tls, {}, {}});
    } else {
        greet();
    }
    return std::exchange(steps_, {});
}

void SmtpSession::greet() {
    banner_sent_ = true;
    if (std::optional<std::string> const& raw = profile_.behaviour.greeting_raw) {
        phase_ = Phase::raw;
        pause(profile_.delay_for("banner"));
        if (!raw->empty()) {
            send_wire(substitute(*raw, profile_.hostname, client_ip_), true);
        }
        return;
    }
    pause(profile_.delay_for("banner"));
    send_wire(render_reply(profile_.banner, profile_.hostname, client_ip_), true);
    if (profile_.close_after.contains("banner")) {
        close();
    }
}

std::vector<Step> SmtpSession::receive(std::string_view bytes) {
    if (phase_ == Phase::finished || phase_ == Phase::tls_pending) {
        return {};
    }
    reader_.feed(bytes);
    while (phase_ != Phase::finished && phase_ != Phase::tls_pending) {
        std::optional<LineReader::Line> line = reader_.next();
        if (!line) {
            break;
        }
        ++lines_;
        on_line(*line);
        if (lines_ >= max_commands + max_message_lines && phase_ != Phase::finished) {
            close();
        }
    }
    return std::exchange(steps_, {});
}

std::vector<Step> SmtpSession::tls_started(TlsSessionFacts facts) {
    if (phase_ != Phase::tls_pending) {
        return {};
    }
    tls_active_ = true;
    channel_binding_ = std::move(facts.channel_binding);
    client_identity_ = std::move(facts.client_identity);
    phase_ = Phase::command;
    if (!banner_sent_) {
        greet(); // implicit TLS: the banner comes after the handshake
    } else {
        // RFC 3207 §4.2: forget everything learnt from the client before TLS.
        greeted_ = false;
        authenticated_ = false;
    }
    return std::exchange(steps_, {});
}

void SmtpSession::tls_failed(std::string_view reason) {
    record("[TLS handshake failed: " + std::string(reason) + "]");
    phase_ = Phase::finished;
}

std::vector<Step> SmtpSession::timed_out() {
    if (phase_ != Phase::finished) {
        send(profile_.timeout_reply);
        close();
    }
    return std::exchange(steps_, {});
}

void SmtpSession::on_line(LineReader::Line const& line) {
    if (line.bare_lf && profile_.bare_lf == Profile::BareLf::reject && phase_ != Phase::raw) {
        // Postfix >= 3.9, 3.8.5, 3.7.10 with smtpd_forbid_bare_newline = reject: the reply
        // code is smtpd_forbid_bare_newline_reject_code (550; 521 disconnects).
        record(line.text + " [bare LF]");
        send(profile_.bare_lf_reply);
        if (profile_.bare_lf_reply.starts_with("521") ||
            profile_.bare_lf_reply.starts_with("421")) {
            close();
        }
        return;
    }
    switch (phase_) {
    case Phase::command:
        if (line.too_long) {
            on_too_long(line.text);
        } else {
            on_command(line.text);
        }
        return;
    case Phase::auth:
        on_auth_line(line);
        return;
    case Phase::data:
        on_data_line(line);
        return;
    case Phase::raw:
        record(line.too_long ? line.text + " [line too long, cut]" : line.text);
        if (std::optional<std::string> const& reply = profile_.behaviour.after_first_line) {
            send_wire(substitute(*reply, profile_.hostname, client_ip_));
            close();
        }
        return;
    case Phase::tls_pending:
    case Phase::finished:
        return;
    }
}

void SmtpSession::on_too_long(std::string const& head) {
    record(head + " [line too long, cut]");
    if (smtp::to_upper(head.substr(0, 5)) == "AUTH ") {
        send(profile_.auth.line_too_long_reply);
    } else {
        send(profile_.line_too_long_reply);
    }
}

void SmtpSession::on_command(std::string const& line) {
    record(line);
    std::size_t const space = line.find(' ');
    verb_ = smtp::to_upper(line.substr(0, space));
    std::string args;
    if (space != std::string::npos) {
        std::size_t const start = line.find_first_not_of(' ', space);
        args = start == std::string::npos ? "" : line.substr(start);
    }
    if (line.size() > max_command_line && verb_ != "AUTH") {
        send(profile_.line_too_long_reply);
        return;
    }
    dispatch(verb_, args);
    if (phase_ == Phase::command) {
        command_done();
    }
}

void SmtpSession::command_done() {
    if (phase_ != Phase::finished && profile_.close_after.contains(verb_)) {
        close();
    }
}

void SmtpSession::dispatch(std::string const& verb, std::string const& args) {
    if (verb == "EHLO") {
        on_ehlo(args);
        return;
    }
    if (verb == "HELO") {
        if (args.empty()) {
            reply_to(verb, profile_.syntax_reply);
            return;
        }
        greeted_ = true;
        reply_to(verb, profile_.helo);
        return;
    }
    if (verb == "STARTTLS") {
        on_starttls(args);
        return;
    }
    bool const auth_enabled = verb == "AUTH" && profile_.auth.enabled();
    bool const needs_hello = verb == "MAIL" || verb == "RCPT" || verb == "DATA" || auth_enabled;
    if (needs_hello && !greeted_ && !profile_.hello_first_reply.empty()) {
        reply_to(verb, profile_.hello_first_reply);
        return;
    }
    if (auth_enabled) {
        on_auth(args);
        return;
    }
    bool const plaintext = !tls_active_ && profile_.tls == TlsMode::starttls;
    // Before STARTTLS, plaintext_replies come first (a server that wants TLS says so before
    // it looks at the envelope).
    if (!(plaintext && profile_.plaintext_replies.contains(verb))) {
        if (std::optional<std::string> const refusal = envelope_refusal(verb, args)) {
            reply_to(verb, *refusal);
            return;
        }
    }
    std::string const& reply = profile_.reply_for(verb, authenticated_, plaintext);
    reply_to(verb, reply);
    if (verb == "QUIT") {
        close();
    } else if (verb == "DATA" && reply.starts_with("354")) {
        // RFC 5321 §4.1.1.4: the message ends with a line holding a single ".". It is read and
        // thrown away: the emulator never delivers or relays.
        phase_ = Phase::data;
        data_lines_ = 0;
    }
}

namespace {

/// The address of "FROM:<addr> ..." / "TO:<addr>" (what lies between < and >).
std::string path_address(std::string const& args) {
    std::size_t const open = args.find('<');
    std::size_t const close = open == std::string::npos ? open : args.find('>', open);
    return close == std::string::npos ? std::string() : args.substr(open + 1, close - open - 1);
}

void substitute(std::string& text, std::string_view name, std::string const& value) {
    for (std::size_t at = text.find(name); at != std::string::npos;
         at = text.find(name, at + value.size()))
        text.replace(at, name.size(), value);
}

} // namespace

std::optional<std::string> SmtpSession::envelope_refusal(std::string const& verb,
                                                         std::string const& args) const {
    EnvelopeRules const& rules = profile_.envelope;
    std::string const address = path_address(args);
    if (verb == "MAIL" && authenticated_ && !rules.sender_allowed(user_, address)) {
        std::string reply = rules.sender_refused_reply;
        substitute(reply, "{sender}", address);
        substitute(reply, "{user}", user_);
        return reply;
    }
    if (verb == "RCPT" && !authenticated_ && rules.needs_relay(address)) {
        std::string reply = rules.relay_denied_reply;
        substitute(reply, "{rcpt}", address);
        return reply;
    }
    return std::nullopt;
}

void SmtpSession::on_ehlo(std::string const& args) {
    if (!profile_.ehlo.supported) {
        reply_to("EHLO", profile_.reply_for("EHLO", authenticated_));
        return;
    }
    if (args.empty()) {
        reply_to("EHLO", profile_.syntax_reply);
        return;
    }
    greeted_ = true;
    std::vector<std::string> const& lines =
        tls_active_ ? profile_.ehlo.after_tls : profile_.ehlo.before_tls;
    pause(profile_.delay_for("EHLO"));
    send_wire(render_ehlo(profile_.ehlo.greeting, lines, profile_.hostname, client_ip_));
}

void SmtpSession::on_starttls(std::string const& args) {
    if (tls_active_) {
        reply_to("STARTTLS", profile_.starttls_active_reply);
        return;
    }
    if (profile_.tls != TlsMode::starttls) {
        reply_to("STARTTLS", profile_.starttls_unavailable_reply);
        return;
    }
    if (!args.empty()) {
        reply_to("STARTTLS", profile_.syntax_reply);
        return;
    }
    std::string const reply =
        render_reply(profile_.reply_for("STARTTLS", authenticated_), profile_.hostname, client_ip_);
    pause(profile_.delay_for("STARTTLS"));
    if (!reply.starts_with("220")) {
        send_wire(reply);
        return;
    }
    // CVE-2011-0411: plaintext pipelined behind STARTTLS must not be executed as if it had
    // arrived over TLS, so it is dropped unread (RFC 3207 §4.2: the protocol restarts).
    for (std::string const& line : reader_.take_lines(max_discarded_lines)) {
        record("[discarded after STARTTLS] " + line);
    }
    if (profile_.starttls_inject_delay.count() > 0 && !profile_.starttls_inject.empty()) {
        send_wire(reply);
        pause(profile_.starttls_inject_delay);
        send_wire(profile_.starttls_inject);
    } else {
        send_wire(reply + profile_.starttls_inject);
    }
    if (profile_.close_after.contains("STARTTLS")) {
        close();
        return;
    }
    if (profile_.behaviour.tls_stall.count() > 0) {
        hold(profile_.behaviour.tls_stall); // the ClientHello is read and never answered
        return;
    }
    phase_ = Phase::tls_pending;
    steps_.push_back({Step::Kind::start_tls, {}, {}});
}

void SmtpSession::on_data_line(LineReader::Line const& line) {
    if (line.too_long) {
        record(line.text + " [line too long, cut]");
    } else {
        record(line.text);
    }
    ++data_lines_;
    if (!line.too_long && line.text == ".") {
        phase_ = Phase::command;
        send(profile_.data_end_reply);
        command_done();
    } else if (data_lines_ >= max_message_lines) {
        close();
    }
}

void SmtpSession::record(std::string_view line) {
    context_.recorder.add(id_, line);
}

void SmtpSession::send(std::string_view reply) {
    send_wire(render_reply(reply, profile_.hostname, client_ip_));
}

void SmtpSession::send_wire(std::string wire, bool drip) {
    Behaviour const& behaviour = profile_.behaviour;
    std::size_t const piece = behaviour.drip_bytes;
    if (piece == 0 || !(drip || behaviour.drip_every_reply)) {
        steps_.push_back({Step::Kind::send, std::move(wire), {}});
        return;
    }
    for (std::size_t at = 0; at < wire.size(); at += piece) {
        if (at > 0) {
            pause(behaviour.drip_interval);
        }
        steps_.push_back({Step::Kind::send, wire.substr(at, piece), {}});
    }
}

void SmtpSession::hold(std::chrono::milliseconds duration) {
    steps_.push_back({Step::Kind::hold, {}, duration});
    phase_ = Phase::finished;
}

void SmtpSession::pause(std::chrono::milliseconds duration) {
    if (duration > std::chrono::milliseconds{0}) {
        steps_.push_back({Step::Kind::pause, {}, duration});
    }
}

void SmtpSession::reply_to(std::string const& verb, std::string_view reply) {
    pause(profile_.delay_for(verb));
    send(reply);
}

void SmtpSession::close() {
    steps_.push_back({Step::Kind::close, {}, {}});
    phase_ = Phase::finished;
}

} // namespace smtpprobe::emulator
