#include "emulator/profile.hpp"

#include "emulator/auth_profile.hpp"
#include "emulator/object_reader.hpp"
#include "emulator/reply_text.hpp"
#include "net/tls.hpp"
#include "smtp/ascii.hpp"
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

void parse_envelope(ObjectReader& top, EnvelopeRules& rules) {
    json const* value = top.find("envelope");
    if (value == nullptr) {
        return;
    }
    ObjectReader reader(top.context(), *value, "envelope");
    if (json const* senders = reader.find("senders")) {
        if (!senders->is_object()) {
            top.context().fail("envelope.senders", "expected an object {user: [address]}");
        }
        for (auto const& [user, addresses] : senders->items()) {
            rules.senders[user] = reader.string_array(addresses, "envelope.senders." + user);
        }
    }
    rules.sender_refused_reply =
        reader.reply("sender_refused_reply").value_or(rules.sender_refused_reply);
    rules.local_domains = reader.strings("local_domains").value_or(rules.local_domains);
    rules.relay_denied_reply =
        reader.reply("relay_denied_reply").value_or(rules.relay_denied_reply);
    reader.finish();
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

std::string const& Profile::reply_for(std::string const& verb, bool authenticated,
                                      bool plaintext) const {
    if (plaintext) {
        std::map<std::string, std::string>::const_iterator it = plaintext_replies.find(verb);
        if (it != plaintext_replies.end()) {
            return it->second;
        }
    }
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
    profile.request_client_certificate = top.boolean("request_client_certificate").value_or(false);

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
    profile.plaintext_replies = reply_map(top, "plaintext_replies");
    parse_envelope(top, profile.envelope);
    profile.data_end_reply = top.reply("data_end_reply").value_or(profile.data_end_reply);
    if (std::optional<std::string> bare = top.string("bare_lf")) {
        if (*bare == "line_end") {
            profile.bare_lf = Profile::BareLf::line_end;
        } else if (*bare == "reject") {
            profile.bare_lf = Profile::BareLf::reject;
        } else if (*bare == "wait") {
            profile.bare_lf = Profile::BareLf::wait;
        } else {
            context.fail("bare_lf",
                         "expected \"line_end\", \"reject\" or \"wait\", got \"" + *bare + "\"");
        }
    }
    profile.bare_lf_reply = top.reply("bare_lf_reply").value_or(profile.bare_lf_reply);

    profile.starttls_inject = top.string("starttls_inject").value_or("");
    if (std::optional<long long> ms = top.integer("starttls_inject_delay_ms", 0, max_delay_ms)) {
        profile.starttls_inject_delay = std::chrono::milliseconds(*ms);
    }
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
    profile.behaviour = parse_behaviour(top);
    if (profile.behaviour.tls_stall.count() > 0 && profile.tls == TlsMode::none) {
        context.fail("tls_stall_ms", "needs tls \"starttls\" or \"implicit\"");
    }
    if (profile.behaviour.greeting_raw && top.find("banner") != nullptr) {
        context.fail("greeting_raw", "replaces the banner: give one of them");
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

namespace {
std::string_view domain_of(std::string_view address) {
    std::size_t const at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}
} // namespace

bool EnvelopeRules::sender_allowed(std::string const& user, std::string_view sender) const {
    if (senders.empty()) {
        return true;
    }
    for (std::string const& key : {user, std::string("*")}) {
        auto const it = senders.find(key);
        if (it == senders.end()) {
            continue;
        }
        for (std::string const& allowed : it->second) {
            bool const domain = allowed.starts_with("@");
            if (domain ? smtp::iequals(domain_of(sender), std::string_view(allowed).substr(1))
                       : smtp::iequals(sender, allowed)) {
                return true;
            }
        }
    }
    return false;
}

bool EnvelopeRules::needs_relay(std::string_view recipient) const {
    if (local_domains.empty()) {
        return false;
    }
    std::string_view const domain = domain_of(recipient);
    for (std::string const& local : local_domains) {
        if (smtp::iequals(domain, local)) {
            return false;
        }
    }
    return true;
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
