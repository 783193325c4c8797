#pragma once
// A Transport that replays a recorded transcript (swaks notation, ARCHITECTURE §7) and checks
// every client line against it, so the engine's probes run on real servers' bytes without
// sockets. "<- " / "<~ " lines are what the server sent (before / after TLS), " ->" / " ~>"
// what the client must send, "===" and "#" lines are ignored, except "# key: value" headers
// which the test reads. A client line recorded as "<redacted...>" matches any line.

#include "net/transport.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smtpprobe::test {

struct ReplayStep {
    enum class Kind { server, client } kind;
    bool tls = false;
    std::string text;
};

struct ReplayScript {
    std::vector<ReplayStep> steps;
    std::map<std::string, std::string> headers; ///< "# key: value" lines
};

ReplayScript load_replay(std::string const& path);

class ReplayTransport final : public net::Transport {
public:
    explicit ReplayTransport(ReplayScript script) : script_(std::move(script)) {}
    void send_all(std::string_view bytes, net::Deadline deadline) override;
    std::size_t receive_some(char* buffer, std::size_t size, net::Deadline deadline) override;
    net::TlsInfo start_tls(net::TlsConnectOptions const& options, net::Deadline deadline) override;
    bool tls_active() const noexcept override { return tls_; }
    void close() noexcept override { closed_ = true; }

    /// Client lines that did not match the script, "expected X, got Y".
    std::vector<std::string> const& mismatches() const noexcept { return mismatches_; }
    /// The client followed the recording to its end: every step taken, or all but the
    /// server's reply to the client's last QUIT, which Conversation::quit() does not wait for.
    bool finished() const noexcept {
        if (position_ >= script_.steps.size())
            return true;
        if (position_ == 0 || script_.steps[position_ - 1].kind != ReplayStep::Kind::client ||
            script_.steps[position_ - 1].text != "QUIT")
            return false;
        for (std::size_t i = position_; i < script_.steps.size(); ++i)
            if (script_.steps[i].kind != ReplayStep::Kind::server)
                return false;
        return true;
    }
    /// How many times the client wrote (a pipelined group is one write).
    int writes() const noexcept { return writes_; }
    /// A QUIT where the recording goes on (the client leaves early, to reconnect), or another
    /// line where the recorded client sent QUIT or where the recording has ended, is where client
    /// and recording part, not a mismatch: the step, or nullopt. The transport then hangs up.
    std::optional<std::size_t> left_at() const noexcept { return left_at_; }

private:
    void take_line(std::string const& line);

    ReplayScript script_;
    std::size_t position_ = 0;
    std::string pending_;
    bool tls_ = false;
    bool closed_ = false;
    int writes_ = 0;
    std::optional<std::size_t> left_at_;
    std::vector<std::string> mismatches_;
};

} // namespace smtpprobe::test
