#include "diagnose/status_codes.hpp"

#include "diagnose/status_texts.hpp"
#include "smtp/ascii.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace smtpprobe::diagnose {

namespace {

using detail::Overlay;
using detail::overlays;
using detail::reply_codes;
using detail::ReplyCodeInfo;
using detail::Vendor;
using detail::vendor_source;
using smtp::ascii_lower;

constexpr RegistryEntry registry[] = {
#include "diagnose/status_registry.inc"
};

Vendor vendor_from_hint(std::string_view hint) {
    if (smtp::icontains(hint, "azurecomm")) {
        return Vendor::azure_acs;
    }
    // Host names of Microsoft 365 and the "Microsoft ESMTP MAIL Service" banner of Exchange.
    for (std::string_view marker : {"office365", "outlook.com", "microsoft", "exchange"}) {
        if (smtp::icontains(hint, marker)) {
            return Vendor::microsoft;
        }
    }
    // Gmail replies end in "- gsmtp".
    for (std::string_view marker : {"gmail", "google", "gsmtp"}) {
        if (smtp::icontains(hint, marker)) {
            return Vendor::google;
        }
    }
    return Vendor::none;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// RFC 3463 §2: 1*3 digits, no leading zeros.
std::optional<int> parse_code_part(std::string_view part) {
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part.front() == '0')) {
        return std::nullopt;
    }
    int value = 0;
    for (char c : part) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

struct EnhancedCode {
    char cls; // '2', '4', '5' or 'X'
    int subject;
    int detail;
};

std::optional<EnhancedCode> parse_enhanced(std::string_view text) {
    std::size_t const first_dot = text.find('.');
    if (first_dot != 1) {
        return std::nullopt;
    }
    char cls = text.front();
    if (cls == 'x') {
        cls = 'X';
    }
    if (cls != '2' && cls != '4' && cls != '5' && cls != 'X') {
        return std::nullopt;
    }
    std::size_t const second_dot = text.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos) {
        return std::nullopt;
    }
    std::optional<int> const subject = parse_code_part(text.substr(2, second_dot - 2));
    std::optional<int> const detail = parse_code_part(text.substr(second_dot + 1));
    if (!subject || !detail) {
        return std::nullopt;
    }
    return EnhancedCode{cls, *subject, *detail};
}

// RFC 5321 §4.2 ABNF: Reply-code = %x32-35 %x30-35 %x30-39.
bool valid_reply_code(int code) {
    return code >= 200 && code <= 599 && (code / 10) % 10 <= 5;
}

// "RFC7505; RFC7504" -> "RFC 7505, RFC 7504"; the parenthesised remark some entries carry goes
// to `note`.
std::string pretty_reference(std::string_view reference, std::string& note) {
    std::size_t const paren = reference.find(" (");
    if (paren != std::string_view::npos) {
        note = std::string(reference.substr(paren + 1));
        reference = reference.substr(0, paren);
    }
    std::string out;
    for (std::size_t i = 0; i < reference.size(); ++i) {
        char const c = reference[i];
        if (c == ';') {
            out += ',';
            continue;
        }
        out += c;
        if (reference.substr(i, 3) == "RFC" && i + 3 < reference.size() &&
            is_digit(reference[i + 3])) {
            out += "FC ";
            i += 2;
        }
    }
    return out;
}

std::string_view subject_meaning(int subject) {
    // RFC 3463 §2 (details enumerated in §3.1-§3.8).
    switch (subject) {
    case 0:
        return "Other or undefined status";
    case 1:
        return "Addressing status";
    case 2:
        return "Mailbox status";
    case 3:
        return "Mail system status";
    case 4:
        return "Network and routing status";
    case 5:
        return "Mail delivery protocol status";
    case 6:
        return "Message content or media status";
    case 7:
        return "Security or policy status";
    default:
        return "";
    }
}

std::string_view registry_advice(int subject, int detail) {
    if (subject != 7) {
        return "";
    }
    switch (detail) {
    case 8:
        return "Check the user name and the password or token.";
    case 9:
        return "Configure the client to use a stronger mechanism the server offers.";
    case 10:
    case 11:
        return "Use STARTTLS or implicit TLS before authenticating.";
    case 13:
        return "The account is disabled: ask the provider or administrator to enable it.";
    default:
        return "";
    }
}

void explain_reply(int reply_code, std::vector<Meaning>& out) {
    std::string const subject = std::to_string(reply_code);
    if (!valid_reply_code(reply_code)) {
        out.push_back({subject,
                       "Not a valid SMTP reply code: the first digit must be 2-5 and the second "
                       "0-5, and clients should treat such a reply as fatal.",
                       "RFC 5321 §4.2", "Report it as a protocol violation by the server."});
        return;
    }
    bool known = false;
    for (ReplyCodeInfo const& info : reply_codes) {
        if (info.code == reply_code) {
            out.push_back({subject, std::string(info.text), std::string(info.source),
                           std::string(info.advice)});
            known = true;
        }
    }
    if (known) {
        return;
    }
    // RFC 5321 §4.2: unknown codes must be interpreted by their first digit.
    static constexpr std::array<std::string_view, 6> first = {"",
                                                              "",
                                                              "Positive Completion",
                                                              "Positive Intermediate",
                                                              "Transient Negative Completion",
                                                              "Permanent Negative Completion"};
    static constexpr std::array<std::string_view, 6> second = {
        "syntax", "information", "connections", "unspecified", "unspecified", "mail system"};
    std::size_t const first_digit = static_cast<std::size_t>(reply_code / 100);
    std::size_t const second_digit = static_cast<std::size_t>((reply_code / 10) % 10);
    out.push_back({subject,
                   "Not a code RFC 5321 or RFC 4954 defines; by its digits: " +
                       std::string(first[first_digit]) + ", category " +
                       std::string(second[second_digit]) + ".",
                   "RFC 5321 §4.2.1", ""});
}

void explain_enhanced(EnhancedCode const& code, std::vector<Meaning>& out) {
    std::string const tail = "." + std::to_string(code.subject) + "." + std::to_string(code.detail);
    switch (code.cls) {
    case '2':
        out.push_back({"2.X.X", "Class 2: success.", "RFC 3463 §2", ""});
        break;
    case '4':
        out.push_back({"4.X.X",
                       "Class 4: persistent transient failure; the same request may succeed "
                       "later.",
                       "RFC 3463 §2", ""});
        break;
    case '5':
        out.push_back({"5.X.X",
                       "Class 5: permanent failure; repeating the request unchanged will fail "
                       "again.",
                       "RFC 3463 §2", ""});
        break;
    default:
        break;
    }
    std::string const key = "X" + tail;
    for (RegistryEntry const& entry : registry) {
        if (entry.code == key) {
            std::string note;
            std::string const reference = pretty_reference(entry.reference, note);
            std::string text(entry.text);
            if (!note.empty()) {
                text += " " + note;
            }
            if (text.back() != ')' && text.back() != '.') {
                text += ".";
            }
            out.push_back({key, std::move(text),
                           "IANA SMTP Enhanced Status Codes (" + reference + ")",
                           std::string(registry_advice(code.subject, code.detail))});
            return;
        }
    }
    // RFC 3463 §2: a client that does not know the detail still uses the subject.
    std::string_view const meaning = subject_meaning(code.subject);
    std::string const subject_key = "X." + std::to_string(code.subject) + ".X";
    if (meaning.empty()) {
        out.push_back({subject_key,
                       "Subject " + std::to_string(code.subject) +
                           " is not defined by RFC 3463 and " + key +
                           " is not in the IANA registry.",
                       "RFC 3463 §2", ""});
        return;
    }
    out.push_back({subject_key, std::string(meaning) + "; " + key + " is not in the IANA registry.",
                   "RFC 3463 §2", ""});
}

bool overlay_matches_reply(Overlay const& overlay, int reply_code) {
    if (overlay.reply == 0 || reply_code == 0) {
        return true;
    }
    if (overlay.reply < 10) {
        return reply_code / 100 == overlay.reply;
    }
    return reply_code == overlay.reply;
}

void add_overlays(int reply_code, EnhancedCode const& code, Vendor hinted,
                  std::vector<Meaning>& out) {
    std::string const subject = std::string(1, code.cls) + "." + std::to_string(code.subject) +
                                "." + std::to_string(code.detail);
    for (Overlay const& overlay : overlays) {
        if (overlay.subject != code.subject || overlay.detail != code.detail ||
            !overlay_matches_reply(overlay, reply_code)) {
            continue;
        }
        bool const exact = overlay.vendor == hinted;
        // ACS is a Microsoft service, but whether it shares Exchange Online's codes is not
        // documented: show Exchange's meanings marked, as for an unknown server.
        bool const related = hinted == Vendor::azure_acs && overlay.vendor == Vendor::microsoft;
        if (!exact && !(overlay.well_known && (hinted == Vendor::none || related))) {
            continue;
        }
        std::string text(overlay.text);
        if (!exact) {
            text = "(vendor meaning) " + text;
        }
        out.push_back({subject, std::move(text), std::string(vendor_source(overlay.vendor)),
                       std::string(overlay.advice)});
    }
}

} // namespace

std::span<RegistryEntry const> enhanced_status_registry() noexcept {
    return registry;
}

std::vector<Meaning> explain(int reply_code, std::string_view enhanced,
                             std::string_view vendor_hint) {
    std::vector<Meaning> out;
    if (reply_code != 0) {
        explain_reply(reply_code, out);
    }
    if (enhanced.empty()) {
        return out;
    }
    std::optional<EnhancedCode> const code = parse_enhanced(enhanced);
    if (!code) {
        out.push_back({std::string(enhanced),
                       "Not a valid enhanced status code: the form is class.subject.detail, "
                       "class 2, 4 or 5, subject and detail one to three digits without leading "
                       "zeros.",
                       "RFC 3463 §2", ""});
        return out;
    }
    explain_enhanced(*code, out);
    add_overlays(reply_code, *code, vendor_from_hint(vendor_hint), out);
    return out;
}

std::optional<CodeQuery> parse_code_query(std::string_view text) {
    auto const is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    CodeQuery query;
    // A reply code is three digits followed by the end, a space or the "-" of a multiline
    // reply (RFC 5321 §4.2.1), so "504-5.7.4" splits like "504 5.7.4".
    if (text.size() >= 3 && is_digit(text[0]) && is_digit(text[1]) && is_digit(text[2]) &&
        (text.size() == 3 || is_space(text[3]) || text[3] == '-')) {
        int const code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
        if (valid_reply_code(code)) {
            query.reply_code = code;
        }
        text.remove_prefix(3);
        while (!text.empty() && (is_space(text.front()) || text.front() == '-')) {
            text.remove_prefix(1);
        }
    }
    std::size_t end = 0;
    while (end < text.size() && !is_space(text[end])) {
        ++end;
    }
    std::string_view const token = text.substr(0, end);
    if (parse_enhanced(token)) {
        query.enhanced = std::string(token);
        if (query.enhanced.front() == 'x') {
            query.enhanced.front() = 'X';
        }
    }
    if (query.reply_code == 0 && query.enhanced.empty()) {
        return std::nullopt;
    }
    return query;
}

} // namespace smtpprobe::diagnose
