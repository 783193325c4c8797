#pragma once
// First contact with a port: open a connection, find out what the port speaks, and drive the
// session to the state where AUTH is probed (probes/baseline.hpp). Where the port does not
// answer the way the TLS mode says, try the other way on a fresh connection (issue 10 part 3):
//   --tls auto:      no banner within banner_wait -> a TLS handshake on a fresh connection;
//                    if it works, the port speaks implicit TLS (a finding: STARTTLS clients
//                    hang there); if not, go on waiting for the banner.
//   implicit (465):  the handshake fails -> a plaintext connection; if it greets with 220,
//                    the port speaks plaintext SMTP and is probed that way.
// A port that greets in another protocol (SSH, IMAP, POP3; HTTP answering EHLO) is named.
// Every failure is recorded as a FatalError naming the phase and what arrived (part 4).

#include "probes/baseline.hpp"
#include "report/report.hpp"
#include "session/conversation.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace smtpprobe::probes {

struct Connection {
    std::unique_ptr<net::Transport> transport;
    std::unique_ptr<Conversation> conversation;
};

/// Opens a fresh connection to the target (TCP, or a test's transport). Throws
/// std::system_error when none can be opened.
using Open = std::function<Connection()>;

struct ContactOptions {
    SetupOptions setup;                          ///< setup.mode: the mode asked for
    std::chrono::milliseconds banner_wait{3000}; ///< --banner-wait
    std::chrono::milliseconds command_timeout{10'000};
    /// Try the other way when the port does not answer as the mode says (only the first
    /// connections of a run: later ones use what was found).
    bool detect = true;
};

struct Contact {
    Connection connection; ///< the connection to go on with
    ServerFacts facts;     ///< facts.ready: AUTH can be probed; else facts.failure says why
};

/// Never throws for what the server does; throws std::system_error when not even the first
/// connection could be opened (the caller reports connect failures).
Contact make_contact(Open const& open, ContactOptions const& options);

/// The structured failure for an exception caught during a connection's setup in
/// facts.phase (what arrived in that phase comes from the conversation).
FatalError describe_failure(std::system_error const& e, ServerFacts const& facts,
                            Conversation const& conversation);

} // namespace smtpprobe::probes
