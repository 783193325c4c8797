#include "smtp/capabilities.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_set>

namespace smtpprobe::smtp {

bool Capabilities::has(std::string_view keyword) const noexcept {
    return std::any_of(items.begin(), items.end(),
                       [&](Capability const& c) { return iequals(c.keyword, keyword); });
}

bool Capabilities::offers(std::string_view mechanism) const noexcept {
    return std::any_of(auth.begin(), auth.end(),
                       [&](std::string const& m) { return iequals(m, mechanism); });
}

std::vector<std::string> Capabilities::keywords() const {
    std::vector<std::string> out;
    for (Capability const& c : items)
        if (std::find(out.begin(), out.end(), c.keyword) == out.end())
            out.push_back(c.keyword);
    return out;
}

namespace {

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
        std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t')
            ++i;
        if (i > start)
            words.emplace_back(text.substr(start, i - start));
    }
    return words;
}

// Deduplicated through `seen` (upper-cased names), so a hostile EHLO with hundreds of
// thousands of names stays linear; at most max_mechanisms are kept.
void add_mechanisms(Capabilities& caps, std::vector<std::string> const& names,
                    std::unordered_set<std::string>& seen) {
    constexpr std::size_t max_mechanisms = 256;
    for (std::string const& name : names) {
        if (std::any_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
            caps.auth_lowercase = true;
        if (caps.auth.size() < max_mechanisms && seen.insert(to_upper(name)).second)
            caps.auth.push_back(name);
    }
}

/// X-EXPS names kept (a hostile line may list thousands).
constexpr std::size_t max_x_exps = 32;

} // namespace

Capabilities parse_capabilities(Reply const& ehlo_reply) {
    Capabilities caps;
    std::unordered_set<std::string> seen;
    if (ehlo_reply.lines.empty())
        return caps;
    std::vector<std::string> first = split_words(ehlo_reply.lines.front());
    if (!first.empty())
        caps.domain = first.front();
    for (std::size_t i = 1; i < ehlo_reply.lines.size(); ++i) {
        std::string const& line = ehlo_reply.lines[i];
        std::vector<std::string> words = split_words(line);
        if (words.empty())
            continue;
        Capability cap;
        cap.line = line;
        std::string head = words.front();
        // Legacy "AUTH=LOGIN PLAIN" (pre-RFC 2554 drafts; smtp-facts §1.4).
        if (head.size() > 5 && iequals(std::string_view(head).substr(0, 5), "AUTH=")) {
            cap.keyword = "AUTH=";
            cap.params.push_back(head.substr(5));
            cap.params.insert(cap.params.end(), words.begin() + 1, words.end());
            caps.auth_equals_form = true;
            add_mechanisms(caps, cap.params, seen);
            caps.items.push_back(std::move(cap));
            continue;
        }
        cap.keyword = to_upper(head);
        cap.params.assign(words.begin() + 1, words.end());
        if (cap.keyword == "AUTH") {
            caps.auth_space_form = true;
            add_mechanisms(caps, cap.params, seen);
        } else if (cap.keyword == "X-EXPS") {
            for (std::string const& name : cap.params)
                if (caps.x_exps.size() < max_x_exps &&
                    std::find(caps.x_exps.begin(), caps.x_exps.end(), to_upper(name)) ==
                        caps.x_exps.end())
                    caps.x_exps.push_back(to_upper(name));
        } else if (cap.keyword == "SIZE" && !cap.params.empty()) {
            std::uint64_t value = 0;
            std::string const& p = cap.params.front();
            std::from_chars_result r = std::from_chars(p.data(), p.data() + p.size(), value);
            if (r.ec == std::errc() && r.ptr == p.data() + p.size())
                caps.size = value;
        }
        caps.items.push_back(std::move(cap));
    }
    return caps;
}

} // namespace smtpprobe::smtp
