#include "request/token_command.hpp"

#include "net/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace smtpprobe {
namespace {

using Clock = std::chrono::steady_clock;

std::string seconds(std::chrono::milliseconds timeout) {
    auto const ms = timeout.count();
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

[[noreturn]] void fail(std::string const& why) {
    throw TokenCommandError("--oauth-token-cmd " + why +
                            " (its output is not shown: it may "
                            "hold secrets)");
}

std::string status_text(int status) {
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int const signal = WTERMSIG(status);
        char const* name = ::sigabbrev_np(signal);
        return "was ended by signal " + std::to_string(signal) +
               (name != nullptr ? " (SIG" + std::string(name) + ")" : std::string());
    }
    return "ended with wait status " + std::to_string(status);
}

/// Starts /bin/sh -c command in a process group of its own, standard input /dev/null,
/// standard output into `out`.
pid_t start(std::string const& command, int out) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attributes);
    ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&actions, out, 1);
    ::posix_spawnattr_setpgroup(&attributes, 0);
    // The command starts with the default signal dispositions, not the probe's.
    sigset_t all;
    ::sigemptyset(&all);
    sigset_t defaults;
    ::sigemptyset(&defaults);
    ::sigaddset(&defaults, SIGPIPE);
    ::sigaddset(&defaults, SIGINT);
    ::sigaddset(&defaults, SIGTERM);
    ::posix_spawnattr_setsigdefault(&attributes, &defaults);
    ::posix_spawnattr_setsigmask(&attributes, &all);
    ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETSIGMASK);
    std::string shell = "/bin/sh", flag = "-c", text = command;
    std::vector<char*> argv{shell.data(), flag.data(), text.data(), nullptr};
    pid_t pid = -1;
    int const error = ::posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
    if (error != 0)
        fail("could not be started: " + std::string(std::strerror(error)));
    return pid;
}

int remaining_ms(Clock::time_point deadline) {
    auto const left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1'000'000));
}

/// Waits for `pid` until `deadline`; kills its process group then. The wait status, or
/// nullopt when it had to be killed.
std::optional<int> reap(pid_t pid, Clock::time_point deadline) {
    for (;;) {
        int status = 0;
        pid_t const done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            return 0; // not ours to wait for any more
        if (Clock::now() >= deadline) {
            ::kill(-pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return std::nullopt;
        }
        ::usleep(5'000);
    }
}

} // namespace

std::string run_token_command(std::string const& command, std::chrono::milliseconds timeout) {
    Clock::time_point const deadline = Clock::now() + timeout;
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
        fail("could not be started: " + std::string(std::strerror(errno)));
    net::UniqueFd read_end(ends[0]);
    net::UniqueFd write_end(ends[1]);
    pid_t const pid = start(command, write_end.get());
    write_end.reset();

    std::string output;
    bool line_done = false, too_long = false, timed_out = false;
    char buffer[4096];
    for (;;) {
        pollfd p{read_end.get(), POLLIN, 0};
        int const ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            timed_out = true;
            break;
        }
        ssize_t const n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        // Only the first line is kept; the rest is read (so that the command is not blocked
        // writing) and dropped.
        if (line_done)
            continue;
        std::size_t const count = static_cast<std::size_t>(n);
        char const* end = static_cast<char const*>(std::memchr(buffer, '\n', count));
        std::size_t const take = end != nullptr ? static_cast<std::size_t>(end - buffer) : count;
        output.append(buffer, std::min(take, max_token_command_output + 1 - output.size()));
        line_done = end != nullptr;
        if (output.size() > max_token_command_output) {
            too_long = true;
            line_done = true;
        }
    }
    read_end.reset();
    std::optional<int> const status = reap(pid, timed_out ? Clock::now() : deadline);
    if (timed_out || !status) {
        std::fill(output.begin(), output.end(), '\0');
        fail("did not finish within " + seconds(timeout) + " (--timeout); it was stopped");
    }
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
        fail(status_text(*status));
    if (too_long)
        fail("printed a first line longer than " + std::to_string(max_token_command_output / 1024) +
             " KiB");
    while (!output.empty() &&
           (output.back() == '\r' || output.back() == ' ' || output.back() == '\t'))
        output.pop_back();
    if (output.empty())
        fail("exited with status 0 but printed no token (its first line is empty)");
    return output;
}

} // namespace smtpprobe
