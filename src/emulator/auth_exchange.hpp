#pragma once
// One AUTH exchange of the emulator (RFC 4954 §4), without I/O: the client's lines in, the
// next challenge or the outcome out. The session sends the replies and counts failures.

#include "emulator/profile.hpp"

#include "sasl/sasl.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::emulator {

/// The arguments of an AUTH command.
struct AuthCommand {
    std::string mechanism; ///< upper-cased
    std::optional<std::string> initial;
};

/// None for a syntax error: no mechanism, or more than a mechanism and an initial response.
std::optional<AuthCommand> parse_auth_command(std::string_view args);

/// The reply for a mechanism the profile does not recognise at this point of the session
/// (before_tls_reply or unknown_mechanism_reply), or null when it does. before_starttls: the
/// profile does STARTTLS and TLS is not up yet.
std::string const* auth_refusal(AuthProfile const& auth, bool before_starttls,
                                std::string const& mechanism);

class AuthExchange {
public:
    struct Result {
        enum class Kind {
            challenge, ///< send `challenge` and pass the client's next line to answer()
            success,   ///< credentials accepted
            failure,   ///< credentials rejected (the profile's failure delay applies)
            malformed, ///< not base64, or not what the mechanism expects
            cancelled, ///< the client sent "*"
        };
        Kind kind = Kind::failure;
        /// The stored reply to send (see render_reply): the challenge, or a scripted final
        /// reply. Empty: the profile's reply for the kind.
        std::string reply;
    };

    /// "AUTH MECHANISM [initial]" for a mechanism the profile recognises. The initial response
    /// "=" stands for an empty one. A mechanism the SASL server does not implement (NTLM,
    /// GSSAPI, ...), or one with auth.challenges, is scripted: the profile's first reply
    /// (default "334 ") to a bare AUTH, then one challenge per client line, then the final
    /// reply (default: failure).
    AuthExchange(AuthProfile const& profile, sasl::ServerOptions const& options,
                 std::string mechanism);
    Result begin(std::optional<std::string> const& initial);
    /// The client's answer to the last challenge, as received (base64 or "*").
    Result answer(std::string_view line);

    std::string const& mechanism() const noexcept { return mechanism_; }
    /// After a success: the authenticated identity (for the profile's envelope.senders).
    std::string const& user() const noexcept { return user_; }

private:
    Result next(sasl::ServerStep const& step);
    /// The scripted reply to the next client line.
    Result next_scripted();

    AuthProfile const& profile_;
    std::string mechanism_;
    std::optional<sasl::Server> server_;               ///< none: a scripted mechanism
    std::vector<std::string> const* script_ = nullptr; ///< auth.challenges[mechanism]
    std::size_t scripted_ = 0;                         ///< challenges sent from the script
    bool first_reply_pending_ = true;
    int rounds_ = 0;
    std::string user_;
};

} // namespace smtpprobe::emulator
