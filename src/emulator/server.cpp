#include "emulator/server.hpp"

#include "net/openssl_ptr.hpp"

#include "sasl/base64.hpp"
#include "sasl/sasl.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

namespace smtpprobe::emulator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including CRLF. Command lines may be
// only 512 (§4.5.3.1.4); the emulator is lenient up to the text-line limit.
constexpr std::size_t max_command_line = 998;
// RFC 4954 §4: "12288 octets is considered to be a sufficient line length limit" for AUTH,
// which also covers long initial responses (XOAUTH2 tokens) on the AUTH command line.
constexpr std::size_t max_auth_line = 12288;
constexpr std::size_t max_recorded_line = 1000;
constexpr int max_auth_rounds = 16;
constexpr std::size_t max_commands = 100'000;
constexpr std::size_t max_message_lines = 1'000'000;
constexpr int listen_backlog = 64;
constexpr milliseconds accept_poll{1000};
constexpr milliseconds accept_retry{100};
constexpr milliseconds close_linger{250};

std::string openssl_errors() {
    std::string text;
    for (int i = 0; i < 8; ++i) {
        unsigned long code = ERR_get_error();
        if (code == 0) {
            break;
        }
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        text += text.empty() ? "" : "; ";
        text += buffer;
    }
    ERR_clear_error();
    return text.empty() ? "(no OpenSSL error reported)" : text;
}

std::string upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

bool contains(std::vector<std::string> const& list, std::string const& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

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
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

using net::BioPtr;
using net::CertPtr;
using net::KeyPtr;
using net::SslCtxPtr;

int tls_version(std::string const& text) {
    if (text == "1.0") {
        return TLS1_VERSION;
    }
    if (text == "1.1") {
        return TLS1_1_VERSION;
    }
    if (text == "1.2") {
        return TLS1_2_VERSION;
    }
    return TLS1_3_VERSION;
}

/// What the SNI callback needs; lives as long as the server.
struct SniPolicy {
    bool require = false;
    SSL_CTX* no_sni = nullptr; ///< the context to switch to when no SNI came; may be null
};

// SSL_CTX_set_tlsext_servername_callback(3): the callback runs for every ClientHello, also
// one without SNI, which is the case handled here. SSL_set_SSL_CTX swaps in the other
// certificate; the protocol settings stay those of the first context.
int on_server_name(SSL* ssl, int* alert, void* arg) {
    SniPolicy const* policy = static_cast<SniPolicy const*>(arg);
    if (SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) != nullptr) {
        return SSL_TLSEXT_ERR_OK;
    }
    if (policy->require) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (policy->no_sni != nullptr && SSL_set_SSL_CTX(ssl, policy->no_sni) == nullptr) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
}

SslCtxPtr make_tls_context(Pki const& pki, Profile const& profile) {
    ERR_clear_error();
    SslCtxPtr context{SSL_CTX_new(TLS_server_method())};
    if (!context) {
        throw std::runtime_error("emulator: SSL_CTX_new: " + openssl_errors());
    }
    if (SSL_CTX_set_min_proto_version(context.get(), tls_version(profile.tls_min)) != 1 ||
        SSL_CTX_set_max_proto_version(context.get(), tls_version(profile.tls_max)) != 1) {
        throw std::runtime_error("emulator: setting TLS " + profile.tls_min + " to " +
                                 profile.tls_max + ": " + openssl_errors());
    }
    if (tls_version(profile.tls_min) < TLS1_2_VERSION) {
        // SSL_CTX_set_security_level(3), OpenSSL 3.0: level 1 and up refuse the SHA-1 and
        // MD5-SHA1 signatures of TLS 1.0 and 1.1; a profile that asks for them gets level 0.
        SSL_CTX_set_security_level(context.get(), 0);
        if (SSL_CTX_set_cipher_list(context.get(), "DEFAULT:@SECLEVEL=0") != 1) {
            throw std::runtime_error("emulator: cipher list for old TLS: " + openssl_errors());
        }
    }
    std::string const& chain = pki.chain_pem.empty() ? pki.cert_pem : pki.chain_pem;
    BioPtr bio{BIO_new_mem_buf(chain.data(), static_cast<int>(chain.size()))};
    CertPtr leaf{bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr};
    if (!leaf || SSL_CTX_use_certificate(context.get(), leaf.get()) != 1) {
        throw std::runtime_error("emulator: loading the server certificate: " + openssl_errors());
    }
    for (int i = 0; i < 16; ++i) {
        X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (extra == nullptr) {
            break;
        }
        if (SSL_CTX_add0_chain_cert(context.get(), extra) != 1) {
            X509_free(extra);
            throw std::runtime_error("emulator: adding a chain certificate: " + openssl_errors());
        }
    }
    ERR_clear_error();
    BioPtr key_bio{BIO_new_mem_buf(pki.key_pem.data(), static_cast<int>(pki.key_pem.size()))};
    KeyPtr key{key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)
                       : nullptr};
    if (!key || SSL_CTX_use_PrivateKey(context.get(), key.get()) != 1 ||
        SSL_CTX_check_private_key(context.get()) != 1) {
        throw std::runtime_error("emulator: loading the server key: " + openssl_errors());
    }
    return context;
}

UniqueFd open_listener(std::string const& host, unsigned short port, unsigned short& bound) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string const service = std::to_string(port);
    std::string const where = host + ":" + service;
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error("emulator: bad listen address " + where + ": " +
                                 ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> list{found, ::freeaddrinfo};
    UniqueFd fd{::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                         found->ai_protocol)};
    if (fd.get() < 0) {
        throw std::system_error(errno, std::system_category(), "emulator: socket " + where);
    }
    int const on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
        throw std::system_error(errno, std::system_category(), "emulator: bind " + where);
    }
    if (::listen(fd.get(), listen_backlog) != 0) {
        throw std::system_error(errno, std::system_category(), "emulator: listen " + where);
    }
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::system_error(errno, std::system_category(), "emulator: getsockname " + where);
    }
    char service_text[NI_MAXSERV] = {};
    if (::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, nullptr, 0, service_text,
                      sizeof service_text, NI_NUMERICSERV) != 0) {
        throw std::runtime_error("emulator: cannot read the bound port of " + where);
    }
    bound = static_cast<unsigned short>(std::stoul(service_text));
    return fd;
}

std::string peer_address(sockaddr_storage const& address, socklen_t length) {
    char host[NI_MAXHOST] = {};
    if (::getnameinfo(reinterpret_cast<sockaddr const*>(&address), length, host, sizeof host,
                      nullptr, 0, NI_NUMERICHOST) != 0) {
        return "unknown";
    }
    return host;
}

void block_sigpipe() noexcept {
    // OpenSSL writes with write(2), which raises SIGPIPE on a reset connection. The signal is
    // thread-directed, so blocking it here keeps it away from the host program.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class Recorder {
public:
    void add(std::size_t connection, std::string_view line) {
        std::string entry = "c" + std::to_string(connection) + ": ";
        entry += line.substr(0, max_recorded_line);
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back(std::move(entry));
    }
    std::vector<std::string> lines() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

enum class Status { ok, too_long, timeout, closed, stopped };

/// One accepted socket, plain or TLS, non-blocking underneath. Every wait polls the socket and
/// the server's stop eventfd together, and ends at a deadline.
class Connection {
public:
    Connection(int fd, int wake_fd, milliseconds idle_timeout)
        : fd_(fd), wake_fd_(wake_fd), idle_timeout_(idle_timeout) {}
    Connection(Connection const&) = delete;
    Connection& operator=(Connection const&) = delete;
    ~Connection() {
        if (ssl_ != nullptr) {
            SSL_free(ssl_);
        }
    }

    bool tls_active() const noexcept { return ssl_ != nullptr; }

    /// The next line without its CRLF or bare LF. A line longer than max_length is consumed
    /// whole and reported as too_long, with its first octets in line.
    Status read_line(std::string& line, std::size_t max_length) {
        Clock::time_point const deadline = Clock::now() + idle_timeout_;
        for (;;) {
            std::size_t const newline = in_.find('\n');
            if (newline != std::string::npos) {
                std::size_t length = newline;
                if (length > 0 && in_[length - 1] == '\r') {
                    --length;
                }
                if (overflow_) {
                    overflow_ = false;
                    line = std::move(overflow_head_);
                    in_.erase(0, newline + 1);
                    return Status::too_long;
                }
                bool const too_long = length > max_length;
                line.assign(in_, 0, too_long ? std::min(length, max_recorded_line) : length);
                in_.erase(0, newline + 1);
                return too_long ? Status::too_long : Status::ok;
            }
            if (in_.size() > max_length + 1) {
                if (!overflow_) {
                    overflow_ = true;
                    overflow_head_ = in_.substr(0, max_recorded_line);
                }
                in_.clear();
            }
            if (Status status = fill(deadline); status != Status::ok) {
                return status;
            }
        }
    }

    /// Removes and returns every byte received but not yet consumed.
    std::string take_buffered() { return std::exchange(in_, {}); }

    bool write_all(std::string_view data) {
        Clock::time_point const deadline = Clock::now() + idle_timeout_;
        std::size_t sent = 0;
        while (sent < data.size()) {
            std::size_t const chunk = std::min<std::size_t>(data.size() - sent, 1 << 20);
            short events = POLLOUT;
            if (ssl_ != nullptr) {
                ERR_clear_error();
                int const n = SSL_write(ssl_, data.data() + sent, static_cast<int>(chunk));
                if (n > 0) {
                    sent += static_cast<std::size_t>(n);
                    continue;
                }
                int const error = SSL_get_error(ssl_, n);
                if (error == SSL_ERROR_WANT_READ) {
                    events = POLLIN;
                } else if (error != SSL_ERROR_WANT_WRITE) {
                    return false;
                }
            } else {
                ssize_t const n = ::send(fd_, data.data() + sent, chunk, MSG_NOSIGNAL);
                if (n > 0) {
                    sent += static_cast<std::size_t>(n);
                    continue;
                }
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    return false;
                }
            }
            if (wait_for(events, deadline) != Status::ok) {
                return false;
            }
        }
        return true;
    }

    /// Server side of the TLS handshake on the raw socket; false (and the reason in
    /// tls_error()) when it fails or times out.
    bool start_tls(SSL_CTX* context) {
        ERR_clear_error();
        ssl_ = SSL_new(context);
        if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
            return tls_failed(openssl_errors());
        }
        SSL_set_accept_state(ssl_);
        Clock::time_point const deadline = Clock::now() + idle_timeout_;
        for (;;) {
            ERR_clear_error();
            int const result = SSL_do_handshake(ssl_);
            if (result == 1) {
                return true;
            }
            int const error = SSL_get_error(ssl_, result);
            short events = POLLIN;
            if (error == SSL_ERROR_WANT_WRITE) {
                events = POLLOUT;
            } else if (error != SSL_ERROR_WANT_READ) {
                return tls_failed(openssl_errors());
            }
            if (Status status = wait_for(events, deadline); status != Status::ok) {
                return tls_failed(status == Status::timeout ? "handshake timed out"
                                                            : "server stopping");
            }
        }
    }

    std::string const& tls_error() const noexcept { return tls_error_; }

    /// Sleeps for a profile delay; false when the server is stopping.
    bool pause(milliseconds duration) {
        if (duration <= milliseconds{0}) {
            return true;
        }
        Clock::time_point const deadline = Clock::now() + duration;
        for (;;) {
            int const wait = remaining_ms(deadline);
            if (wait <= 0) {
                return true;
            }
            pollfd wake{wake_fd_, POLLIN, 0};
            int const n = ::poll(&wake, 1, wait);
            if (n > 0) {
                return false;
            }
            if (n < 0 && errno != EINTR) {
                return false;
            }
        }
    }

    /// Ends the session politely: TLS close_notify, then FIN, then a short drain so that our
    /// last reply is not lost to a reset caused by unread client bytes.
    void close_gracefully() {
        if (ssl_ != nullptr) {
            ERR_clear_error();
            SSL_shutdown(ssl_);
        }
        ::shutdown(fd_, SHUT_WR);
        Clock::time_point const deadline = Clock::now() + close_linger;
        char buffer[4096];
        for (int i = 0; i < 64; ++i) {
            ssize_t const n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                return;
            }
            if (n < 0 && wait_for(POLLIN, deadline) != Status::ok) {
                return;
            }
        }
    }

private:
    static int remaining_ms(Clock::time_point deadline) {
        Clock::duration const left = deadline - Clock::now();
        if (left <= Clock::duration::zero()) {
            return 0;
        }
        long long const ms = std::chrono::ceil<milliseconds>(left).count();
        return static_cast<int>(std::min<long long>(ms, INT_MAX));
    }

    Status wait_for(short events, Clock::time_point deadline) {
        for (;;) {
            int const wait = remaining_ms(deadline);
            if (wait <= 0) {
                return Status::timeout;
            }
            pollfd fds[2] = {{fd_, events, 0}, {wake_fd_, POLLIN, 0}};
            int const n = ::poll(fds, 2, wait);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return Status::closed;
            }
            if (fds[1].revents != 0) {
                return Status::stopped;
            }
            if (fds[0].revents != 0) {
                return Status::ok;
            }
        }
    }

    Status fill(Clock::time_point deadline) {
        char buffer[16384];
        for (;;) {
            short events = POLLIN;
            if (ssl_ != nullptr) {
                ERR_clear_error();
                int const n = SSL_read(ssl_, buffer, sizeof buffer);
                if (n > 0) {
                    in_.append(buffer, static_cast<std::size_t>(n));
                    return Status::ok;
                }
                int const error = SSL_get_error(ssl_, n);
                if (error == SSL_ERROR_WANT_WRITE) {
                    events = POLLOUT;
                } else if (error != SSL_ERROR_WANT_READ) {
                    return Status::closed;
                }
            } else {
                ssize_t const n = ::recv(fd_, buffer, sizeof buffer, 0);
                if (n > 0) {
                    in_.append(buffer, static_cast<std::size_t>(n));
                    return Status::ok;
                }
                if (n == 0) {
                    return Status::closed;
                }
                if (errno == EINTR) {
                    continue;
                }
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    return Status::closed;
                }
            }
            if (Status status = wait_for(events, deadline); status != Status::ok) {
                return status;
            }
        }
    }

    bool tls_failed(std::string reason) {
        tls_error_ = std::move(reason);
        if (ssl_ != nullptr) {
            SSL_free(ssl_);
            ssl_ = nullptr;
        }
        return false;
    }

    int fd_;
    int wake_fd_;
    milliseconds idle_timeout_;
    SSL* ssl_ = nullptr;
    std::string in_;
    bool overflow_ = false;
    std::string overflow_head_;
    std::string tls_error_;
};

/// What every session of one server shares (read-only, apart from the thread-safe recorder).
struct Shared {
    Profile const& profile;
    SSL_CTX* tls;
    sasl::ServerOptions const& sasl_options;
    Recorder& recorder;
};

/// One SMTP conversation: reads command lines and answers them from the profile.
class Session {
public:
    Session(Shared const& shared, Connection& connection, std::size_t id, std::string client_ip)
        : shared_(shared), profile_(shared.profile), connection_(connection), id_(id),
          client_ip_(std::move(client_ip)) {}

    void run() {
        if (profile_.tls == TlsMode::implicit && !start_tls()) {
            return;
        }
        if (!reply_to("banner", profile_.banner) || profile_.close_after.contains("banner")) {
            return;
        }
        for (std::size_t count = 0; count < max_commands; ++count) {
            std::string line;
            Status const status = connection_.read_line(line, max_auth_line);
            if (status == Status::too_long) {
                if (!on_too_long(line)) {
                    return;
                }
                continue;
            }
            if (status != Status::ok) {
                end(status);
                return;
            }
            if (!on_line(line)) {
                return;
            }
        }
    }

private:
    enum class Answer { data, cancel, malformed, too_long, ended };

    void record(std::string_view line) { shared_.recorder.add(id_, line); }

    bool send(std::string_view reply) {
        return connection_.write_all(render_reply(reply, profile_.hostname, client_ip_));
    }

    bool reply_to(std::string const& verb, std::string_view reply) {
        return connection_.pause(profile_.delay_for(verb)) && send(reply);
    }

    bool start_tls() {
        if (connection_.start_tls(shared_.tls)) {
            return true;
        }
        record("[TLS handshake failed: " + connection_.tls_error() + "]");
        return false;
    }

    void end(Status status) {
        if (status == Status::timeout) {
            send(profile_.timeout_reply);
        }
    }

    bool on_too_long(std::string const& head) {
        record(head + " [line too long, cut]");
        if (upper(head.substr(0, 5)) == "AUTH ") {
            return send(profile_.auth.line_too_long_reply);
        }
        return send(profile_.line_too_long_reply);
    }

    bool on_line(std::string const& line) {
        record(line);
        std::size_t const space = line.find(' ');
        std::string const verb = upper(line.substr(0, space));
        std::string args;
        if (space != std::string::npos) {
            std::size_t const start = line.find_first_not_of(' ', space);
            args = start == std::string::npos ? "" : line.substr(start);
        }
        if (line.size() > max_command_line && verb != "AUTH") {
            return send(profile_.line_too_long_reply);
        }
        bool const keep = dispatch(verb, args);
        return keep && !profile_.close_after.contains(verb);
    }

    bool dispatch(std::string const& verb, std::string const& args) {
        if (verb == "EHLO") {
            return on_ehlo(args);
        }
        if (verb == "HELO") {
            if (args.empty()) {
                return reply_to(verb, profile_.syntax_reply);
            }
            greeted_ = true;
            return reply_to(verb, profile_.helo);
        }
        if (verb == "STARTTLS") {
            return on_starttls(args);
        }
        bool const needs_hello = verb == "MAIL" || verb == "RCPT" || verb == "DATA" ||
                                 (verb == "AUTH" && profile_.auth.enabled());
        if (needs_hello && !greeted_ && !profile_.hello_first_reply.empty()) {
            return reply_to(verb, profile_.hello_first_reply);
        }
        if (verb == "AUTH" && profile_.auth.enabled()) {
            return on_auth(args);
        }
        if (verb == "QUIT") {
            reply_to(verb, profile_.reply_for(verb, authenticated_));
            return false;
        }
        if (verb == "DATA") {
            return on_data();
        }
        return reply_to(verb, profile_.reply_for(verb, authenticated_));
    }

    bool on_ehlo(std::string const& args) {
        if (!profile_.ehlo.supported) {
            return reply_to("EHLO", profile_.reply_for("EHLO", authenticated_));
        }
        if (args.empty()) {
            return reply_to("EHLO", profile_.syntax_reply);
        }
        greeted_ = true;
        std::vector<std::string> const& lines =
            connection_.tls_active() ? profile_.ehlo.after_tls : profile_.ehlo.before_tls;
        std::string wire =
            render_reply(std::string(lines.empty() ? "250 " : "250-") + profile_.ehlo.greeting,
                         profile_.hostname, client_ip_);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            wire += render_reply(std::string(i + 1 < lines.size() ? "250-" : "250 ") + lines[i],
                                 profile_.hostname, client_ip_);
        }
        return connection_.pause(profile_.delay_for("EHLO")) && connection_.write_all(wire);
    }

    bool on_starttls(std::string const& args) {
        if (connection_.tls_active()) {
            return reply_to("STARTTLS", profile_.starttls_active_reply);
        }
        if (profile_.tls != TlsMode::starttls) {
            return reply_to("STARTTLS", profile_.starttls_unavailable_reply);
        }
        if (!args.empty()) {
            return reply_to("STARTTLS", profile_.syntax_reply);
        }
        std::string const reply = render_reply(profile_.reply_for("STARTTLS", authenticated_),
                                               profile_.hostname, client_ip_);
        if (!connection_.pause(profile_.delay_for("STARTTLS"))) {
            return false;
        }
        if (!reply.starts_with("220")) {
            return connection_.write_all(reply);
        }
        // CVE-2011-0411: plaintext pipelined behind STARTTLS must not be executed as if it had
        // arrived over TLS, so it is dropped unread (RFC 3207 §4.2: the protocol restarts).
        std::string const pipelined = connection_.take_buffered();
        std::size_t start = 0;
        for (int i = 0; i < 1000 && start < pipelined.size(); ++i) {
            std::size_t end = pipelined.find('\n', start);
            end = end == std::string::npos ? pipelined.size() : end;
            std::string line = pipelined.substr(start, end - start);
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            record("[discarded after STARTTLS] " + line);
            start = end + 1;
        }
        if (!connection_.write_all(reply + profile_.starttls_inject) ||
            profile_.close_after.contains("STARTTLS")) {
            return false;
        }
        if (!start_tls()) {
            return false;
        }
        // RFC 3207 §4.2: forget everything learnt from the client before TLS.
        greeted_ = false;
        authenticated_ = false;
        return true;
    }

    bool recognised_now(std::string const& mechanism) const {
        AuthProfile const& auth = profile_.auth;
        if (profile_.tls != TlsMode::starttls || connection_.tls_active()) {
            return contains(auth.mechanisms, mechanism);
        }
        return contains(auth.mechanisms_before_tls, mechanism);
    }

    bool on_auth(std::string const& args) {
        AuthProfile const& auth = profile_.auth;
        if (authenticated_) {
            // RFC 4954 §4: after a successful AUTH, further AUTH commands are refused with 503.
            return reply_to("AUTH", auth.already_authenticated_reply);
        }
        std::vector<std::string> words;
        std::size_t start = args.find_first_not_of(' ');
        while (start != std::string::npos && words.size() < 3) {
            std::size_t const end = args.find(' ', start);
            words.push_back(args.substr(start, end == std::string::npos ? end : end - start));
            start = end == std::string::npos ? end : args.find_first_not_of(' ', end);
        }
        if (words.empty() || words.size() > 2) {
            return reply_to("AUTH", auth.syntax_reply);
        }
        std::string const mechanism = upper(words[0]);
        if (!recognised_now(mechanism)) {
            bool const needs_tls =
                profile_.tls == TlsMode::starttls && !connection_.tls_active() &&
                (auth.mechanisms_before_tls.empty() || contains(auth.mechanisms, mechanism));
            return reply_to("AUTH",
                            needs_tls ? auth.before_tls_reply : auth.unknown_mechanism_reply);
        }
        if (!connection_.pause(profile_.delay_for("AUTH"))) {
            return false;
        }
        std::optional<std::string> initial;
        if (words.size() == 2) {
            initial = words[1];
        }
        return authenticate(mechanism, initial);
    }

    /// RFC 4954 §4 exchange: 334 challenges, "*" cancels (501), bad base64 is a 501, and the
    /// initial response "=" stands for an empty one.
    bool authenticate(std::string const& mechanism, std::optional<std::string> const& initial) {
        AuthProfile const& auth = profile_.auth;
        std::optional<sasl::Server> server = sasl::Server::create(mechanism, shared_.sasl_options);
        if (!server) {
            return scripted_exchange(mechanism, initial.has_value());
        }
        sasl::ServerStep step = server->start();
        if (initial) {
            std::optional<std::string> decoded =
                *initial == "=" ? std::optional<std::string>("") : sasl::base64_decode(*initial);
            if (!decoded) {
                return auth_failed(auth.malformed_reply, false);
            }
            if (step.kind == sasl::ServerStep::Kind::challenge) {
                step = server->respond(*decoded);
            }
        }
        std::map<std::string, std::string>::const_iterator first =
            initial ? auth.first_replies.end() : auth.first_replies.find(mechanism);
        for (int round = 0; round < max_auth_rounds; ++round) {
            switch (step.kind) {
            case sasl::ServerStep::Kind::success:
                authenticated_ = true;
                return send(auth.success_reply);
            case sasl::ServerStep::Kind::failure:
                return auth_failed(auth.failure_reply_for(mechanism), true);
            case sasl::ServerStep::Kind::malformed:
                return auth_failed(auth.malformed_reply, false);
            case sasl::ServerStep::Kind::challenge:
                break;
            }
            std::string const challenge = first != auth.first_replies.end()
                                              ? first->second
                                              : "334 " + sasl::base64_encode(step.data);
            first = auth.first_replies.end();
            if (!send(challenge)) {
                return false;
            }
            std::string response;
            Answer const answer = read_response(response);
            if (answer != Answer::data)
                return refuse_answer(answer);
            step = server->respond(response);
        }
        return auth_failed(auth.failure_reply_for(mechanism), true);
    }

    /// A mechanism the profile lists but the SASL server does not implement (NTLM, GSSAPI,
    /// ...): the scripted first reply, then any answer but "*" fails.
    bool scripted_exchange(std::string const& mechanism, bool has_initial) {
        AuthProfile const& auth = profile_.auth;
        if (has_initial) {
            return auth_failed(auth.failure_reply_for(mechanism), true);
        }
        std::map<std::string, std::string>::const_iterator first =
            auth.first_replies.find(mechanism);
        if (!send(first != auth.first_replies.end() ? first->second : std::string("334 "))) {
            return false;
        }
        std::string response;
        Answer const answer = read_response(response);
        if (answer != Answer::data)
            return refuse_answer(answer);
        return auth_failed(auth.failure_reply_for(mechanism), true);
    }

    /// The reply to a client answer that is not SASL data: "*" (RFC 4954 §4: 501), bad
    /// base64, an over-long line; false when the connection ended.
    bool refuse_answer(Answer answer) {
        AuthProfile const& auth = profile_.auth;
        switch (answer) {
        case Answer::cancel:
            return auth_failed(auth.cancel_reply, false);
        case Answer::malformed:
            return auth_failed(auth.malformed_reply, false);
        case Answer::too_long:
            return auth_failed(auth.line_too_long_reply, false);
        case Answer::data:
        case Answer::ended:
            break;
        }
        return false;
    }

    Answer read_response(std::string& decoded) {
        std::string line;
        Status const status = connection_.read_line(line, max_auth_line);
        if (status == Status::too_long) {
            record(line + " [line too long, cut]");
            return Answer::too_long;
        }
        if (status != Status::ok) {
            end(status);
            return Answer::ended;
        }
        record(line);
        if (line == "*") {
            return Answer::cancel;
        }
        std::optional<std::string> bytes = sasl::base64_decode(line);
        if (!bytes) {
            return Answer::malformed;
        }
        decoded = std::move(*bytes);
        return Answer::data;
    }

    /// Sends the reply for a failed, cancelled or undecodable attempt; after the profile's
    /// limit (RFC 4954 §9) follows it with drop_reply and ends the session.
    bool auth_failed(std::string const& reply, bool delayed) {
        AuthProfile const& auth = profile_.auth;
        ++failures_;
        if (delayed && !connection_.pause(auth.failure_delay)) {
            return false;
        }
        std::string wire = render_reply(reply, profile_.hostname, client_ip_);
        if (auth.drop_after_failures > 0 && failures_ >= auth.drop_after_failures) {
            wire += render_reply(auth.drop_reply, profile_.hostname, client_ip_);
            connection_.write_all(wire);
            return false;
        }
        return connection_.write_all(wire);
    }

    bool on_data() {
        std::string const& reply = profile_.reply_for("DATA", authenticated_);
        if (!reply.starts_with("354")) {
            return reply_to("DATA", reply);
        }
        if (!reply_to("DATA", reply)) {
            return false;
        }
        // RFC 5321 §4.1.1.4: the message ends with a line holding a single ".". It is read and
        // thrown away: the emulator never delivers or relays.
        for (std::size_t count = 0; count < max_message_lines; ++count) {
            std::string line;
            Status const status = connection_.read_line(line, max_auth_line);
            if (status == Status::too_long) {
                record(line + " [line too long, cut]");
                continue;
            }
            if (status != Status::ok) {
                end(status);
                return false;
            }
            record(line);
            if (line == ".") {
                return send(profile_.data_end_reply);
            }
        }
        return false;
    }

    Shared const& shared_;
    Profile const& profile_;
    Connection& connection_;
    std::size_t id_;
    std::string client_ip_;
    bool greeted_ = false;
    bool authenticated_ = false;
    unsigned failures_ = 0;
};

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

class Server::Impl {
public:
    Impl(Profile profile, ServerOptions options)
        : profile_(std::move(profile)), options_(std::move(options)),
          pki_(options_.pki ? *options_.pki : make_pki(default_cert_spec(profile_.hostname))),
          tls_(make_tls_context(pki_, profile_)),
          no_sni_tls_(options_.no_sni_pki ? make_tls_context(*options_.no_sni_pki, profile_)
                                          : nullptr),
          sasl_options_(sasl_options_for(profile_)), shared_{profile_, tls_.get(), sasl_options_,
                                                             recorder_} {
        sni_policy_.require = profile_.require_sni;
        sni_policy_.no_sni = no_sni_tls_.get();
        if (sni_policy_.require || sni_policy_.no_sni != nullptr) {
            SSL_CTX_set_tlsext_servername_callback(tls_.get(), on_server_name);
            SSL_CTX_set_tlsext_servername_arg(tls_.get(), &sni_policy_);
        }
        wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (wake_.get() < 0) {
            throw std::system_error(errno, std::system_category(), "emulator: eventfd");
        }
        listener_ = open_listener(options_.listen_host, options_.port, port_);
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
        listener_.reset();
    }

    unsigned short port() const noexcept { return port_; }
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
            pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
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
            sockaddr_storage address{};
            socklen_t length = sizeof address;
            UniqueFd client{::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&address),
                                      &length, SOCK_NONBLOCK | SOCK_CLOEXEC)};
            if (client.get() < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    pollfd wake{wake_.get(), POLLIN, 0};
                    ::poll(&wake, 1, static_cast<int>(accept_retry.count()));
                }
                continue;
            }
            // Replies go out in several writes (session tickets, then EHLO lines); without
            // TCP_NODELAY, Nagle holds the next one until the client's delayed ACK (~40 ms).
            int const one = 1;
            ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::size_t const id = ++accepted_;
            std::string const client_ip = peer_address(address, length);
            if (active_.load() >= options_.max_connections) {
                refuse(client.get(), client_ip);
                continue;
            }
            spawn(std::move(client), id, client_ip);
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
        UniqueFd owner{fd};
        try {
            Connection connection(fd, wake_.get(), options_.idle_timeout);
            Session session(shared_, connection, id, client_ip);
            session.run();
            connection.close_gracefully();
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
    SslCtxPtr tls_;
    SslCtxPtr no_sni_tls_;
    SniPolicy sni_policy_;
    sasl::ServerOptions sasl_options_;
    Recorder recorder_;
    Shared shared_;
    UniqueFd wake_;
    UniqueFd listener_;
    unsigned short port_ = 0;

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
