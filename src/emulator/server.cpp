#include "emulator/server.hpp"

#include "emulator/connection.hpp"
#include "emulator/listener.hpp"
#include "emulator/recorder.hpp"
#include "emulator/smtp_session.hpp"
#include "emulator/tls_context.hpp"

#include "sasl/sasl.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace smtpprobe::emulator {
namespace {

constexpr std::chrono::milliseconds accept_poll{1000};
constexpr std::chrono::milliseconds accept_retry{100};

void block_sigpipe() noexcept {
    // OpenSSL writes with write(2), which raises SIGPIPE on a reset connection. The signal is
    // thread-directed, so blocking it here keeps it away from the host program.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

CertSpec default_cert_spec(std::string const& hostname) {
    CertSpec spec;
    spec.common_name = hostname;
    spec.dns_names = {hostname};
    if (hostname != "localhost") {
        spec.dns_names.push_back("localhost");
    }
    return spec;
}

sasl::ServerOptions sasl_options_for(Profile const& profile) {
    sasl::ServerOptions options;
    options.hostname = profile.hostname;
    options.accounts = profile.auth.accounts;
    options.login_user_prompt = profile.auth.login_user_prompt;
    options.login_password_prompt = profile.auth.login_password_prompt;
    options.nonce = profile.auth.challenge_nonce;
    return options;
}

} // namespace

/// The accept loop: one thread accepts, each connection runs on a thread of its own.
class Server::Impl {
public:
    Impl(Profile profile, ServerOptions options)
        : profile_(std::move(profile)), options_(std::move(options)),
          pki_(options_.pki ? *options_.pki : make_pki(default_cert_spec(profile_.hostname))),
          tls_(profile_, pki_, options_.no_sni_pki),
          sasl_options_(sasl_options_for(profile_)), context_{profile_, sasl_options_, recorder_},
          listener_(options_.listen_host, options_.port) {
        wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (wake_.get() < 0) {
            throw std::system_error(errno, std::system_category(), "emulator: eventfd");
        }
    }

    Impl(Impl const&) = delete;
    Impl& operator=(Impl const&) = delete;
    ~Impl() { stop(); }

    void start() {
        std::lock_guard<std::mutex> lock(lifecycle_);
        if (started_ || stopped_) {
            return;
        }
        started_ = true;
        acceptor_ = std::thread([this] { accept_loop(); });
    }

    void stop() {
        std::lock_guard<std::mutex> lock(lifecycle_);
        if (stopped_) {
            return;
        }
        stopped_ = true;
        std::uint64_t const one = 1;
        [[maybe_unused]] ssize_t const written = ::write(wake_.get(), &one, sizeof one);
        if (acceptor_.joinable()) {
            acceptor_.join();
        }
        for (Worker& worker : workers_) {
            if (worker.thread.joinable()) {
                worker.thread.join();
            }
        }
        workers_.clear();
        listener_.close();
    }

    unsigned short port() const noexcept { return listener_.port(); }
    std::string const& ca_pem() const noexcept { return pki_.ca_pem; }
    Profile const& profile() const noexcept { return profile_; }
    std::vector<std::string> received() const { return recorder_.lines(); }
    std::size_t connections_accepted() const noexcept { return accepted_.load(); }

private:
    struct Worker {
        std::thread thread;
        std::atomic<bool> done{false};
    };

    void accept_loop() {
        block_sigpipe();
        for (;;) {
            pollfd fds[2] = {{listener_.fd(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
            int const n = ::poll(fds, 2, static_cast<int>(accept_poll.count()));
            reap();
            if (n < 0 && errno != EINTR) {
                return;
            }
            if (fds[1].revents != 0) {
                return;
            }
            if (n <= 0 || fds[0].revents == 0) {
                continue;
            }
            std::string client_ip;
            UniqueFd client = listener_.accept(client_ip);
            if (client.get() < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    pollfd wake{wake_.get(), POLLIN, 0};
                    ::poll(&wake, 1, static_cast<int>(accept_retry.count()));
                }
                continue;
            }
            std::size_t const id = ++accepted_;
            if (active_.load() >= options_.max_connections) {
                refuse(client.get(), client_ip);
                continue;
            }
            spawn(std::move(client), id, std::move(client_ip));
        }
    }

    void refuse(int fd, std::string const& client_ip) {
        if (profile_.tls == TlsMode::implicit) {
            return;
        }
        std::string const wire =
            render_reply(profile_.too_many_connections_reply, profile_.hostname, client_ip);
        ::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::shutdown(fd, SHUT_WR);
    }

    void spawn(UniqueFd client, std::size_t id, std::string client_ip) {
        Worker& worker = workers_.emplace_back();
        ++active_;
        try {
            int const fd = client.release();
            worker.thread = std::thread([this, &worker, fd, id, ip = std::move(client_ip)] {
                serve(fd, id, ip);
                --active_;
                worker.done.store(true);
            });
        } catch (std::system_error const&) {
            --active_;
            workers_.pop_back();
        }
    }

    void serve(int fd, std::size_t id, std::string const& client_ip) {
        block_sigpipe();
        try {
            Connection connection(fd, client_ip, wake_.get(), options_.idle_timeout);
            SmtpSession session(context_, id, client_ip);
            connection.run(session, tls_);
        } catch (std::exception const&) {
            // A connection must never take the server down; std::bad_alloc is the only
            // realistic case and closing the socket is the right answer to it.
        }
    }

    void reap() {
        for (std::list<Worker>::iterator it = workers_.begin(); it != workers_.end();) {
            if (it->done.load()) {
                it->thread.join();
                it = workers_.erase(it);
            } else {
                ++it;
            }
        }
    }

    Profile profile_;
    ServerOptions options_;
    Pki pki_;
    TlsContext tls_;
    sasl::ServerOptions sasl_options_;
    Recorder recorder_;
    SessionContext context_;
    Listener listener_;
    UniqueFd wake_;

    std::mutex lifecycle_;
    bool started_ = false;
    bool stopped_ = false;
    std::thread acceptor_;
    std::list<Worker> workers_;
    std::atomic<std::size_t> accepted_{0};
    std::atomic<std::size_t> active_{0};
};

Server::Server(Profile profile, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(profile), std::move(options))) {}

Server::~Server() {
    impl_->stop();
}

void Server::start() {
    impl_->start();
}
void Server::stop() {
    impl_->stop();
}
unsigned short Server::port() const noexcept {
    return impl_->port();
}
std::string const& Server::ca_pem() const noexcept {
    return impl_->ca_pem();
}
Profile const& Server::profile() const noexcept {
    return impl_->profile();
}
std::vector<std::string> Server::received() const {
    return impl_->received();
}
std::size_t Server::connections_accepted() const noexcept {
    return impl_->connections_accepted();
}

} // namespace smtpprobe::emulator
