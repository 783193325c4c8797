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
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

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

constexpr std::size_t max_ports = 1024;

Pki pki_for(Profile const& profile, ServerOptions const& options) {
    if (options.pki) {
        return *options.pki;
    }
    return make_pki(certificate_spec(profile.hostname,
                                     options.certificate.value_or(profile.behaviour.certificate)));
}

std::vector<Listener> open_listeners(ServerOptions const& options) {
    if (options.port_count == 0 || options.port_count > max_ports ||
        (options.port != 0 && options.port + options.port_count - 1 > 65535)) {
        throw std::runtime_error("emulator: cannot serve " + std::to_string(options.port_count) +
                                 " ports from " + std::to_string(options.port) +
                                 " (1 to 1024 ports, none above 65535)");
    }
    std::vector<Listener> listeners;
    listeners.reserve(options.port_count);
    for (std::size_t i = 0; i < options.port_count; ++i) {
        unsigned short const port =
            options.port == 0 ? 0 : static_cast<unsigned short>(options.port + i);
        listeners.emplace_back(options.listen_host, port);
    }
    return listeners;
}

/// The client PKI generated for a profile that asks for client certificates, unless the
/// options bring their own client CA.
std::optional<Pki> client_pki_for(Profile const& profile, ServerOptions const& options) {
    if (!profile.request_client_certificate || options.client_ca_pem)
        return std::nullopt;
    return make_pki(client_certificate_spec("smtpprobe emulator client",
                                            "smtpprobe emulator client CA (not for production)"));
}

sasl::ServerOptions sasl_options_for(Profile const& profile) {
    sasl::ServerOptions options;
    options.hostname = profile.hostname;
    options.accounts = profile.auth.server_accounts();
    options.token_rules = profile.auth.token_rules;
    options.login_user_prompt = profile.auth.login_user_prompt;
    options.login_password_prompt = profile.auth.login_password_prompt;
    options.nonce = profile.auth.challenge_nonce;
    options.ntlm_challenge = profile.auth.ntlm_challenge;
    return options;
}

std::vector<unsigned short> bound_ports(std::vector<Listener> const& listeners) {
    std::vector<unsigned short> ports;
    for (Listener const& listener : listeners) {
        ports.push_back(listener.port());
    }
    return ports;
}

} // namespace

/// The accept loop: one thread accepts, each connection runs on a thread of its own.
class Server::Impl {
public:
    Impl(Profile profile, ServerOptions options)
        : profile_(std::move(profile)), options_(std::move(options)),
          pki_(pki_for(profile_, options_)), client_pki_(client_pki_for(profile_, options_)),
          tls_(profile_, pki_, options_.no_sni_pki,
               client_pki_ ? client_pki_->ca_pem : options_.client_ca_pem.value_or("")),
          sasl_options_(sasl_options_for(profile_)), context_{profile_, sasl_options_, recorder_},
          listeners_(open_listeners(options_)) {
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
        listeners_.clear();
    }

    unsigned short port() const noexcept { return ports_.front(); }
    std::vector<unsigned short> const& ports() const noexcept { return ports_; }
    std::string const& ca_pem() const noexcept { return pki_.ca_pem; }
    std::optional<Pki> const& client_pki() const noexcept { return client_pki_; }
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
        std::vector<pollfd> fds;
        for (Listener const& listener : listeners_) {
            fds.push_back({listener.fd(), POLLIN, 0});
        }
        fds.push_back({wake_.get(), POLLIN, 0});
        for (;;) {
            for (pollfd& fd : fds) {
                fd.revents = 0;
            }
            int const n = ::poll(fds.data(), fds.size(), static_cast<int>(accept_poll.count()));
            reap();
            if (n < 0 && errno != EINTR) {
                return;
            }
            if (fds.back().revents != 0) {
                return;
            }
            for (std::size_t i = 0; n > 0 && i + 1 < fds.size(); ++i) {
                if (fds[i].revents != 0) {
                    accept_one(listeners_[i]);
                }
            }
        }
    }

    void accept_one(Listener const& listener) {
        std::string client_ip;
        UniqueFd client = listener.accept(client_ip);
        if (client.get() < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                pollfd wake{wake_.get(), POLLIN, 0};
                ::poll(&wake, 1, static_cast<int>(accept_retry.count()));
            }
            return;
        }
        std::size_t const id = ++accepted_;
        if (active_.load() >= options_.max_connections) {
            refuse(client.get(), client_ip);
            return;
        }
        spawn(std::move(client), id, std::move(client_ip));
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
            Connection connection(fd, client_ip, wake_.get(), options_.idle_timeout,
                                  options_.max_session);
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
    std::optional<Pki> client_pki_;
    TlsContext tls_;
    sasl::ServerOptions sasl_options_;
    Recorder recorder_;
    SessionContext context_;
    std::vector<Listener> listeners_;
    std::vector<unsigned short> ports_ = bound_ports(listeners_);
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
std::vector<unsigned short> Server::ports() const {
    return impl_->ports();
}
std::string const& Server::ca_pem() const noexcept {
    return impl_->ca_pem();
}
std::optional<Pki> const& Server::client_pki() const noexcept {
    return impl_->client_pki();
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
