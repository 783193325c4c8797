#pragma once
// A server scripted byte by byte on 127.0.0.1:0, for the tests of misbehaving peers (SMTP
// servers in hostile_test.cpp, proxies in proxy_test.cpp). Bounded: stops within ~50 ms.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace smtpprobe::test {

/// Accepts connections on 127.0.0.1:0 and runs `script` on each; stops within ~50 ms.
class ScriptedServer {
public:
    using Script = std::function<void(int fd, std::atomic<bool> const& stop)>;

    explicit ScriptedServer(Script script) : script_(std::move(script)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) == 0);
        REQUIRE(::listen(listener_, 16) == 0);
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { accept_loop(); });
    }
    ~ScriptedServer() {
        stop_ = true;
        thread_.join();
        for (std::thread& t : connections_)
            t.join();
        ::close(listener_);
    }
    unsigned short port() const { return port_; }

private:
    void accept_loop() {
        for (int round = 0; round < 10'000 && !stop_; ++round) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            int fd = ::accept(listener_, nullptr, nullptr);
            if (fd < 0)
                continue;
            connections_.emplace_back([this, fd] {
                script_(fd, stop_);
                ::close(fd);
            });
        }
    }

    Script script_;
    int listener_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::vector<std::thread> connections_;
};

inline void send_text(int fd, std::string_view text) {
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
}

/// Reads whatever the client sent within `wait`, so scripts can answer in order.
inline std::string read_some(int fd, std::chrono::milliseconds wait) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0)
        return {};
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

} // namespace smtpprobe::test
