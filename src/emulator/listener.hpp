#pragma once
// The emulator's listening socket and the file descriptors around it.

#include "net/unique_fd.hpp"

#include <sys/socket.h>

#include <string>
#include <utility>

namespace smtpprobe::emulator {

using net::UniqueFd;

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
