#include "net/poll.hpp"

#include "net/errc.hpp"

#include <poll.h>

#include <cerrno>
#include <system_error>

namespace smtpprobe::net {

short wait_ready(int fd, short events, Deadline deadline, int cancel_fd) {
    for (int round = 0; round < 1'000'000; ++round) {
        pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
        nfds_t const count = cancel_fd >= 0 ? 2 : 1;
        int const wait_ms = remaining_ms(deadline);
        int const rc = ::poll(fds, count, wait_ms);
        if (rc < 0) {
            if (errno == EINTR)
                continue; // a signal handler that cancels also makes cancel_fd readable
            throw std::system_error(errno, std::system_category(), "poll");
        }
        if (count == 2 && (fds[1].revents & POLLIN) != 0)
            throw std::system_error(errc::interrupted);
        if (fds[0].revents != 0)
            return fds[0].revents;
        if (rc == 0 && wait_ms == 0)
            throw std::system_error(errc::timeout);
    }
    throw std::system_error(errc::timeout);
}

bool sleep_until(Deadline deadline, int cancel_fd) noexcept {
    for (int round = 0; round < 1'000'000; ++round) {
        int const wait_ms = remaining_ms(deadline);
        if (wait_ms <= 0 && Clock::now() >= deadline)
            return true;
        pollfd cancel{cancel_fd, POLLIN, 0};
        int const rc = ::poll(&cancel, cancel_fd >= 0 ? 1 : 0, wait_ms > 0 ? wait_ms : 1);
        if (rc > 0 || (rc < 0 && errno != EINTR))
            return false;
    }
    return true;
}

} // namespace smtpprobe::net
