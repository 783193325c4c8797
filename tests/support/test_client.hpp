#pragma once
// A deliberately small blocking SMTP client for the emulator's socket-level tests, and a
// server that runs for the length of a test.

#include "emulator/profile.hpp"
#include "emulator/server.hpp"
#include "net/openssl_ptr.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace smtpprobe::test {

using emulator::Profile;
using emulator::Server;
using emulator::ServerOptions;
using net::BioPtr;
using net::CertPtr;
using net::SslCtxPtr;
using net::SslPtr;

inline std::filesystem::path samples_dir() {
#ifdef SMTPPROBE_SOURCE_DIR
    return std::filesystem::path(SMTPPROBE_SOURCE_DIR) / "samples" / "servers";
#else
    if (char const* root = std::getenv("SMTPPROBE_SOURCE_DIR")) {
        return std::filesystem::path(root) / "samples" / "servers";
    }
    std::filesystem::path dir = std::filesystem::current_path();
    for (int i = 0; i < 8; ++i) {
        if (std::filesystem::exists(dir / "samples" / "servers" / "azure-acs.json")) {
            return dir / "samples" / "servers";
        }
        dir = dir.parent_path();
    }
    throw std::runtime_error("samples/servers not found; set SMTPPROBE_SOURCE_DIR");
#endif
}

inline Profile sample(char const* name) {
    return emulator::load_profile(samples_dir() / name);
}

/// samples/hostile/: the hostile and non-SMTP servers.
inline std::filesystem::path hostile_dir() {
    return samples_dir().parent_path() / "hostile";
}

inline Profile hostile(char const* name) {
    return emulator::load_profile(hostile_dir() / name);
}

inline std::vector<CertPtr> read_certs(std::string const& pem) {
    std::vector<CertPtr> certs;
    BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
    for (int i = 0; i < 8; ++i) {
        X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (cert == nullptr) {
            break;
        }
        certs.emplace_back(cert);
    }
    ERR_clear_error();
    return certs;
}

/// A deliberately small blocking client: one socket, a 5 s receive timeout, optional TLS that
/// trusts only the given PEM.
class TestClient {
public:
    /// Connects to 127.0.0.1:port, from `source` (another loopback address) when given.
    explicit TestClient(unsigned short port, char const* source = nullptr) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        if (source != nullptr) {
            sockaddr_in local{};
            local.sin_family = AF_INET;
            REQUIRE(::inet_pton(AF_INET, source, &local.sin_addr) == 1);
            REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
        }
        timeval timeout{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    TestClient(TestClient const&) = delete;
    TestClient& operator=(TestClient const&) = delete;
    ~TestClient() {
        ssl_.reset();
        context_.reset();
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    void send_raw(std::string const& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            long n = ssl_ ? SSL_write(ssl_.get(), bytes.data() + sent,
                                      static_cast<int>(bytes.size() - sent))
                          : ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            REQUIRE(n > 0);
            sent += static_cast<std::size_t>(n);
        }
    }
    void send_line(std::string const& line) { send_raw(line + "\r\n"); }

    /// The lines of one reply as sent ("250-SIZE 1"), or empty when the connection ended.
    std::vector<std::string> read_reply() {
        std::vector<std::string> lines;
        for (int i = 0; i < 1000; ++i) {
            std::string line;
            if (!read_line(line)) {
                return lines;
            }
            lines.push_back(line);
            if (line.size() < 4 || line[3] != '-') {
                return lines;
            }
        }
        return lines;
    }

    /// One reply joined with "\n".
    std::string reply() {
        std::string text;
        for (std::string const& line : read_reply()) {
            text += (text.empty() ? "" : "\n") + line;
        }
        return text;
    }

    std::string command(std::string const& line) {
        send_line(line);
        return reply();
    }

    /// Bytes received after the last complete reply, waiting up to wait for more to arrive.
    std::string pending(std::chrono::milliseconds wait) {
        pollfd pfd{fd_, POLLIN, 0};
        if (in_.empty() && ::poll(&pfd, 1, static_cast<int>(wait.count())) > 0) {
            fill();
        }
        return in_;
    }

    void discard_pending() { in_.clear(); }

    /// True when the server closed the connection (EOF or reset within 5 s).
    bool closed() {
        for (int i = 0; i < 100; ++i) {
            if (!in_.empty()) {
                in_.clear();
            }
            if (!fill()) {
                return !timed_out_;
            }
        }
        return false;
    }

    /// TLS handshake trusting ca_pem only; returns SSL_get_verify_result.
    long start_tls(std::string const& ca_pem, char const* host = "localhost") {
        context_.reset(SSL_CTX_new(TLS_client_method()));
        REQUIRE(context_);
        X509_STORE* store = SSL_CTX_get_cert_store(context_.get());
        for (CertPtr& cert : read_certs(ca_pem)) {
            X509_STORE_add_cert(store, cert.get());
        }
        SSL_CTX_set_verify(context_.get(), SSL_VERIFY_NONE, nullptr);
        ssl_.reset(SSL_new(context_.get()));
        SSL_set_fd(ssl_.get(), fd_);
        SSL_set_tlsext_host_name(ssl_.get(), host);
        SSL_set1_host(ssl_.get(), host);
        REQUIRE(SSL_connect(ssl_.get()) == 1);
        return SSL_get_verify_result(ssl_.get());
    }

    /// A TLS handshake that may fail: true when it completed within `wait` (the socket's
    /// receive timeout is set to it for the handshake).
    bool try_tls(std::chrono::milliseconds wait) {
        set_receive_timeout(wait);
        context_.reset(SSL_CTX_new(TLS_client_method()));
        REQUIRE(context_);
        SSL_CTX_set_verify(context_.get(), SSL_VERIFY_NONE, nullptr);
        ssl_.reset(SSL_new(context_.get()));
        SSL_set_fd(ssl_.get(), fd_);
        bool const up = SSL_connect(ssl_.get()) == 1;
        ERR_clear_error();
        if (!up) {
            ssl_.reset();
        }
        set_receive_timeout(std::chrono::milliseconds(5000));
        return up;
    }

    /// The server's leaf certificate once TLS is up.
    CertPtr peer_certificate() const { return CertPtr(SSL_get1_peer_certificate(ssl_.get())); }

    void set_receive_timeout(std::chrono::milliseconds wait) {
        timeval timeout{static_cast<time_t>(wait.count() / 1000),
                        static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }

    /// Closes the socket at once (an abrupt client).
    void drop() {
        ssl_.reset();
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    bool read_line(std::string& line) {
        for (int i = 0; i < 10000; ++i) {
            std::size_t const newline = in_.find("\r\n");
            if (newline != std::string::npos) {
                line = in_.substr(0, newline);
                in_.erase(0, newline + 2);
                return true;
            }
            if (!fill()) {
                return false;
            }
        }
        return false;
    }

    bool fill() {
        char buffer[16384];
        long n = ssl_ ? SSL_read(ssl_.get(), buffer, sizeof buffer)
                      : ::recv(fd_, buffer, sizeof buffer, 0);
        timed_out_ = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (n <= 0) {
            return false;
        }
        in_.append(buffer, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    SslCtxPtr context_;
    SslPtr ssl_;
    std::string in_;
    bool timed_out_ = false;
};

struct Running {
    explicit Running(Profile profile, ServerOptions options = {})
        : server(std::move(profile), std::move(options)) {
        server.start();
    }
    Server server;
};

} // namespace smtpprobe::test
