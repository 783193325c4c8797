#pragma once
// The one interface in the program: a byte stream with deadlines that can switch to TLS.
// TcpTransport is the real one; tests replay recorded transcripts through another.

#include "net/deadline.hpp"
#include "net/tls.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace smtpprobe::net {

class Transport {
public:
    virtual ~Transport() = default;
    /// Sends every byte or throws std::system_error (net::errc::timeout, closed_by_peer, ...).
    virtual void send_all(std::string_view bytes, Deadline deadline) = 0;
    /// Receives at least one byte; returns 0 at end of stream. Throws on timeout or error.
    virtual std::size_t receive_some(char* buffer, std::size_t size, Deadline deadline) = 0;
    /// Runs the client handshake; throws net::errc::tls_handshake_failed with the reason.
    virtual TlsInfo start_tls(TlsConnectOptions const& options, Deadline deadline) = 0;
    virtual bool tls_active() const noexcept = 0;
    /// The channel-binding inputs of the TLS session (SCRAM-*-PLUS); empty without TLS or
    /// where the transport cannot tell.
    virtual TlsChannelBindings channel_bindings() const { return {}; }
    /// Raw bytes read from the peer so far, TLS records included: what a stalled handshake
    /// did receive. 0 where the transport cannot tell.
    virtual std::uint64_t bytes_received() const noexcept { return 0; }
    virtual void close() noexcept = 0;
};

} // namespace smtpprobe::net
