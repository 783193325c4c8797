#include "report/report.hpp"

namespace smtpprobe {

std::string_view to_string(TlsMode mode) noexcept {
    switch (mode) {
    case TlsMode::auto_:
        return "auto";
    case TlsMode::starttls:
        return "starttls";
    case TlsMode::implicit:
        return "implicit";
    case TlsMode::none:
        return "none";
    }
    return "?";
}

std::optional<TlsMode> parse_tls_mode(std::string_view text) noexcept {
    for (TlsMode mode : {TlsMode::auto_, TlsMode::starttls, TlsMode::implicit, TlsMode::none})
        if (to_string(mode) == text)
            return mode;
    return std::nullopt;
}

std::string_view to_string(Severity severity) noexcept {
    switch (severity) {
    case Severity::info:
        return "info";
    case Severity::warning:
        return "warning";
    case Severity::error:
        return "error";
    }
    return "?";
}

std::string_view to_string(CheckState state) noexcept {
    switch (state) {
    case CheckState::ok:
        return "OK";
    case CheckState::warning:
        return "WARNING";
    case CheckState::critical:
        return "CRITICAL";
    case CheckState::unknown:
        return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::string_view to_string(Status status) noexcept {
    switch (status) {
    case Status::pending:
        return "pending";
    case Status::recognised:
        return "recognised";
    case Status::not_supported:
        return "not_supported";
    case Status::refused:
        return "refused";
    case Status::temporary_failure:
        return "temporary_failure";
    case Status::accepted:
        return "accepted";
    case Status::rejected:
        return "rejected";
    case Status::error:
        return "error";
    case Status::skipped:
        return "skipped";
    }
    return "?";
}

MechanismRow const* find_row(std::vector<MechanismRow> const& rows,
                             std::string_view name) noexcept {
    for (MechanismRow const& m : rows)
        if (m.name == name)
            return &m;
    return nullptr;
}

std::string code_or_status(std::optional<smtp::Reply> const& reply, Status status) {
    return reply ? std::to_string(reply->code) : std::string(to_string(status));
}

std::string AddressProbe::banner_host() const {
    if (!banner || banner->lines.empty())
        return {};
    std::string const& first = banner->lines.front();
    return first.substr(0, first.find(' '));
}

std::string escape_bytes(std::string_view bytes) {
    static char const hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : bytes) {
        unsigned char const u = static_cast<unsigned char>(c);
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\\')
            out += "\\\\";
        else if (u < 0x20 || u >= 0x7f) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else
            out += c;
    }
    return out;
}

std::string escape_controls(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char const u = static_cast<unsigned char>(text[i]);
        // C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) include CSI, a terminal escape.
        bool const c1 = u == 0xc2 && i + 1 < text.size() &&
                        static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(text[i + 1]) <= 0x9f;
        if (c1) {
            out += escape_bytes(text.substr(i, 2));
            ++i;
        } else if (u < 0x20 || u == 0x7f || u == '\\') {
            out += escape_bytes(text.substr(i, 1));
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string_view to_string(NtlmInfo::Outcome outcome) noexcept {
    switch (outcome) {
    case NtlmInfo::Outcome::decoded:
        return "decoded";
    case NtlmInfo::Outcome::malformed:
        return "malformed";
    case NtlmInfo::Outcome::refused:
        return "refused";
    }
    return "?";
}

} // namespace smtpprobe
