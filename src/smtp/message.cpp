#include "smtp/message.hpp"

#include "smtp/ascii.hpp"

#include <algorithm>
#include <ctime>

namespace smtpprobe::smtp {

DataPayload data_payload(std::string_view message) {
    DataPayload out;
    out.wire.reserve(message.size() + message.size() / 32 + 8);
    bool line_start = true;
    auto end_line = [&] {
        out.wire += "\r\n";
        ++out.lines;
        line_start = true;
    };
    for (std::size_t i = 0; i < message.size(); ++i) {
        char const c = message[i];
        if (c == '\r') {
            if (i + 1 < message.size() && message[i + 1] == '\n')
                ++i; // CRLF
            else
                ++out.bare_cr;
            end_line();
            continue;
        }
        if (c == '\n') {
            ++out.bare_lf;
            end_line();
            continue;
        }
        if (line_start && c == '.') {
            out.wire += '.';
            ++out.dots_stuffed;
        }
        line_start = false;
        out.wire += c;
    }
    if (!line_start || message.empty()) {
        out.final_crlf_added = true;
        end_line();
    }
    out.wire += ".\r\n";
    return out;
}

// --send's message and its reply (message.hpp).

namespace {

constexpr std::string_view day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string two_digits(int n) {
    return std::string(1, static_cast<char>('0' + n / 10)) + static_cast<char>('0' + n % 10);
}

bool space(char c) {
    return c == ' ' || c == '\t';
}

/// The word of `text` that starts at `at`: up to the next space, without a trailing
/// punctuation mark; at most 200 bytes (a server's text is not trusted to be short).
std::string word_at(std::string_view text, std::size_t at) {
    std::size_t end = at;
    while (end < text.size() && !space(text[end]))
        ++end;
    std::string_view word = text.substr(at, std::min<std::size_t>(end - at, 200));
    while (!word.empty() && (word.back() == ',' || word.back() == ';' || word.back() == ')' ||
                             (word.back() == '.' && word.front() != '<')))
        word.remove_suffix(1);
    return std::string(word);
}

/// Where `needle` starts in `text` (ASCII case ignored), or npos.
std::size_t ifind(std::string_view text, std::string_view needle) {
    for (std::size_t at = 0; at + needle.size() <= text.size(); ++at)
        if (iequals(text.substr(at, needle.size()), needle))
            return at;
    return std::string_view::npos;
}

} // namespace

std::string rfc5322_date(std::int64_t seconds) {
    std::tm tm{};
    auto const t = static_cast<std::time_t>(seconds);
    if (::gmtime_r(&t, &tm) == nullptr || tm.tm_year < 0 || tm.tm_year > 8099)
        return "Thu, 01 Jan 1970 00:00:00 +0000";
    return std::string(day_names[tm.tm_wday]) + ", " + two_digits(tm.tm_mday) + " " +
           std::string(month_names[tm.tm_mon]) + " " + std::to_string(tm.tm_year + 1900) + " " +
           two_digits(tm.tm_hour) + ":" + two_digits(tm.tm_min) + ":" + two_digits(tm.tm_sec) +
           " +0000";
}

std::string message_id_domain(TestMessage const& m) {
    std::size_t const at = m.from.rfind('@');
    if (at != std::string::npos && at + 1 < m.from.size())
        return m.from.substr(at + 1);
    return m.client_host.empty() ? std::string("smtpprobe.invalid") : m.client_host;
}

std::string build_test_message(TestMessage const& m) {
    std::string const date = rfc5322_date(m.date);
    std::string const where =
        m.client_host.empty() ? std::string("an unnamed host") : m.client_host;
    std::string to;
    for (std::string const& rcpt : m.to)
        to += (to.empty() ? "<" : ", <") + rcpt + ">";
    std::vector<std::string> const lines = {
        "From: <" + m.from + ">",
        "To: " + to,
        "Date: " + date,
        "Message-ID: <smtpprobe." + m.run_id + "@" + message_id_domain(m) + ">",
        "Subject: smtpprobe test message " + date + " (run " + m.run_id + ")",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 7bit",
        "Auto-Submitted: auto-generated",
        "",
        "This is a test message from smtpprobe, an SMTP diagnostic tool.",
        "",
        "It was sent by <" + m.from + "> from " + where + " through " + m.server + ",",
        "because someone ran smtpprobe with --send to check that this account can",
        "submit mail end to end (run " + m.run_id + ", " + date + ").",
        "",
        "Nothing needs to be done with it; it can be deleted.",
    };
    std::string out;
    for (std::string const& line : lines)
        out += line + "\r\n";
    return out;
}

std::uint64_t message_size(DataPayload const& payload) {
    return payload.wire.size() - std::string_view(".\r\n").size() - payload.dots_stuffed;
}

std::string queue_id(std::string_view text) {
    // Postfix: "Ok: queued as 4XyZ1k2Lmnz".
    if (std::size_t const at = ifind(text, "queued as "); at != std::string_view::npos)
        return word_at(text, at + std::string_view("queued as ").size());
    // Exim: "OK id=1tJXyZ-000123-AB" ("id=" at the start of a word).
    for (std::size_t at = ifind(text, "id="); at != std::string_view::npos;) {
        if (at == 0 || space(text[at - 1]))
            return word_at(text, at + 3);
        std::size_t const next = ifind(text.substr(at + 1), "id=");
        at = next == std::string_view::npos ? next : at + 1 + next;
    }
    // Exchange Online, ACS: "<message-id> [InternalId=...] Queued mail for delivery".
    if (!text.empty() && text.front() == '<' && ifind(text, "queued") != std::string_view::npos) {
        std::string const id = word_at(text, 0);
        if (id.size() > 2 && id.back() == '>')
            return id;
    }
    // Gmail: "OK  1733491234 d9443c01a7336-2161f2ee4a3si123456ad.1 - gsmtp".
    if (std::size_t const at = ifind(text, " - gsmtp"); at != std::string_view::npos) {
        std::size_t start = at;
        while (start > 0 && !space(text[start - 1]))
            --start;
        if (start < at)
            return std::string(text.substr(start, std::min<std::size_t>(at - start, 200)));
    }
    // Sendmail: "4B6FUa1x012345 Message accepted for delivery".
    if (std::size_t const at = ifind(text, " message accepted for delivery");
        at != std::string_view::npos && at > 0 && text.find(' ') == at)
        return std::string(text.substr(0, std::min<std::size_t>(at, 200)));
    return {};
}

} // namespace smtpprobe::smtp
