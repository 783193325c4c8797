#pragma once
// The one poll() loop of the program: a socket, a deadline, and a descriptor that cancels the
// wait (the SIGINT self-pipe for the client, a server's stop eventfd for the emulator).

#include "net/deadline.hpp"

namespace smtpprobe::net {

/// Waits until `fd` reports one of `events` and returns its revents. Throws
/// std::system_error: errc::interrupted once `cancel_fd` is readable (cancel_fd < 0: nothing
/// cancels), errc::timeout at the deadline, the errno of a failed poll().
short wait_ready(int fd, short events, Deadline deadline, int cancel_fd);

/// Sleeps until the deadline; false as soon as `cancel_fd` is readable (or poll() fails).
bool sleep_until(Deadline deadline, int cancel_fd) noexcept;

} // namespace smtpprobe::net
