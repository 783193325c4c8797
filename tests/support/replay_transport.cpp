#include "support/replay_transport.hpp"

#include "net/errc.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace smtpprobe::test {

ReplayScript load_replay(std::string const& path) {
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    ReplayScript script;
    std::string line;
    for (int n = 0; n < 100'000 && std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        // "[  12 ms] " timestamps, as --transcript prints them, are not part of the exchange.
        if (line.rfind("[", 0) == 0 && line.find(" ms] ") != std::string::npos)
            line.erase(0, line.find(" ms] ") + 5);
        if (line.rfind("# ", 0) == 0) {
            std::size_t colon = line.find(": ");
            if (colon != std::string::npos)
                script.headers[line.substr(2, colon - 2)] = line.substr(colon + 2);
            continue;
        }
        if (line.size() < 3 || line[0] == '#' || line.rfind("===", 0) == 0 ||
            line.rfind("***", 0) == 0)
            continue;
        std::string const hint = line.substr(0, 3);
        std::string const text = line.size() > 4 ? line.substr(4) : std::string();
        if (hint == "<- ")
            script.steps.push_back({ReplayStep::Kind::server, false, text});
        else if (hint == "<~ ")
            script.steps.push_back({ReplayStep::Kind::server, true, text});
        else if (hint == " ->")
            script.steps.push_back({ReplayStep::Kind::client, false, text});
        else if (hint == " ~>")
            script.steps.push_back({ReplayStep::Kind::client, true, text});
        else
            throw std::runtime_error(path + ": unknown line: " + line);
    }
    return script;
}

void ReplayTransport::send_all(std::string_view bytes, net::Deadline) {
    if (closed_)
        throw std::system_error(net::errc::closed_by_peer);
    ++writes_;
    // A pipelined group (RFC 2920) is several lines in one write: each is checked in turn.
    for (std::size_t at = 0; at < bytes.size();) {
        std::size_t const end = bytes.find("\r\n", at);
        std::size_t const next = end == std::string_view::npos ? bytes.size() : end + 2;
        take_line(std::string(bytes.substr(at, (end == std::string_view::npos ? next : end) - at)));
        at = next;
    }
}

void ReplayTransport::take_line(std::string const& line) {
    // Either side quitting where the other goes on is where the recording and the client
    // part: the client may open another connection, or the recorded client stopped here.
    bool const recorded_quit = position_ < script_.steps.size() &&
                               script_.steps[position_].kind == ReplayStep::Kind::client &&
                               script_.steps[position_].text == "QUIT";
    if ((line == "QUIT") != recorded_quit || position_ >= script_.steps.size()) {
        left_at_ = position_;
        closed_ = true;
        throw std::system_error(net::errc::closed_by_peer);
    }
    if (position_ >= script_.steps.size() ||
        script_.steps[position_].kind != ReplayStep::Kind::client) {
        mismatches_.push_back("unexpected client line: " + line);
        throw std::system_error(net::errc::closed_by_peer);
    }
    ReplayStep const& step = script_.steps[position_++];
    bool const wildcard = step.text.rfind("<redacted", 0) == 0;
    if (!wildcard && step.text != line)
        mismatches_.push_back("expected \"" + step.text + "\", got \"" + line + "\"");
    if (step.tls != tls_)
        mismatches_.push_back("TLS state differs at \"" + step.text + "\"");
}

std::size_t ReplayTransport::receive_some(char* buffer, std::size_t size, net::Deadline) {
    if (pending_.empty()) {
        // Everything the server sent back to back arrives as one chunk, as it would over TCP.
        while (position_ < script_.steps.size() &&
               script_.steps[position_].kind == ReplayStep::Kind::server &&
               script_.steps[position_].tls == tls_) {
            pending_ += script_.steps[position_++].text + "\r\n";
        }
    }
    if (pending_.empty())
        return 0; // the recording ends here: the server hung up
    std::size_t const n = std::min(size, pending_.size());
    std::memcpy(buffer, pending_.data(), n);
    pending_.erase(0, n);
    return n;
}

net::TlsInfo ReplayTransport::start_tls(net::TlsConnectOptions const& options, net::Deadline) {
    tls_ = true;
    net::TlsInfo info;
    info.established = true;
    info.version = "TLSv1.3";
    info.cipher = "replayed";
    info.chain_verified = true;
    info.host_checked = true;
    info.host_verified = true;
    info.verify_name = options.verify_name;
    return info;
}

} // namespace smtpprobe::test
