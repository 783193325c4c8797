#include "emulator/auth_exchange.hpp"

#include "sasl/base64.hpp"

#include <map>
#include <utility>

namespace smtpprobe::emulator {
namespace {

constexpr int max_rounds = 16;

using Kind = AuthExchange::Result::Kind;

} // namespace

AuthExchange::AuthExchange(AuthProfile const& profile, sasl::ServerOptions const& options,
                           std::string mechanism)
    : profile_(profile), mechanism_(std::move(mechanism)),
      server_(sasl::Server::create(mechanism_, options)) {}

AuthExchange::Result AuthExchange::begin(std::optional<std::string> const& initial) {
    first_reply_pending_ = !initial.has_value();
    if (!server_) {
        if (initial) {
            return {Kind::failure, {}};
        }
        std::map<std::string, std::string>::const_iterator const first =
            profile_.first_replies.find(mechanism_);
        ++rounds_;
        return {Kind::challenge,
                first != profile_.first_replies.end() ? first->second : std::string("334 ")};
    }
    sasl::ServerStep step = server_->start();
    if (initial) {
        std::optional<std::string> decoded =
            *initial == "=" ? std::optional<std::string>("") : sasl::base64_decode(*initial);
        if (!decoded) {
            return {Kind::malformed, {}};
        }
        if (step.kind == sasl::ServerStep::Kind::challenge) {
            step = server_->respond(*decoded);
        }
    }
    return next(step);
}

AuthExchange::Result AuthExchange::answer(std::string_view line) {
    if (line == "*") {
        return {Kind::cancelled, {}};
    }
    std::optional<std::string> decoded = sasl::base64_decode(line);
    if (!decoded) {
        return {Kind::malformed, {}};
    }
    if (!server_ || rounds_ >= max_rounds) {
        return {Kind::failure, {}};
    }
    return next(server_->respond(*decoded));
}

AuthExchange::Result AuthExchange::next(sasl::ServerStep const& step) {
    switch (step.kind) {
    case sasl::ServerStep::Kind::success:
        return {Kind::success, {}};
    case sasl::ServerStep::Kind::failure:
        return {Kind::failure, {}};
    case sasl::ServerStep::Kind::malformed:
        return {Kind::malformed, {}};
    case sasl::ServerStep::Kind::challenge:
        break;
    }
    ++rounds_;
    std::map<std::string, std::string>::const_iterator const first =
        first_reply_pending_ ? profile_.first_replies.find(mechanism_)
                             : profile_.first_replies.end();
    first_reply_pending_ = false;
    return {Kind::challenge, first != profile_.first_replies.end()
                                 ? first->second
                                 : "334 " + sasl::base64_encode(step.data)};
}

} // namespace smtpprobe::emulator
