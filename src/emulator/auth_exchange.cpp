#include "emulator/auth_exchange.hpp"

#include "smtp/base64.hpp"
#include "smtp/capabilities.hpp"

#include <algorithm>

#include <map>
#include <utility>

namespace smtpprobe::emulator {
namespace {

constexpr int max_rounds = 16;

using Kind = AuthExchange::Result::Kind;

bool contains(std::vector<std::string> const& list, std::string const& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

/// A password mechanism: one that basic_auth_reply refuses.
bool uses_password(std::string const& mechanism) {
    return !sasl::uses_token(mechanism) && !sasl::needs_no_secret(mechanism) &&
           !sasl::uses_certificate(mechanism) && !sasl::uses_ticket(mechanism);
}

} // namespace

std::optional<AuthCommand> parse_auth_command(std::string_view args) {
    std::vector<std::string> words;
    std::size_t start = args.find_first_not_of(' ');
    while (start != std::string_view::npos && words.size() < 3) {
        std::size_t const end = args.find(' ', start);
        words.emplace_back(args.substr(start, end == std::string_view::npos ? end : end - start));
        start = end == std::string_view::npos ? end : args.find_first_not_of(' ', end);
    }
    if (words.empty() || words.size() > 2) {
        return std::nullopt;
    }
    AuthCommand command{smtp::to_upper(words[0]), std::nullopt};
    if (words.size() == 2) {
        command.initial = words[1];
    }
    return command;
}

std::string const* auth_refusal(AuthProfile const& auth, bool before_starttls,
                                std::string const& mechanism) {
    if (!before_starttls) {
        return contains(auth.mechanisms, mechanism) ? nullptr : &auth.unknown_mechanism_reply;
    }
    if (contains(auth.mechanisms_before_tls, mechanism)) {
        return nullptr;
    }
    bool const needs_tls =
        auth.mechanisms_before_tls.empty() || contains(auth.mechanisms, mechanism);
    return needs_tls ? &auth.before_tls_reply : &auth.unknown_mechanism_reply;
}

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
            if (*initial != "=" && !smtp::base64_decode(*initial)) {
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
            *initial == "=" ? std::optional<std::string>("") : smtp::base64_decode(*initial);
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
    std::optional<std::string> decoded = smtp::base64_decode(line);
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
    if (step.kind == sasl::ServerStep::Kind::success) {
        user_ = step.user;
    }
    bool const finished = step.kind == sasl::ServerStep::Kind::success ||
                          step.kind == sasl::ServerStep::Kind::failure;
    if (step.kind == sasl::ServerStep::Kind::success) {
        if (std::string const* reply = profile_.refusal_reply(step.account)) {
            return {reply->starts_with("235") ? Kind::success : Kind::failure, *reply};
        }
    }
    if (finished && !profile_.basic_auth_reply.empty() && uses_password(mechanism_)) {
        return {Kind::failure, profile_.basic_auth_reply};
    }
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
                                 : "334 " + smtp::base64_encode(step.data)};
}

} // namespace smtpprobe::emulator
