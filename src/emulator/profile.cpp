#include "emulator/profile.hpp"

#include "emulator/object_reader.hpp"
#include "emulator/reply_text.hpp"
#include "net/tls.hpp"
#include "smtp/capabilities.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace smtpprobe::emulator {
namespace {

using nlohmann::json;

constexpr long long max_delay_ms = 600'000;
constexpr long long max_drop_after = 1000;
constexpr std::size_t max_mechanism_name = 64;
constexpr std::size_t max_profile_bytes = 1 << 20;

void check_hostname(ProfileSource const& context, std::string const& hostname) {
    if (hostname.empty()) {
        context.fail("hostname", "must not be empty");
    }
    for (char c : hostname) {
        unsigned char const byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f || c == '{' || c == '}') {
            context.fail("hostname", "must be printable ASCII without spaces or braces");
        }
    }
}

std::vector<std::string> mechanism_list(ProfileSource const& context, std::string const& path,
                                        std::vector<std::string> const& names) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::string const name = smtp::to_upper(names[i]);
        bool const valid =
            !name.empty() && name.size() <= max_mechanism_name &&
            std::all_of(name.begin(), name.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
            });
        if (!valid) {
            context.fail(path + "[" + std::to_string(i) + "]",
                         "not a SASL mechanism name: \"" + names[i] + "\"");
        }
        if (std::find(out.begin(), out.end(), name) == out.end()) {
            out.push_back(name);
        }
    }
    return out;
}

std::string verb_key(ProfileSource const& context, std::string const& path, std::string const& key,
                     bool allow_banner) {
    if (allow_banner && smtp::to_upper(key) == "BANNER") {
        return "banner";
    }
    bool const valid = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
    });
    if (!valid) {
        context.fail(join_path(path, key), "not a command verb");
    }
    return smtp::to_upper(key);
}

std::map<std::string, std::string> reply_map(ObjectReader& parent, std::string_view key) {
    std::map<std::string, std::string> out;
    json const* value = parent.find(key);
    if (value == nullptr) {
        return out;
    }
    std::string const path = join_path(parent.path(), key);
    if (!value->is_object()) {
        parent.context().fail(path, "expected an object of replies by command verb");
    }
    for (json::const_iterator it = value->begin(); it != value->end(); ++it) {
        if (it.key().starts_with("_")) {
            continue;
        }
        std::string const verb = verb_key(parent.context(), path, it.key(), false);
        out[verb] = parent.checked_reply(*it, join_path(path, it.key()));
    }
    return out;
}

void parse_ehlo(ObjectReader& top, EhloProfile& ehlo) {
    json const* value = top.find("ehlo");
    if (value == nullptr) {
        return;
    }
    ObjectReader reader(top.context(), *value, "ehlo");
    ehlo.supported = reader.boolean("supported").value_or(ehlo.supported);
    ehlo.greeting = reader.string("greeting").value_or(ehlo.greeting);
    if (ehlo.greeting.find_first_of("\r\n") != std::string::npos) {
        top.context().fail("ehlo.greeting", "must be one line");
    }
    ehlo.before_tls = reader.strings("before_tls").value_or(ehlo.before_tls);
    ehlo.after_tls = reader.strings("after_tls").value_or(ehlo.after_tls);
    auto check_lines = [&top](std::string const& path, std::vector<std::string> const& lines) {
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (lines[i].empty() || lines[i].find_first_of("\r\n") != std::string::npos) {
                top.context().fail(path + "[" + std::to_string(i) + "]",
                                   "must be one non-empty line");
            }
        }
    };
    check_lines("ehlo.before_tls", ehlo.before_tls);
    check_lines("ehlo.after_tls", ehlo.after_tls);
    reader.finish();
}

sasl::Credentials parse_account(ProfileSource const& context, json const& value,
                                std::string const& path) {
    ObjectReader reader(context, value, path);
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
    if (json const* accounts = reader.find("accounts")) {
        if (!accounts->is_array()) {
            context.fail("auth.accounts", "expected an array of accounts");
        }
        for (std::size_t i = 0; i < accounts->size(); ++i) {
            auth.accounts.push_back(
                parse_account(context, (*accounts)[i], "auth.accounts[" + std::to_string(i) + "]"));
        }
    }
    auth.challenge_nonce = reader.string("challenge_nonce");
    if (std::optional<long long> drop = reader.integer("drop_after_failures", 0, max_drop_after)) {
        auth.drop_after_failures = static_cast<unsigned>(*drop);
    }
    auth.drop_reply = reader.reply("drop_reply").value_or(auth.drop_reply);
    if (std::optional<long long> delay = reader.integer("failure_delay_ms", 0, max_delay_ms)) {
        auth.failure_delay = std::chrono::milliseconds(*delay);
    }
    reader.finish();
}

void parse_delays(ObjectReader& top, Profile& profile) {
    json const* value = top.find("delays_ms");
    if (value == nullptr) {
        return;
    }
    if (!value->is_object()) {
        top.context().fail("delays_ms", "expected an object of milliseconds by command verb");
    }
    for (json::const_iterator it = value->begin(); it != value->end(); ++it) {
        if (it.key().starts_with("_")) {
            continue;
        }
        std::string const key = verb_key(top.context(), "delays_ms", it.key(), true);
        long long const ms = top.checked_integer(*it, "delays_ms." + it.key(), 0, max_delay_ms);
        profile.delays[key] = std::chrono::milliseconds(ms);
    }
}

void fill_default_replies(std::map<std::string, std::string>& replies) {
    std::pair<char const*, char const*> const defaults[] = {
        {"STARTTLS", "220 2.0.0 Ready to start TLS"},
        {"NOOP", "250 2.0.0 OK"},
        {"RSET", "250 2.0.0 OK"},
        {"QUIT", "221 2.0.0 Bye"},
        {"MAIL", "250 2.1.0 OK"},
        {"RCPT", "250 2.1.5 OK"},
        {"DATA", "354 End data with <CR><LF>.<CR><LF>"},
        {"VRFY", "252 2.0.0 Cannot VRFY user"},
        {"UNKNOWN", "500 5.5.2 Error: command not recognized"},
    };
    for (auto const& [verb, reply] : defaults) {
        replies.emplace(verb, reply);
    }
}

} // namespace

std::string const& AuthProfile::failure_reply_for(std::string const& mechanism) const {
    std::map<std::string, std::string>::const_iterator it = failure_replies.find(mechanism);
    return it == failure_replies.end() ? failure_reply : it->second;
}

std::string const& Profile::reply_for(std::string const& verb, bool authenticated) const {
    if (authenticated) {
        std::map<std::string, std::string>::const_iterator it = authenticated_replies.find(verb);
        if (it != authenticated_replies.end()) {
            return it->second;
        }
    }
    std::map<std::string, std::string>::const_iterator it = replies.find(verb);
    if (it != replies.end()) {
        return it->second;
    }
    it = replies.find("UNKNOWN");
    if (it != replies.end()) {
        return it->second;
    }
    static std::string const fallback = "500 5.5.2 Error: command not recognized";
    return fallback;
}

std::chrono::milliseconds Profile::delay_for(std::string const& verb) const {
    std::map<std::string, std::chrono::milliseconds>::const_iterator it = delays.find(verb);
    return it == delays.end() ? std::chrono::milliseconds{0} : it->second;
}

Profile parse_profile(nlohmann::json const& document, std::string_view source) {
    ProfileSource const context(source);
    if (!document.is_object()) {
        context.fail("", "a profile must be a JSON object");
    }
    ObjectReader top(context, document, "");
    Profile profile;

    std::optional<std::string> name = top.string("name");
    if (!name || name->empty()) {
        context.fail("", "missing \"name\"");
    }
    profile.name = *name;
    profile.description = top.string("description").value_or("");
    profile.hostname = top.string("hostname").value_or(profile.hostname);
    check_hostname(context, profile.hostname);

    if (std::optional<std::string> tls = top.string("tls")) {
        if (*tls == "starttls") {
            profile.tls = TlsMode::starttls;
        } else if (*tls == "implicit") {
            profile.tls = TlsMode::implicit;
        } else if (*tls == "none") {
            profile.tls = TlsMode::none;
        } else {
            context.fail("tls",
                         "expected \"starttls\", \"implicit\" or \"none\", got \"" + *tls + "\"");
        }
    }

    for (std::string* version : {&profile.tls_min, &profile.tls_max}) {
        char const* const key = version == &profile.tls_min ? "tls_min" : "tls_max";
        *version = top.string(key).value_or(*version);
        if (!net::is_tls_version(*version)) {
            context.fail(key,
                         "expected \"1.0\", \"1.1\", \"1.2\" or \"1.3\", got \"" + *version + "\"");
        }
    }
    // The strings compare like the versions they name.
    if (profile.tls_min > profile.tls_max) {
        context.fail("tls_min", "is newer than tls_max");
    }
    profile.require_sni = top.boolean("require_sni").value_or(false);

    if (json const* banner = top.find("banner")) {
        profile.banner = top.checked_reply(*banner, "banner");
        for (std::string_view line : split_lines(profile.banner)) {
            if (!starts_with_code(line)) {
                context.fail("banner", "every banner line is a full wire line (\"220-...\")");
            }
        }
    }
    parse_ehlo(top, profile.ehlo);
    profile.helo = top.reply("helo").value_or(profile.helo);
    profile.hello_first_reply = top.reply("hello_first_reply", true).value_or("");
    profile.syntax_reply = top.reply("syntax_reply").value_or(profile.syntax_reply);
    parse_auth(top, profile.auth);

    profile.replies = reply_map(top, "replies");
    fill_default_replies(profile.replies);
    profile.authenticated_replies = reply_map(top, "authenticated_replies");
    profile.data_end_reply = top.reply("data_end_reply").value_or(profile.data_end_reply);

    profile.starttls_inject = top.string("starttls_inject").value_or("");
    profile.starttls_active_reply =
        top.reply("starttls_active_reply").value_or(profile.starttls_active_reply);
    profile.starttls_unavailable_reply =
        top.reply("starttls_unavailable_reply").value_or(profile.starttls_unavailable_reply);
    profile.line_too_long_reply =
        top.reply("line_too_long_reply").value_or(profile.line_too_long_reply);
    profile.too_many_connections_reply =
        top.reply("too_many_connections_reply").value_or(profile.too_many_connections_reply);
    profile.timeout_reply = top.reply("timeout_reply").value_or(profile.timeout_reply);

    parse_delays(top, profile);
    if (std::optional<std::vector<std::string>> verbs = top.strings("close_after")) {
        for (std::string const& verb : *verbs) {
            profile.close_after.insert(verb_key(context, "close_after", verb, true));
        }
    }
    top.finish();
    return profile;
}

Profile load_profile(std::filesystem::path const& path) {
    std::string const source = path.filename().string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error(path.string() + ": cannot open the profile");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_profile_text(text.str(), source);
}

Profile parse_profile_text(std::string_view content, std::string_view source) {
    if (content.size() > max_profile_bytes) {
        throw std::runtime_error(std::string(source) + ": profile larger than 1 MiB");
    }
    json document;
    try {
        document = json::parse(content, nullptr, true, true);
    } catch (json::exception const& e) {
        // Not only parse_error: a number too large for a double is out_of_range (406).
        throw std::runtime_error(std::string(source) + ": not valid JSON: " + e.what());
    }
    return parse_profile(document, source);
}

std::string_view to_string(TlsMode mode) noexcept {
    switch (mode) {
    case TlsMode::none:
        return "none";
    case TlsMode::starttls:
        return "starttls";
    case TlsMode::implicit:
        return "implicit";
    }
    return "starttls";
}

} // namespace smtpprobe::emulator
