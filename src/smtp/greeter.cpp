#include "smtp/greeter.hpp"

#include "smtp/ascii.hpp"

namespace smtpprobe::smtp {
namespace {

bool digit(char c) {
    return c >= '0' && c <= '9';
}

/// `bytes` starts with `prefix`, ASCII letters compared without case.
bool starts_with_nocase(std::string_view bytes, std::string_view prefix) {
    return bytes.size() >= prefix.size() && iequals(bytes.substr(0, prefix.size()), prefix);
}

/// `word` followed by a space, a line end or the end of what arrived so far.
bool word_at_start(std::string_view bytes, std::string_view word) {
    if (!starts_with_nocase(bytes, word))
        return false;
    if (bytes.size() == word.size())
        return true;
    char const next = bytes[word.size()];
    return next == ' ' || next == '\r' || next == '\n';
}

} // namespace

Greeter identify_greeter(std::string_view bytes) noexcept {
    if (bytes.empty())
        return Greeter::none;
    unsigned char const first = static_cast<unsigned char>(bytes[0]);
    if ((first == 21 || first == 22) && bytes.size() >= 2 && bytes[1] == '\x03')
        return Greeter::tls;
    if (bytes.size() >= 3 && digit(bytes[0]) && digit(bytes[1]) && digit(bytes[2]) &&
        (bytes.size() == 3 || bytes[3] == ' ' || bytes[3] == '-' || bytes[3] == '\r' ||
         bytes[3] == '\n'))
        return Greeter::smtp;
    if (bytes.starts_with("SSH-"))
        return Greeter::ssh;
    if (bytes.starts_with("HTTP/"))
        return Greeter::http;
    if (word_at_start(bytes, "* OK") || word_at_start(bytes, "* PREAUTH") ||
        word_at_start(bytes, "* BYE"))
        return Greeter::imap;
    if (word_at_start(bytes, "+OK") || word_at_start(bytes, "-ERR"))
        return Greeter::pop3;
    return Greeter::unknown;
}

std::string_view protocol_name(Greeter greeter) noexcept {
    switch (greeter) {
    case Greeter::none:
        return "nothing";
    case Greeter::smtp:
        return "SMTP";
    case Greeter::http:
        return "HTTP";
    case Greeter::ssh:
        return "SSH";
    case Greeter::imap:
        return "IMAP";
    case Greeter::pop3:
        return "POP3";
    case Greeter::tls:
        return "TLS";
    case Greeter::unknown:
        break;
    }
    return "unknown";
}

} // namespace smtpprobe::smtp
