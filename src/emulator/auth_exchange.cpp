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
      server_(sasl::Server::create(mechanism_, options)) {
    std::map<std::string, std::vector<std::string>>::const_iterator const script =
        profile_.challenges.find(mechanism_);
    if (script != profile_.challenges.end()) {
        script_ = &script->second;
        server_.reset();
    }
}

AuthExchange::Result AuthExchange::begin(std::optional<std::string> const& initial) {
    first_reply_pending_ = !initial.has_value();
    if (!server_) {
        if (initial) {
            if (*initial != "=" && !sasl::base64_decode(*initial)) {
                return {Kind::malformed, {}};
            }
            return next_scripted();
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
    if (!server_) {
        return next_scripted();
    }
    if (rounds_ >= max_rounds) {
        return {Kind::failure, {}};
    }
    return next(server_->respond(*decoded));
}

AuthExchange::Result AuthExchange::next_scripted() {
    if (script_ != nullptr && scripted_ < script_->size()) {
        ++rounds_;
        return {Kind::challenge, (*script_)[scripted_++]};
    }
    std::map<std::string, std::string>::const_iterator const final =
        profile_.final_replies.find(mechanism_);
    if (final == profile_.final_replies.end()) {
        return {Kind::failure, {}};
    }
    return {final->second.starts_with("235") ? Kind::success : Kind::failure, final->second};
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
