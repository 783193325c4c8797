#include "emulator/connection.hpp"

#include "net/errc.hpp"
#include "net/poll.hpp"

#include <sys/socket.h>

#include <system_error>

namespace smtpprobe::emulator {
namespace {

constexpr std::chrono::milliseconds close_linger{250};

/// An error's own text, without the ": <category message>" std::system_error appends.
std::string reason(std::system_error const& error) {
    if (error.code() == net::errc::timeout) {
        return "handshake timed out";
    }
    if (error.code() == net::errc::interrupted) {
        return "server stopping";
    }
    std::string text = error.what();
    std::string const suffix = ": " + error.code().message();
    if (text.size() > suffix.size() && text.ends_with(suffix)) {
        text.erase(text.size() - suffix.size());
    }
    return text;
}

int family_of(std::string const& ip) {
    return ip.find(':') != std::string::npos ? AF_INET6 : AF_INET;
}

} // namespace

Connection::Connection(int fd, std::string const& client_ip, int stop_fd,
                       std::chrono::milliseconds idle_timeout,
                       std::chrono::milliseconds max_session)
    : transport_(net::TcpTransport::adopt(fd, {client_ip, 0, family_of(client_ip)}, stop_fd)),
      stop_fd_(stop_fd), idle_timeout_(idle_timeout), session_end_(net::after(max_session)) {}

net::Deadline Connection::within(std::chrono::milliseconds budget) const {
    return net::earliest(net::after(budget), session_end_);
}

void Connection::run(SmtpSession& session, TlsContext const& tls) {
    bool open = execute(session.start(), session, tls);
    net::Deadline deadline = within(idle_timeout_);
    char buffer[16384];
    // Each round consumes at least one byte, and the session ends itself after a bounded
    // number of lines; the bound here only guards against a logic error.
    for (long round = 0; open && !session.finished() && round < 1'000'000'000L; ++round) {
        std::size_t received = 0;
        Status const status = receive(buffer, sizeof buffer, received, deadline);
        if (status == Status::timeout) {
            execute(session.timed_out(), session, tls);
            break;
        }
        if (status != Status::ok) {
            break;
        }
        std::size_t const lines = session.lines_consumed();
        open = execute(session.receive({buffer, received}), session, tls);
        if (session.lines_consumed() != lines) {
            // The idle timer runs from the last reply to the next complete line, so that a
            // client dripping a line byte by byte still times out.
            deadline = within(idle_timeout_);
        }
    }
    transport_->close_gracefully(net::after(close_linger));
}

bool Connection::execute(std::vector<Step> const& steps, SmtpSession& session,
                         TlsContext const& tls) {
    for (Step const& step : steps) {
        switch (step.kind) {
        case Step::Kind::send:
            if (!send(step.bytes)) {
                return false;
            }
            break;
        case Step::Kind::pause:
            if (!pause(step.duration)) {
                return false;
            }
            break;
        case Step::Kind::start_tls: {
            try {
                transport_->accept_tls(tls.native(), within(idle_timeout_));
            } catch (std::system_error const& error) {
                session.tls_failed(reason(error));
                return false;
            }
            net::TlsChannelBindings bindings = transport_->channel_bindings();
            TlsSessionFacts facts{sasl::choose_channel_binding(std::move(bindings.tls_unique),
                                                               std::move(bindings.tls_exporter)),
                                  transport_->verified_peer_subject()};
            if (!execute(session.tls_started(std::move(facts)), session, tls)) {
                return false;
            }
            break;
        }
        case Step::Kind::hold:
            hold(step.duration);
            return false;
        case Step::Kind::close:
            return false;
        }
    }
    return true;
}

Connection::Status Connection::receive(char* buffer, std::size_t size, std::size_t& received,
                                       net::Deadline deadline) {
    try {
        received = transport_->receive_some(buffer, size, deadline);
        return received == 0 ? Status::closed : Status::ok;
    } catch (std::system_error const& error) {
        if (error.code() == net::errc::timeout) {
            return Status::timeout;
        }
        if (error.code() == net::errc::interrupted) {
            return Status::stopped;
        }
        return Status::closed;
    }
}

bool Connection::send(std::string_view bytes) {
    try {
        transport_->send_all(bytes, within(idle_timeout_));
        return true;
    } catch (std::system_error const&) {
        return false;
    }
}

bool Connection::pause(std::chrono::milliseconds duration) {
    net::Deadline const end = net::after(duration);
    return net::sleep_until(net::earliest(end, session_end_), stop_fd_) && end <= session_end_;
}

void Connection::hold(std::chrono::milliseconds duration) {
    net::Deadline const end = within(duration);
    char buffer[4096];
    std::size_t received = 0;
    // Each round either reads at least one byte or ends; the count is a guard only.
    for (long round = 0; round < 1'000'000'000L; ++round) {
        if (receive(buffer, sizeof buffer, received, end) != Status::ok) {
            return;
        }
    }
}

} // namespace smtpprobe::emulator
