#pragma once
// One accepted client of the emulator: runs an SmtpSession's steps on the socket (through
// net::TcpTransport, plain or TLS) and feeds it what the client sends, under the idle timeout.

#include "emulator/smtp_session.hpp"
#include "emulator/tls_context.hpp"

#include "net/tcp_transport.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace smtpprobe::emulator {

class Connection {
public:
    /// Takes ownership of an accepted, non-blocking socket. Every wait also ends when `stop_fd`
    /// becomes readable (the server is stopping); idle_timeout bounds each wait for the
    /// client, each write and each handshake; max_session bounds the whole connection (on
    /// expiry it ends as on the idle timeout).
    Connection(int fd, std::string const& client_ip, int stop_fd,
               std::chrono::milliseconds idle_timeout, std::chrono::milliseconds max_session);
    Connection(Connection const&) = delete;
    Connection& operator=(Connection const&) = delete;

    /// Runs the session to its end (a close step, the client leaving, the idle timeout, the
    /// server stopping), then closes politely. Never throws for network errors.
    void run(SmtpSession& session, TlsContext const& tls);

private:
    enum class Status { ok, timeout, closed, stopped };

    /// Runs the steps in order; false once the connection is to end.
    bool execute(std::vector<Step> const& steps, SmtpSession& session, TlsContext const& tls);
    Status receive(char* buffer, std::size_t size, std::size_t& received, net::Deadline deadline);
    bool send(std::string_view bytes);
    bool pause(std::chrono::milliseconds duration);
    /// Reads and drops until the client leaves, the server stops or the time is up.
    void hold(std::chrono::milliseconds duration);
    /// now + budget, but never past the end of the session.
    net::Deadline within(std::chrono::milliseconds budget) const;

    std::unique_ptr<net::TcpTransport> transport_;
    int stop_fd_;
    std::chrono::milliseconds idle_timeout_;
    net::Deadline session_end_;
};

} // namespace smtpprobe::emulator
