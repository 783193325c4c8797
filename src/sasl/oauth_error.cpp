#include "sasl/oauth_error.hpp"

#include "smtp/base64.hpp"

#include <cstdint>

namespace smtpprobe::sasl {
namespace {

/// Nesting deeper than this inside a member value makes the whole challenge "not JSON".
constexpr int max_depth = 32;

/// A character of a number or a literal (true, false, null, 1.5e+3).
bool literal_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
}

void append_bounded(std::string& out, std::string_view bytes, std::size_t bound, bool& cut) {
    std::size_t const room = out.size() < bound ? bound - out.size() : 0;
    if (bytes.size() > room)
        cut = true;
    out.append(bytes.substr(0, room));
}

void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
}

/// A JSON reader for one flat object of strings (RFC 8259), bounded, without recursion:
/// nested values are skipped with a depth counter. Raw control bytes inside strings are
/// kept rather than refused: the point is to show what the server said.
class Reader {
public:
    explicit Reader(std::string_view text) : text_(text) {}

    bool object(OAuthError& out) {
        space();
        if (!take('{'))
            return false;
        space();
        if (take('}'))
            return end();
        for (;;) {
            std::string key;
            bool key_cut = false;
            space();
            if (!string(key, max_error_value, key_cut))
                return false;
            space();
            if (!take(':'))
                return false;
            space();
            std::optional<std::string>* slot = member(out, key);
            if (slot != nullptr && !slot->has_value()) { // the first of duplicate keys counts
                std::string value;
                if (!value_text(value, out.truncated))
                    return false;
                *slot = std::move(value);
            } else if (!skip_value()) {
                return false;
            }
            space();
            if (take('}'))
                return end();
            if (!take(','))
                return false;
        }
    }

private:
    static std::optional<std::string>* member(OAuthError& out, std::string_view key) {
        if (key == "status")
            return &out.status;
        if (key == "schemes")
            return &out.schemes;
        if (key == "scope")
            return &out.scope;
        if (key == "openid-configuration")
            return &out.openid_configuration;
        return nullptr;
    }

    bool end() {
        space();
        return pos_ == text_.size();
    }
    void space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\r' || text_[pos_] == '\n'))
            ++pos_;
    }
    bool take(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    std::optional<std::uint32_t> hex4() {
        if (text_.size() - pos_ < 4)
            return std::nullopt;
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            char const c = text_[pos_++];
            int digit = -1;
            if (c >= '0' && c <= '9')
                digit = c - '0';
            else if (c >= 'a' && c <= 'f')
                digit = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                digit = c - 'A' + 10;
            if (digit < 0)
                return std::nullopt;
            value = value << 4 | static_cast<std::uint32_t>(digit);
        }
        return value;
    }

    /// A string at pos_ (the opening quote), unescaped into `out` up to `bound` bytes.
    bool string(std::string& out, std::size_t bound, bool& cut) {
        if (!take('"'))
            return false;
        while (pos_ < text_.size()) {
            char const c = text_[pos_++];
            if (c == '"')
                return true;
            if (c != '\\') {
                append_bounded(out, std::string_view(&c, 1), bound, cut);
                continue;
            }
            if (pos_ >= text_.size())
                return false;
            char const e = text_[pos_++];
            std::string piece;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                piece = std::string(1, e);
                break;
            case 'b':
                piece = "\b";
                break;
            case 'f':
                piece = "\f";
                break;
            case 'n':
                piece = "\n";
                break;
            case 'r':
                piece = "\r";
                break;
            case 't':
                piece = "\t";
                break;
            case 'u': {
                std::optional<std::uint32_t> code = hex4();
                if (!code)
                    return false;
                // A surrogate pair makes one code point; a lone surrogate becomes U+FFFD.
                if (*code >= 0xD800 && *code <= 0xDBFF && text_.substr(pos_, 2) == "\\u") {
                    std::size_t const back = pos_;
                    pos_ += 2;
                    std::optional<std::uint32_t> const low = hex4();
                    if (low && *low >= 0xDC00 && *low <= 0xDFFF)
                        code = 0x10000 + ((*code - 0xD800) << 10) + (*low - 0xDC00);
                    else
                        pos_ = back;
                }
                if (*code >= 0xD800 && *code <= 0xDFFF)
                    code = 0xFFFD;
                append_utf8(piece, *code);
                break;
            }
            default:
                return false;
            }
            append_bounded(out, piece, bound, cut);
        }
        return false; // no closing quote
    }

    /// A member value kept as text: a string unescaped, a number or literal as written.
    /// Objects and arrays are skipped and kept as "{...}" / "[...]".
    bool value_text(std::string& out, bool& cut) {
        if (pos_ < text_.size() && text_[pos_] == '"')
            return string(out, max_error_value, cut);
        std::size_t const start = pos_;
        if (!skip_value())
            return false;
        std::string_view const raw = text_.substr(start, pos_ - start);
        if (!raw.empty() && (raw.front() == '{' || raw.front() == '['))
            out = raw.front() == '{' ? "{...}" : "[...]";
        else
            append_bounded(out, raw, max_error_value, cut);
        return true;
    }

    /// Skips one value of any kind, nesting bounded by max_depth.
    bool skip_value() {
        int depth = 0;
        do {
            space();
            if (pos_ >= text_.size())
                return false;
            char const c = text_[pos_];
            if (c == '"') {
                std::string ignored;
                bool cut = false;
                if (!string(ignored, 0, cut))
                    return false;
            } else if (c == '{' || c == '[') {
                if (++depth > max_depth)
                    return false;
                ++pos_;
                continue;
            } else if (c == '}' || c == ']') {
                if (depth == 0)
                    return false;
                --depth;
                ++pos_;
            } else if (c == ',' || c == ':') {
                if (depth == 0)
                    return false;
                ++pos_;
                continue;
            } else {
                std::size_t const start = pos_;
                while (pos_ < text_.size() && literal_char(text_[pos_]))
                    ++pos_;
                if (pos_ == start)
                    return false;
            }
        } while (depth > 0);
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

} // namespace

OAuthError decode_oauth_error(std::string_view challenge) {
    OAuthError out;
    if (challenge.empty())
        return out; // Form::empty
    if (challenge.size() > max_error_challenge) {
        out.form = OAuthError::Form::not_base64;
        append_bounded(out.text, challenge, max_error_text, out.truncated);
        return out;
    }
    std::optional<std::string> const bytes = smtp::base64_decode(challenge);
    if (!bytes) {
        out.form = OAuthError::Form::not_base64;
        append_bounded(out.text, challenge, max_error_text, out.truncated);
        return out;
    }
    append_bounded(out.text, *bytes, max_error_text, out.truncated);
    OAuthError parsed;
    if (Reader(*bytes).object(parsed)) {
        out.form = OAuthError::Form::json;
        out.status = std::move(parsed.status);
        out.schemes = std::move(parsed.schemes);
        out.scope = std::move(parsed.scope);
        out.openid_configuration = std::move(parsed.openid_configuration);
        out.truncated = out.truncated || parsed.truncated;
    } else {
        out.form = bytes->empty() ? OAuthError::Form::empty : OAuthError::Form::not_json;
    }
    return out;
}

std::string_view oauth_status_meaning(std::string_view status) noexcept {
    // RFC 6750 §3.1 (the error codes RFC 7628 §3.2.2 puts in "status").
    if (status == "invalid_token")
        return "the token is invalid, expired or revoked";
    if (status == "insufficient_scope")
        return "the token lacks the scope the server needs";
    if (status == "invalid_request")
        return "the request was malformed";
    // Google's XOAUTH2 (developers.google.com/gmail/imap/xoauth2-protocol) uses HTTP codes.
    if (status == "400")
        return "bad request: the token is not one the service accepts, or the request was "
               "malformed";
    if (status == "401")
        return "unauthorised: the token is invalid, expired or revoked";
    if (status == "403")
        return "forbidden: the token lacks the scope or the account may not use this service";
    return {};
}

} // namespace smtpprobe::sasl
