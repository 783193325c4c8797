#pragma once
// TCP (+ TLS) transport: non-blocking socket, poll() with deadlines and the interrupt pipe.

#include "net/resolve.hpp"
#include "net/transport.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::net {

/// What a connection attempt tried, for the report.
struct ConnectAttempt {
    std::string address;
    std::string error; ///< empty on success
};

struct SourceAddress;

class TcpTransport final : public Transport {
public:
    /// Tries each endpoint in order until one accepts within `per_address_timeout` (and before
    /// `deadline`). Throws std::system_error(net::errc::connect_failed) listing every attempt;
    /// `attempts` gets one entry per address tried either way. With `source`, each socket is
    /// bound to it first (addresses of the other family are skipped).
    static std::unique_ptr<TcpTransport> connect(std::vector<Endpoint> const& endpoints,
                                                 std::chrono::milliseconds per_address_timeout,
                                                 Deadline deadline,
                                                 std::vector<ConnectAttempt>* attempts = nullptr,
                                                 SourceAddress const* source = nullptr);
    /// A connection accepted by a server (the emulator). Its waits end with
    /// errc::interrupted once `cancel_fd` is readable, instead of on SIGINT.
    static std::unique_ptr<TcpTransport> adopt(int fd, Endpoint peer, int cancel_fd);
    ~TcpTransport() override;

    void send_all(std::string_view bytes, Deadline deadline) override;
    std::size_t receive_some(char* buffer, std::size_t size, Deadline deadline) override;
    TlsInfo start_tls(TlsConnectOptions const& options, Deadline deadline) override;
    bool tls_active() const noexcept override { return ssl_ != nullptr && tls_up_; }
    TlsChannelBindings channel_bindings() const override;
    std::uint64_t bytes_received() const noexcept override;
    void close() noexcept override;

    /// The server side of the handshake, with a server SSL_CTX* the caller built. Throws
    /// errc::tls_handshake_failed with OpenSSL's reason, timeout or interrupted.
    void accept_tls(void* server_context, Deadline deadline);
    /// Server side, after accept_tls: the subject (RFC 2253) of the client certificate when
    /// the client sent one and it verified against the context's trust store; else none.
    std::optional<std::string> verified_peer_subject() const;
    /// Ends the connection politely: TLS close_notify, FIN, then reads and drops whatever the
    /// peer still sends until it closes or the deadline passes (so that the last bytes sent
    /// are not lost to a reset caused by unread data), then closes.
    void close_gracefully(Deadline deadline) noexcept;

    Endpoint const& peer() const noexcept { return peer_; }
    /// Our end of the connection, "127.0.0.1 port 41234" ("[::1]" style not used).
    std::string local_address() const;
    /// Bytes already received by someone else (a proxy handshake that read past its end):
    /// receive_some() returns them first.
    void unread(std::string bytes) { pending_ = std::move(bytes) + pending_; }

private:
    TcpTransport(int fd, Endpoint peer) : fd_(fd), peer_(std::move(peer)) {}
    /// Waits for `events` on the socket; throws timeout / interrupted.
    void wait(short events, Deadline deadline);
    /// Runs SSL_do_handshake on ssl_ (either side) until it completes.
    void handshake(Deadline deadline);
    /// Client side: runs the handshake until the ClientHello is sent and it waits for the
    /// server (which OpenSSL must not read from the socket yet).
    void send_client_hello(Deadline deadline);
    /// Reads, and returns, whole lines of plaintext that precede the server's first TLS
    /// record (none from an honest server); leaves the record itself unread.
    std::string take_plaintext_before_tls(Deadline deadline);

    int fd_ = -1;
    Endpoint peer_;
    void* ssl_ = nullptr; // SSL*
    bool tls_up_ = false;
    std::uint64_t plain_received_ = 0; ///< bytes recv()'d before TLS (after it, the BIO counts)
    int cancel_fd_ = -1;               ///< -1: the SIGINT self-pipe (interrupt_fd())
    std::string pending_;
};

} // namespace smtpprobe::net
