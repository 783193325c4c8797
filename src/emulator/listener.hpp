#pragma once
// The emulator's listening socket and the file descriptors around it.

#include <sys/socket.h>

#include <string>
#include <utility>

namespace smtpprobe::emulator {

/// Owns a file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(std::exchange(other.fd_, -1));
        return *this;
    }
    UniqueFd(UniqueFd const&) = delete;
    UniqueFd& operator=(UniqueFd const&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

/// A non-blocking listening TCP socket.
class Listener {
public:
    /// Binds host:port (port 0: an ephemeral one) and listens. Throws std::system_error for a
    /// socket error (with the address in the message) and std::runtime_error for a bad address.
    Listener(std::string const& host, unsigned short port);

    int fd() const noexcept { return fd_.get(); }
    unsigned short port() const noexcept { return port_; }
    void close() noexcept { fd_.reset(); }

    /// A pending connection, non-blocking, with TCP_NODELAY; an invalid UniqueFd (and errno)
    /// when there is none or accept failed. `client_ip` gets the peer's numeric address.
    UniqueFd accept(std::string& client_ip) const;

private:
    UniqueFd fd_;
    unsigned short port_ = 0;
};

} // namespace smtpprobe::emulator
