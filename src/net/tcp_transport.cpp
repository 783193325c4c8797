#include "net/tcp_transport.hpp"

#include "net/connect.hpp"
#include "net/errc.hpp"
#include "net/interrupt.hpp"
#include "net/poll.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <system_error>

namespace smtpprobe::net {
namespace {

void fill_sockaddr(Endpoint const& e, sockaddr_storage& storage, socklen_t& length) {
    std::memset(&storage, 0, sizeof storage);
    if (e.family == AF_INET6) {
        sockaddr_in6* sa = reinterpret_cast<sockaddr_in6*>(&storage);
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons(e.port);
        ::inet_pton(AF_INET6, e.address.c_str(), &sa->sin6_addr);
        length = sizeof(sockaddr_in6);
    } else {
        sockaddr_in* sa = reinterpret_cast<sockaddr_in*>(&storage);
        sa->sin_family = AF_INET;
        sa->sin_port = htons(e.port);
        ::inet_pton(AF_INET, e.address.c_str(), &sa->sin_addr);
        length = sizeof(sockaddr_in);
    }
}

// Binds fd to the --source address; false with `error` set when the address is not ours.
bool bind_source(int fd, SourceAddress const& source, std::string& error) {
    int one = 1;
    if (source.port != 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    } else {
        // The port is chosen at connect(), so one source address serves many connections.
        ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    }
    Endpoint const local{source.address, source.port, source.family};
    sockaddr_storage storage;
    socklen_t length = 0;
    fill_sockaddr(local, storage, length);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0)
        return true;
    error = "cannot use the source address " + source.display() + ": " + std::strerror(errno);
    return false;
}

} // namespace

std::string TcpTransport::local_address() const {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0)
        return {};
    char text[INET6_ADDRSTRLEN] = {};
    unsigned port = 0;
    if (storage.ss_family == AF_INET6) {
        auto const* sa = reinterpret_cast<sockaddr_in6 const*>(&storage);
        ::inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
        port = ntohs(sa->sin6_port);
    } else {
        auto const* sa = reinterpret_cast<sockaddr_in const*>(&storage);
        ::inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
        port = ntohs(sa->sin_port);
    }
    return std::string(text) + " port " + std::to_string(port);
}

std::unique_ptr<TcpTransport> TcpTransport::connect(std::vector<Endpoint> const& endpoints,
                                                    std::chrono::milliseconds per_address_timeout,
                                                    Deadline deadline,
                                                    std::vector<ConnectAttempt>* attempts,
                                                    SourceAddress const* source) {
    std::string summary;
    for (Endpoint const& endpoint : endpoints) {
        if (source != nullptr && source->family != endpoint.family) {
            std::string const error = "not tried: the source address " + source->address + " is " +
                                      (source->family == AF_INET ? "IPv4" : "IPv6");
            if (attempts != nullptr)
                attempts->push_back({endpoint.address, error});
            summary += (summary.empty() ? "" : "; ") + endpoint.address + " port " +
                       std::to_string(endpoint.port) + ": " + error;
            continue;
        }
        int fd = ::socket(endpoint.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        std::string error;
        if (fd < 0) {
            error = std::strerror(errno);
        } else if (source != nullptr && !bind_source(fd, *source, error)) {
            // error set
        } else {
            sockaddr_storage storage;
            socklen_t length = 0;
            fill_sockaddr(endpoint, storage, length);
            int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&storage), length);
            if (rc != 0 && errno != EINPROGRESS) {
                error = std::strerror(errno);
            } else if (rc != 0) {
                try {
                    wait_ready(fd, POLLOUT, earliest(Clock::now() + per_address_timeout, deadline),
                               interrupt_fd());
                    int so_error = 0;
                    socklen_t so_length = sizeof so_error;
                    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_length);
                    if (so_error != 0)
                        error = std::strerror(so_error);
                } catch (std::system_error const& e) {
                    if (e.code() == errc::interrupted) {
                        ::close(fd);
                        throw;
                    }
                    error = e.code() == errc::timeout ? "timed out" : e.what();
                }
            }
        }
        if (attempts != nullptr)
            attempts->push_back({endpoint.address, error});
        if (error.empty()) {
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return std::unique_ptr<TcpTransport>(new TcpTransport(fd, endpoint));
        }
        if (fd >= 0)
            ::close(fd);
        summary += (summary.empty() ? "" : "; ") + endpoint.address + " port " +
                   std::to_string(endpoint.port) + ": " + error;
        if (Clock::now() >= deadline)
            break;
    }
    throw std::system_error(errc::connect_failed, summary);
}

TcpTransport::~TcpTransport() {
    close();
}

void TcpTransport::close() noexcept {
    if (ssl_ != nullptr) {
        SSL_free(static_cast<SSL*>(ssl_));
        ssl_ = nullptr;
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void TcpTransport::wait(short events, Deadline deadline) {
    wait_ready(fd_, events, deadline, cancel_fd_ >= 0 ? cancel_fd_ : interrupt_fd());
}

void TcpTransport::send_all(std::string_view bytes, Deadline deadline) {
    if (fd_ < 0)
        throw std::system_error(errc::closed_by_peer);
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        if (tls_active()) {
            SSL* ssl = static_cast<SSL*>(ssl_);
            std::size_t written = 0;
            int rc = SSL_write_ex(ssl, bytes.data() + sent, bytes.size() - sent, &written);
            if (rc == 1) {
                sent += written;
                continue;
            }
            int const err = SSL_get_error(ssl, rc);
            if (err == SSL_ERROR_WANT_READ)
                wait(POLLIN, deadline);
            else if (err == SSL_ERROR_WANT_WRITE)
                wait(POLLOUT, deadline);
            else
                throw std::system_error(errc::tls_io_failed, openssl_error_text());
            continue;
        }
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait(POLLOUT, deadline);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            throw std::system_error(errc::closed_by_peer);
        } else {
            throw std::system_error(errno, std::system_category(), "send");
        }
    }
}

std::size_t TcpTransport::receive_some(char* buffer, std::size_t size, Deadline deadline) {
    if (!pending_.empty() && size > 0) {
        std::size_t const n = std::min(size, pending_.size());
        pending_.copy(buffer, n);
        pending_.erase(0, n);
        return n;
    }
    if (fd_ < 0)
        return 0;
    for (int round = 0; round < 100'000; ++round) {
        if (tls_active()) {
            SSL* ssl = static_cast<SSL*>(ssl_);
            std::size_t got = 0;
            int rc = SSL_read_ex(ssl, buffer, size, &got);
            if (rc == 1)
                return got;
            int const err = SSL_get_error(ssl, rc);
            if (err == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (err == SSL_ERROR_WANT_READ) {
                wait(POLLIN, deadline);
            } else if (err == SSL_ERROR_WANT_WRITE) {
                wait(POLLOUT, deadline);
            } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL) {
                // An EOF without close_notify is how most SMTP servers end TLS sessions.
                std::string const text = openssl_error_text();
                if (err == SSL_ERROR_SYSCALL || text.find("unexpected eof") != std::string::npos)
                    return 0;
                throw std::system_error(errc::tls_io_failed, text);
            } else {
                throw std::system_error(errc::tls_io_failed, openssl_error_text());
            }
            continue;
        }
        ssize_t n = ::recv(fd_, buffer, size, 0);
        if (n >= 0) {
            plain_received_ += static_cast<std::uint64_t>(n);
            return static_cast<std::size_t>(n);
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            wait(POLLIN, deadline);
        else if (errno == ECONNRESET)
            return 0;
        else if (errno != EINTR)
            throw std::system_error(errno, std::system_category(), "recv");
    }
    throw std::system_error(errc::timeout);
}

std::uint64_t TcpTransport::bytes_received() const noexcept {
    std::uint64_t total = plain_received_;
    if (ssl_ != nullptr)
        if (BIO* bio = SSL_get_rbio(static_cast<SSL*>(ssl_)))
            total += BIO_number_read(bio);
    return total;
}

TlsInfo TcpTransport::start_tls(TlsConnectOptions const& options, Deadline deadline) {
    if (options.context == nullptr)
        throw std::system_error(errc::tls_handshake_failed, "no TLS context");
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(options.context->native()));
    if (ssl == nullptr)
        throw std::system_error(errc::tls_handshake_failed, openssl_error_text());
    ssl_ = ssl;
    SSL_set_fd(ssl, fd_);
    prepare_client_ssl(ssl, options);
    SSL_set_connect_state(ssl);
    if (!options.after_starttls) {
        handshake(deadline);
        return describe_tls(ssl, options);
    }
    // The ClientHello goes out with OpenSSL reading from an empty memory BIO, so that it reads
    // nothing from the socket until the server's first byte is known to start a TLS record.
    BIO* held = BIO_new(BIO_s_mem());
    if (held == nullptr)
        throw std::system_error(errc::tls_handshake_failed, openssl_error_text());
    BIO_set_mem_eof_return(held, -1); // empty means "not yet", not end of stream
    SSL_set0_rbio(ssl, held);
    send_client_hello(deadline);
    std::string plaintext = take_plaintext_before_tls(deadline);
    BIO* socket_bio = SSL_get_wbio(ssl);
    BIO_up_ref(socket_bio);
    SSL_set0_rbio(ssl, socket_bio); // frees the memory BIO, which holds nothing
    handshake(deadline);
    TlsInfo info = describe_tls(ssl, options);
    info.plaintext_before_tls = std::move(plaintext);
    return info;
}

void TcpTransport::send_client_hello(Deadline deadline) {
    SSL* ssl = static_cast<SSL*>(ssl_);
    for (int round = 0; round < 100'000; ++round) {
        ERR_clear_error();
        int const rc = SSL_do_handshake(ssl);
        int const err = SSL_get_error(ssl, rc);
        if (rc == 1 || err == SSL_ERROR_WANT_READ)
            return; // sent; it waits for the server
        if (err == SSL_ERROR_WANT_WRITE) {
            wait(POLLOUT, deadline);
            continue;
        }
        std::string text = openssl_error_text();
        throw std::system_error(errc::tls_handshake_failed,
                                text.empty() ? std::string("handshake failed") : text);
    }
    throw std::system_error(errc::timeout);
}

std::string TcpTransport::take_plaintext_before_tls(Deadline deadline) {
    // A TLS record starts with its content type: change_cipher_spec (20) to heartbeat (24).
    // Anything else at the start of a line is plaintext the server (or a man in the middle)
    // sent after the STARTTLS 220: TCP keeps the order, so it comes before the ServerHello
    // however late it was sent, and no timed wait is needed to catch it.
    constexpr std::size_t max_plaintext = 64 * 1024;
    std::string plaintext;
    bool line_start = true;
    char buffer[4096];
    for (int round = 0; round < 100'000 && plaintext.size() < max_plaintext; ++round) {
        ssize_t const n = ::recv(fd_, buffer, sizeof buffer, MSG_PEEK);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait(POLLIN, deadline);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // the end of the stream or an error: the handshake reports it
        auto const first = static_cast<unsigned char>(buffer[0]);
        if (line_start && first >= 20 && first <= 24)
            break;
        std::string_view const seen(buffer, static_cast<std::size_t>(n));
        std::size_t const eol = seen.find('\n');
        std::size_t const take = eol == std::string_view::npos ? seen.size() : eol + 1;
        ssize_t const got = ::recv(fd_, buffer, take, 0); // what the peek showed, no more
        if (got <= 0)
            break;
        plain_received_ += static_cast<std::uint64_t>(got);
        plaintext.append(buffer, static_cast<std::size_t>(got));
        line_start = buffer[got - 1] == '\n';
    }
    return plaintext;
}

std::unique_ptr<TcpTransport> TcpTransport::adopt(int fd, Endpoint peer, int cancel_fd) {
    std::unique_ptr<TcpTransport> transport(new TcpTransport(fd, std::move(peer)));
    transport->cancel_fd_ = cancel_fd;
    return transport;
}

TlsChannelBindings TcpTransport::channel_bindings() const {
    return tls_active() ? net::channel_bindings(ssl_) : TlsChannelBindings{};
}

void TcpTransport::accept_tls(void* server_context, Deadline deadline) {
    ERR_clear_error();
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(server_context));
    if (ssl == nullptr)
        throw std::system_error(errc::tls_handshake_failed, openssl_error_text());
    ssl_ = ssl;
    if (SSL_set_fd(ssl, fd_) != 1)
        throw std::system_error(errc::tls_handshake_failed, openssl_error_text());
    SSL_set_accept_state(ssl);
    handshake(deadline);
}

std::optional<std::string> TcpTransport::verified_peer_subject() const {
    SSL* ssl = static_cast<SSL*>(ssl_);
    if (ssl == nullptr || !tls_up_)
        return std::nullopt;
    return verified_client_subject(ssl);
}

void TcpTransport::handshake(Deadline deadline) {
    SSL* ssl = static_cast<SSL*>(ssl_);
    for (int round = 0; round < 100'000; ++round) {
        ERR_clear_error();
        int rc = SSL_do_handshake(ssl);
        if (rc == 1) {
            tls_up_ = true;
            return;
        }
        int const err = SSL_get_error(ssl, rc);
        if (err == SSL_ERROR_WANT_READ) {
            wait(POLLIN, deadline);
        } else if (err == SSL_ERROR_WANT_WRITE) {
            wait(POLLOUT, deadline);
        } else {
            std::string text = openssl_error_text();
            if (text.empty())
                text = err == SSL_ERROR_SYSCALL ? "connection closed during the handshake"
                                                : "handshake failed";
            throw std::system_error(errc::tls_handshake_failed, text);
        }
    }
    throw std::system_error(errc::timeout);
}

void TcpTransport::close_gracefully(Deadline deadline) noexcept {
    if (fd_ < 0)
        return;
    if (tls_active()) {
        ERR_clear_error();
        SSL_shutdown(static_cast<SSL*>(ssl_));
        ERR_clear_error();
    }
    ::shutdown(fd_, SHUT_WR);
    char buffer[4096];
    for (int i = 0; i < 64; ++i) {
        ssize_t const n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            break;
        if (n < 0) {
            try {
                wait(POLLIN, deadline);
            } catch (std::system_error const&) {
                break;
            }
        }
    }
    close();
}

} // namespace smtpprobe::net
