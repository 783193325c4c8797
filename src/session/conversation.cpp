#include "session/conversation.hpp"

#include "net/errc.hpp"
#include "smtp/errc.hpp"

#include <algorithm>
#include <system_error>

namespace smtpprobe {

Conversation::Conversation(net::Transport& transport, Transcript* transcript, Timeouts timeouts,
                           int session)
    : transport_(transport), transcript_(transcript), timeouts_(timeouts), session_(session) {}

net::Deadline Conversation::deadline() const {
    return net::earliest(net::Clock::now() + timeouts_.command, timeouts_.run_deadline);
}

void Conversation::log(TranscriptEvent::Kind kind, std::string_view text) {
    if (transcript_ != nullptr)
        transcript_->add(session_, kind, transport_.tls_active(), text);
}

void Conversation::begin_wait(bool handshake) {
    wait_is_handshake_ = handshake;
    wait_start_ = handshake ? transport_.bytes_received() : received_;
    wait_started_ = net::Clock::now();
}

std::uint64_t Conversation::wait_bytes() const noexcept {
    if (wait_is_handshake_) {
        std::uint64_t const now = transport_.bytes_received();
        return now >= wait_start_ ? now - wait_start_ : 0;
    }
    return received_ - wait_start_;
}

smtp::Reply Conversation::greeting() {
    return greeting(timeouts_.command);
}

smtp::Reply Conversation::greeting(std::chrono::milliseconds limit) {
    if (!banner_wait_begun_) {
        banner_wait_begun_ = true;
        begin_wait(false);
    }
    return read_reply(net::earliest(net::Clock::now() + std::min(limit, timeouts_.command),
                                    timeouts_.run_deadline));
}

smtp::Reply Conversation::exchange(smtp::Command const& command) {
    return exchange(command, timeouts_.command);
}

void Conversation::refuse_unsolicited() {
    if (std::optional<smtp::Reply> early = parser_.next()) {
        // A reply nobody asked for: a server announcing that it closes (RFC 5321 §3.8: 421
        // may come at any time), or one that would shift every later reply by one.
        std::string const text = early->wire();
        log(TranscriptEvent::Kind::error, "unsolicited reply: " + text);
        if (early->code == 421)
            throw std::system_error(net::errc::closed_by_peer, text);
        throw std::system_error(smtp::errc::unexpected_code, "unsolicited reply: " + text);
    }
}

smtp::Reply Conversation::exchange(smtp::Command const& command, std::chrono::milliseconds limit) {
    refuse_unsolicited();
    net::Deadline const until = net::earliest(
        net::Clock::now() + std::min(limit, timeouts_.command), timeouts_.run_deadline);
    begin_wait(false);
    log(TranscriptEvent::Kind::sent, command.shown);
    transport_.send_all(command.wire, until);
    return read_reply(until);
}

std::vector<smtp::Reply> Conversation::exchange_group(std::vector<smtp::Command> const& commands) {
    if (commands.size() < 2)
        return commands.empty() ? std::vector<smtp::Reply>{}
                                : std::vector<smtp::Reply>{exchange(commands.front())};
    refuse_unsolicited();
    net::Deadline const until =
        net::earliest(net::Clock::now() + timeouts_.command, timeouts_.run_deadline);
    begin_wait(false);
    std::string wire;
    for (smtp::Command const& command : commands) {
        log(TranscriptEvent::Kind::sent, command.shown);
        wire += command.wire;
    }
    transport_.send_all(wire, until);
    std::vector<smtp::Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i)
        replies.push_back(read_reply(until));
    return replies;
}

smtp::Reply Conversation::read_reply(net::Deadline deadline) {
    char buffer[4096];
    for (int reads = 0; reads < 1'000'000; ++reads) {
        if (std::optional<smtp::Reply> reply = parser_.next()) {
            for (std::size_t i = 0; i < reply->lines.size(); ++i) {
                std::string line = std::to_string(reply->code);
                line += (i + 1 == reply->lines.size()) ? " " : "-";
                line += reply->lines[i];
                log(TranscriptEvent::Kind::received, line);
            }
            return *reply;
        }
        if (std::error_code ec = parser_.error()) {
            log(TranscriptEvent::Kind::error, ec.message() + ": " + parser_.error_line());
            throw std::system_error(ec, parser_.error_line());
        }
        std::size_t n = transport_.receive_some(buffer, sizeof buffer, deadline);
        if (n == 0) {
            parser_.finish();
            if (parser_.error()) {
                log(TranscriptEvent::Kind::error, "connection closed in the middle of a reply");
                throw std::system_error(parser_.error(), parser_.error_line());
            }
            log(TranscriptEvent::Kind::error, "connection closed by the server");
            throw std::system_error(net::errc::closed_by_peer);
        }
        received_ += n;
        recent_.append(buffer, n);
        if (recent_.size() > 8192)
            recent_.erase(0, recent_.size() - 4096);
        parser_.feed(std::string_view(buffer, n));
    }
    throw std::system_error(smtp::errc::too_many_lines);
}

net::TlsInfo Conversation::upgrade_to_tls(net::TlsConnectOptions const& options) {
    if (parser_.buffered() != 0) {
        // Anything the server sent after its 220 arrived in plaintext and could have been
        // injected by a man in the middle: never parse it as SMTP (smtp-facts §1.6).
        std::size_t const count = parser_.buffered();
        injected_ = recent_.substr(recent_.size() - std::min(count, recent_.size()));
        log(TranscriptEvent::Kind::error, "data after the STARTTLS 220, before the handshake");
        if (discard_injected_) {
            // Dropped unread, as a client that discards its plaintext buffer does. The reply
            // counters are kept.
            log(TranscriptEvent::Kind::info,
                std::to_string(count) + " bytes discarded unread; starting TLS");
            parser_.discard_buffered();
        } else {
            // The bytes themselves stay out of the message (they may hold CR, LF, anything);
            // injected() has them for the report.
            throw std::system_error(smtp::errc::data_after_starttls,
                                    std::to_string(injected_.size()) + " bytes");
        }
    }
    net::TlsInfo info;
    begin_wait(true);
    try {
        info = transport_.start_tls(options, deadline());
    } catch (std::system_error const& e) {
        log(TranscriptEvent::Kind::error, std::string("TLS handshake failed: ") + e.what());
        throw;
    }
    if (!info.plaintext_before_tls.empty()) {
        // Plaintext in a read of its own, after the ClientHello went out and before the
        // server's first TLS record: the transport set it aside unread (net::TlsInfo). It
        // follows whatever came in the 220's own read.
        std::string const late = std::to_string(info.plaintext_before_tls.size()) + " bytes";
        injected_ += info.plaintext_before_tls;
        info.plaintext_before_tls.clear();
        injected_late_ = true;
        log(TranscriptEvent::Kind::error, "data after the STARTTLS 220 (in a read of its own), "
                                          "before the server's first TLS record");
        if (!discard_injected_)
            throw std::system_error(smtp::errc::data_after_starttls, late);
        log(TranscriptEvent::Kind::info, late + " set aside unread; TLS went on");
    }
    std::string summary = "TLS started: " + info.version + " " + info.cipher;
    summary += info.verified() ? ", certificate verified" : ", certificate NOT verified";
    if (!info.chain_verified)
        summary +=
            " (" + info.verify_error +
            (info.verify_depth >= 0 ? " at depth " + std::to_string(info.verify_depth) : "") + ")";
    else if (info.host_checked && !info.host_verified)
        summary += " (not valid for " + info.verify_name + ")";
    log(TranscriptEvent::Kind::info, summary);
    return info;
}

void Conversation::quit() noexcept {
    try {
        net::Deadline const until = net::earliest(
            net::Clock::now() + std::chrono::milliseconds(1000), timeouts_.run_deadline);
        smtp::Command const command = smtp::quit_command();
        log(TranscriptEvent::Kind::sent, command.shown);
        transport_.send_all(command.wire, until);
    } catch (...) {
        // QUIT is a courtesy; a server that hangs up first is not a finding.
    }
    transport_.close();
}

} // namespace smtpprobe
