#include "emulator/auth_profile.hpp"

#include "emulator/object_reader.hpp"
#include "sasl/mechanisms.hpp"
#include "sasl/ntlm.hpp"
#include "smtp/base64.hpp"
#include "smtp/capabilities.hpp"

#include <algorithm>

namespace smtpprobe::emulator {
namespace {

using nlohmann::json;

constexpr long long max_delay_ms = 600'000;
constexpr long long max_drop_after = 1000;
constexpr std::size_t max_challenges = 16;

std::vector<std::string> mechanism_list(ProfileSource const& context, std::string const& path,
                                        std::vector<std::string> const& names) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::string const name = smtp::to_upper(names[i]);
        if (!sasl::valid_mechanism_name(name)) {
            context.fail(path + "[" + std::to_string(i) + "]",
                         "not a SASL mechanism name: \"" + names[i] + "\"");
        }
        if (std::find(out.begin(), out.end(), name) == out.end()) {
            out.push_back(name);
        }
    }
    return out;
}

sasl::Credentials parse_account(ProfileSource const& context, json const& value,
                                std::string const& path, std::string* reply = nullptr) {
    ObjectReader reader(context, value, path);
    if (reply != nullptr) {
        std::optional<std::string> text = reader.reply("reply");
        if (!text) {
            context.fail(path, "missing \"reply\"");
        }
        *reply = std::move(*text);
    }
    sasl::Credentials account;
    std::optional<std::string> user = reader.string("user");
    if (!user) {
        context.fail(path, "missing \"user\"");
    }
    account.user = *user;
    account.password = reader.string("password").value_or("");
    account.token = reader.string("token").value_or("");
    if (account.password.empty() && account.token.empty()) {
        context.fail(path, "needs \"password\" or \"token\"");
    }
    reader.finish();
    return account;
}

std::map<std::string, std::string> mechanism_replies(ObjectReader& auth, std::string_view key) {
    std::map<std::string, std::string> out;
    json const* replies = auth.find(key);
    if (replies == nullptr) {
        return out;
    }
    std::string const path = join_path(auth.path(), key);
    if (!replies->is_object()) {
        auth.context().fail(path, "expected an object of replies by mechanism");
    }
    for (json::const_iterator it = replies->begin(); it != replies->end(); ++it) {
        if (it.key().starts_with("_")) {
            continue;
        }
        std::string const field = join_path(path, it.key());
        std::string const mechanism = mechanism_list(auth.context(), field, {it.key()}).front();
        out[mechanism] = auth.checked_reply(*it, field);
    }
    return out;
}

} // namespace

void parse_auth(ObjectReader& top, AuthProfile& auth) {
    json const* value = top.find("auth");
    if (value == nullptr) {
        return;
    }
    ProfileSource const& context = top.context();
    ObjectReader reader(context, *value, "auth");
    if (std::optional<std::vector<std::string>> list = reader.strings("mechanisms")) {
        auth.mechanisms = mechanism_list(context, "auth.mechanisms", *list);
    }
    if (std::optional<std::vector<std::string>> list = reader.strings("mechanisms_before_tls")) {
        auth.mechanisms_before_tls = mechanism_list(context, "auth.mechanisms_before_tls", *list);
    }
    auth.before_tls_reply = reader.reply("before_tls_reply").value_or(auth.before_tls_reply);
    auth.unknown_mechanism_reply =
        reader.reply("unknown_mechanism_reply").value_or(auth.unknown_mechanism_reply);
    auth.success_reply = reader.reply("success_reply").value_or(auth.success_reply);
    auth.failure_reply = reader.reply("failure_reply").value_or(auth.failure_reply);
    auth.cancel_reply = reader.reply("cancel_reply").value_or(auth.cancel_reply);
    auth.already_authenticated_reply =
        reader.reply("already_authenticated_reply").value_or(auth.already_authenticated_reply);
    auth.malformed_reply = reader.reply("malformed_reply").value_or(auth.malformed_reply);
    auth.syntax_reply = reader.reply("syntax_reply").value_or(auth.syntax_reply);
    auth.line_too_long_reply =
        reader.reply("line_too_long_reply").value_or(auth.line_too_long_reply);
    if (std::optional<std::vector<std::string>> prompts = reader.strings("login_prompts")) {
        if (prompts->size() != 2) {
            context.fail("auth.login_prompts", "expected [user prompt, password prompt]");
        }
        auth.login_user_prompt = (*prompts)[0];
        auth.login_password_prompt = (*prompts)[1];
    }
    auth.first_replies = mechanism_replies(reader, "first_replies");
    auth.failure_replies = mechanism_replies(reader, "failure_replies");
    auth.final_replies = mechanism_replies(reader, "final_replies");
    if (json const* scripts = reader.find("challenges")) {
        if (!scripts->is_object()) {
            context.fail("auth.challenges", "expected an object of reply lists by mechanism");
        }
        for (json::const_iterator it = scripts->begin(); it != scripts->end(); ++it) {
            std::string const path = "auth.challenges." + it.key();
            if (it.key().starts_with("_")) {
                continue;
            }
            if (!it->is_array() || it->size() > max_challenges) {
                context.fail(path, "expected an array of at most 16 replies");
            }
            std::vector<std::string>& list =
                auth.challenges[mechanism_list(context, path, {it.key()}).front()];
            for (std::size_t i = 0; i < it->size(); ++i) {
                list.push_back(
                    reader.checked_reply((*it)[i], path + "[" + std::to_string(i) + "]"));
            }
        }
    }
    if (json const* accounts = reader.find("accounts")) {
        if (!accounts->is_array()) {
            context.fail("auth.accounts", "expected an array of accounts");
        }
        for (std::size_t i = 0; i < accounts->size(); ++i) {
            auth.accounts.push_back(
                parse_account(context, (*accounts)[i], "auth.accounts[" + std::to_string(i) + "]"));
        }
    }
    if (json const* refusals = reader.find("refusals")) {
        if (!refusals->is_array()) {
            context.fail("auth.refusals", "expected an array of refusals");
        }
        for (std::size_t i = 0; i < refusals->size(); ++i) {
            Refusal refusal;
            refusal.credentials =
                parse_account(context, (*refusals)[i], "auth.refusals[" + std::to_string(i) + "]",
                              &refusal.reply);
            auth.refusals.push_back(std::move(refusal));
        }
    }
    auth.basic_auth_reply = reader.reply("basic_auth_reply").value_or("");
    if (std::optional<std::string> rules = reader.string("token_rules")) {
        if (*rules == "accounts") {
            auth.token_rules = sasl::TokenRules::accounts;
        } else if (*rules == "exchange_online") {
            auth.token_rules = sasl::TokenRules::exchange_online;
        } else if (*rules == "google") {
            auth.token_rules = sasl::TokenRules::google;
        } else {
            context.fail("auth.token_rules", "expected \"accounts\", \"exchange_online\" or "
                                             "\"google\"");
        }
    }
    auth.challenge_nonce = reader.string("challenge_nonce");
    if (std::optional<std::string> text = reader.string("ntlm_challenge")) {
        std::optional<std::string> bytes = smtp::base64_decode(*text);
        if (!bytes) {
            context.fail("auth.ntlm_challenge", "expected the base64 of a CHALLENGE_MESSAGE");
        }
        sasl::ntlm::DecodeResult const decoded = sasl::ntlm::decode_challenge(*bytes);
        if (!decoded.challenge) {
            context.fail("auth.ntlm_challenge", "not a CHALLENGE_MESSAGE: " + decoded.detail);
        }
        auth.ntlm_challenge = std::move(bytes);
    }
    if (std::optional<long long> drop = reader.integer("drop_after_failures", 0, max_drop_after)) {
        auth.drop_after_failures = static_cast<unsigned>(*drop);
    }
    auth.drop_reply = reader.reply("drop_reply", true).value_or(auth.drop_reply);
    if (std::optional<long long> delay = reader.integer("failure_delay_ms", 0, max_delay_ms)) {
        auth.failure_delay = std::chrono::milliseconds(*delay);
    }
    reader.finish();
}

std::vector<sasl::Credentials> AuthProfile::server_accounts() const {
    std::vector<sasl::Credentials> out = accounts;
    for (Refusal const& refusal : refusals) {
        out.push_back(refusal.credentials);
    }
    return out;
}

std::string const* AuthProfile::refusal_reply(int account) const noexcept {
    if (account < 0 || static_cast<std::size_t>(account) < accounts.size()) {
        return nullptr;
    }
    std::size_t const index = static_cast<std::size_t>(account) - accounts.size();
    return index < refusals.size() ? &refusals[index].reply : nullptr;
}

std::string const& AuthProfile::failure_reply_for(std::string const& mechanism) const {
    std::map<std::string, std::string>::const_iterator it = failure_replies.find(mechanism);
    return it == failure_replies.end() ? failure_reply : it->second;
}

} // namespace smtpprobe::emulator
