#pragma once
// The emulator: a scriptable SMTP server (plain, STARTTLS, implicit TLS) that plays a server
// Profile over real sockets. `smtpprobe --demo`, `smtpprobe emulate` and the socket-level
// tests all run it. It never relays or delivers anything: MAIL, RCPT and DATA only get the
// profile's replies, and message data is discarded.

#include "emulator/cert.hpp"
#include "emulator/profile.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::emulator {

struct ServerOptions {
    /// Numeric address or "localhost". Tests and --demo use loopback only.
    std::string listen_host = "127.0.0.1";
    unsigned short port = 0; ///< 0: an ephemeral port, see Server::port()
    /// How many ports to serve, consecutive from `port` (each ephemeral when port is 0): one
    /// process, one accept thread and one PKI for many targets. 1..1024.
    std::size_t port_count = 1;
    /// The server's certificate and key. None: a fresh PKI for the profile's hostname,
    /// localhost, 127.0.0.1 and ::1, of the kind `certificate` or the profile's certificate
    /// field asks for (see certificate_spec).
    std::optional<Pki> pki;
    /// Overrides the profile's "certificate" when no pki is given.
    std::optional<CertificateKind> certificate;
    /// The certificate for clients that send no SNI; none: the same as for everyone. Lets
    /// tests reproduce a server that needs SNI to pick the right certificate.
    std::optional<Pki> no_sni_pki;
    /// With a profile's request_client_certificate: the CA certificates (PEM) client
    /// certificates are checked against. None: a client PKI generated at start
    /// (Server::client_pki()).
    std::optional<std::string> client_ca_pem;
    /// Connections served at once. Further ones get too_many_connections_reply and are closed
    /// (with implicit TLS they are closed without a reply: no handshake is spent on them).
    std::size_t max_connections = 64;
    /// How long a connection may stay silent (also bounds each TLS handshake and each write).
    /// On expiry the server sends the profile's timeout_reply and closes.
    std::chrono::milliseconds idle_timeout{30000};
    /// How long one connection may last at all, whatever it does (drip-fed clients, tarpits,
    /// long profile delays). On expiry it ends as on the idle timeout.
    std::chrono::milliseconds max_session{15 * 60 * 1000};
    /// The clock token checks use (auth.token_rules "exchange_online": exp and nbf), in
    /// seconds since the epoch; none: the system clock. Tests set it.
    std::function<std::int64_t()> clock;
};

class Server {
public:
    /// Binds and listens, but accepts nothing until start(). Throws std::system_error for a
    /// socket error (e.g. address in use, with the address in the message) and
    /// std::runtime_error for a bad listen address, a bad port_count or a TLS setup failure.
    Server(Profile profile, ServerOptions options);
    /// Calls stop().
    ~Server();
    Server(Server const&) = delete;
    Server& operator=(Server const&) = delete;

    /// Starts the accept thread; each connection then runs on its own thread. Calling it again,
    /// or after stop(), does nothing.
    void start();
    /// Closes the listening socket, ends every connection (without a reply) and joins every
    /// thread. Idempotent; returns within milliseconds even while connections wait on a client
    /// or on a profile delay.
    void stop();

    /// The bound port (the ephemeral one when ServerOptions::port was 0); the first one.
    unsigned short port() const noexcept;
    /// Every bound port, in order (ServerOptions::port_count of them).
    std::vector<unsigned short> ports() const;
    /// The PEM root a client must trust to verify this server.
    std::string const& ca_pem() const noexcept;
    /// With a profile's request_client_certificate and no ServerOptions::client_ca_pem: the
    /// generated client CA (ca_pem) and a client certificate and key from it (cert_pem,
    /// key_pem) that EXTERNAL accepts. Else none.
    std::optional<Pki> const& client_pki() const noexcept;
    Profile const& profile() const noexcept;
    /// Every line received from clients, in arrival order, as "cN: LINE" where N counts
    /// accepted connections from 1. Lines are shown as received (credentials included: test
    /// secrets only) and cut at 1000 octets. Plaintext pipelined behind STARTTLS, which the
    /// server discards unexecuted (CVE-2011-0411), shows as "cN: [discarded after STARTTLS] LINE";
    /// a failed handshake as "cN: [TLS handshake failed: REASON]". Thread-safe.
    std::vector<std::string> received() const;
    /// Connections accepted so far, including those refused for max_connections.
    std::size_t connections_accepted() const noexcept;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace smtpprobe::emulator
