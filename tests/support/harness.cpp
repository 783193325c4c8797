#include "support/harness.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace smtpprobe::test {

namespace {
std::string slurp(std::string const& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
} // namespace

void record_output(std::string const& what, std::string const& text) {
    static std::atomic<int> counter{0};
    std::string const dir = SMTPPROBE_TEST_OUTPUT_DIR;
    std::filesystem::create_directories(dir);
    std::string const name = dir + "/" + std::to_string(::getpid()) + "-" +
                             std::to_string(counter.fetch_add(1)) + "-" + what;
    std::ofstream(name) << text;
}

CommandResult run_command(std::string const& command_line, std::string const& stdin_text) {
    char dir_template[] = "/tmp/smtpprobe-test-XXXXXX";
    char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr)
        throw std::runtime_error("mkdtemp failed");
    std::string const base(dir);
    {
        std::ofstream in(base + "/in");
        in << stdin_text;
    }
    // `timeout` bounds every child: a hung binary fails the test instead of hanging CI.
    std::string const full = "timeout -k 5 60 " + command_line + " <" + base + "/in >" + base +
                             "/out 2>" + base + "/err";
    int const status = std::system(full.c_str());
    CommandResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = slurp(base + "/out");
    result.err = slurp(base + "/err");
    record_output("stdout.txt", result.out);
    record_output("stderr.txt", result.err);
    std::error_code ignored; // a scratch directory left behind is not a test failure
    std::filesystem::remove_all(base, ignored);
    return result;
}

namespace {

/// Binds 127.0.0.1:port (0: the kernel picks) and closes it again; the port bound, or 0.
unsigned short bind_loopback(unsigned short port) {
    int const fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    socklen_t len = sizeof a;
    bool const bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                       ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    if (fd >= 0)
        ::close(fd);
    return bound ? ntohs(a.sin_port) : 0;
}

} // namespace

unsigned short closed_loopback_port() {
    unsigned short const port = bind_loopback(0);
    if (port == 0)
        throw std::runtime_error("cannot bind a loopback port");
    return port;
}

unsigned short free_loopback_ports(unsigned count) {
    for (int attempt = 0; attempt < 64; ++attempt) {
        unsigned const base = closed_loopback_port();
        if (base + count > 65536)
            continue;
        unsigned k = 1;
        while (k < count && bind_loopback(static_cast<unsigned short>(base + k)) != 0)
            ++k;
        if (k == count)
            return static_cast<unsigned short>(base);
    }
    throw std::runtime_error("no " + std::to_string(count) + " consecutive free loopback ports");
}

} // namespace smtpprobe::test
