#include "net/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <mutex>
#include <unistd.h>

namespace smtpprobe::net {
namespace {

int pipe_fds[2] = {-1, -1};
std::atomic<bool> flag{false};

extern "C" void on_signal(int) {
    flag.store(true);
    char const byte = 1;
    if (pipe_fds[1] >= 0) {
        ssize_t ignored = ::write(pipe_fds[1], &byte, 1);
        (void)ignored;
    }
}

void make_pipe() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (::pipe(pipe_fds) == 0) {
            for (int fd : pipe_fds) {
                ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
                ::fcntl(fd, F_SETFD, FD_CLOEXEC);
            }
        }
    });
}

} // namespace

void install_interrupt_handler() {
    make_pipe();
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

int interrupt_fd() noexcept {
    return pipe_fds[0];
}

bool interrupted() noexcept {
    return flag.load();
}

void request_interrupt() noexcept {
    make_pipe();
    on_signal(0);
}

} // namespace smtpprobe::net
