#include "sasl/scram.hpp"
#include "sasl/sasl.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>

namespace smtpprobe::sasl::detail {
namespace {

EVP_MD const* md_for(ScramHash hash) noexcept {
    return hash == ScramHash::sha1 ? EVP_sha1() : EVP_sha256();
}

unsigned char const* bytes_of(std::string_view text) noexcept {
    return reinterpret_cast<unsigned char const*>(text.data());
}

std::string hmac_with(EVP_MD const* md, std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    // HMAC() takes the key length as int; keys here are passwords or digests, and a key too
    // long for an int is not something a person types, so it yields an empty (never-matching)
    // result instead of a truncated key.
    if (key.size() > static_cast<std::size_t>(INT_MAX) ||
        HMAC(md, key.data(), static_cast<int>(key.size()), bytes_of(data), data.size(), out,
             &size) == nullptr) {
        return {};
    }
    return std::string(reinterpret_cast<char const*>(out), size);
}

bool is_ascii_letter(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

} // namespace

std::optional<std::string> random_bytes(std::size_t count) {
    std::string out(count, '\0');
    if (count > static_cast<std::size_t>(INT_MAX) ||
        RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
        return std::nullopt;
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string cram_md5_digest(std::string_view key, std::string_view data) {
    return to_hex(hmac_md5(key, data));
}

std::string md5(std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), out, &size, EVP_md5(), nullptr) != 1) {
        return {};
    }
    return std::string(reinterpret_cast<char const*>(out), size);
}

std::string hmac_md5(std::string_view key, std::string_view data) {
    return hmac_with(EVP_md5(), key, data);
}

std::string to_hex(std::string_view bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        unsigned char const byte = static_cast<unsigned char>(c);
        out += hex[byte >> 4];
        out += hex[byte & 0x0f];
    }
    return out;
}

std::optional<ScramHash> scram_hash_for(std::string_view mechanism) noexcept {
    if (mechanism == "SCRAM-SHA-1" || mechanism == "SCRAM-SHA-1-PLUS") {
        return ScramHash::sha1;
    }
    if (mechanism == "SCRAM-SHA-256" || mechanism == "SCRAM-SHA-256-PLUS") {
        return ScramHash::sha256;
    }
    return std::nullopt;
}

std::string scram_hmac(ScramHash hash, std::string_view key, std::string_view data) {
    return hmac_with(md_for(hash), key, data);
}

std::string scram_digest(ScramHash hash, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), out, &size, md_for(hash), nullptr) != 1) {
        return {};
    }
    return std::string(reinterpret_cast<char const*>(out), size);
}

std::optional<ScramKeys> scram_keys(ScramHash hash, std::string_view password,
                                    std::string_view salt, unsigned long long iterations) {
    EVP_MD const* md = md_for(hash);
    int const size = EVP_MD_get_size(md);
    if (iterations == 0 || iterations > static_cast<unsigned long long>(INT_MAX) ||
        password.size() > static_cast<std::size_t>(INT_MAX) ||
        salt.size() > static_cast<std::size_t>(INT_MAX) || size <= 0) {
        return std::nullopt;
    }
    // RFC 5802 §2.2: Hi(str, salt, i) is PBKDF2 with HMAC as the PRF and dkLen = the hash size.
    std::string salted(static_cast<std::size_t>(size), '\0');
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), bytes_of(salt),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), md, size,
                          reinterpret_cast<unsigned char*>(salted.data())) != 1) {
        return std::nullopt;
    }
    ScramKeys keys;
    keys.client_key = scram_hmac(hash, salted, "Client Key");
    keys.stored_key = scram_digest(hash, keys.client_key);
    keys.server_key = scram_hmac(hash, salted, "Server Key");
    OPENSSL_cleanse(salted.data(), salted.size());
    if (keys.client_key.empty() || keys.stored_key.empty() || keys.server_key.empty()) {
        return std::nullopt;
    }
    return keys;
}

std::string xor_bytes(std::string_view a, std::string_view b) {
    std::string out(a);
    for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) {
        out[i] = static_cast<char>(out[i] ^ b[i]);
    }
    return out;
}

std::optional<std::string> saslprep(std::string_view text) {
    for (char c : text) {
        unsigned char const byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            return std::nullopt;
        }
    }
    return std::string(text);
}

std::string scram_escape(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char c : name) {
        if (c == '=') {
            out += "=3D";
        } else if (c == ',') {
            out += "=2C";
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> scram_unescape(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == ',') {
            return std::nullopt;
        }
        if (name[i] != '=') {
            out += name[i];
            continue;
        }
        std::string_view const escape = name.substr(i, 3);
        if (escape == "=3D") {
            out += '=';
        } else if (escape == "=2C") {
            out += ',';
        } else {
            return std::nullopt;
        }
        i += 2;
    }
    return out;
}

bool is_scram_nonce(std::string_view nonce) noexcept {
    if (nonce.empty()) {
        return false;
    }
    for (char c : nonce) {
        if (c < 0x21 || c > 0x7e || c == ',') {
            return false;
        }
    }
    return true;
}

std::optional<std::vector<std::pair<char, std::string_view>>>
scram_attributes(std::string_view message) {
    std::vector<std::pair<char, std::string_view>> out;
    std::size_t start = 0;
    while (true) {
        std::size_t const comma = message.find(',', start);
        std::string_view const part = message.substr(start, comma - start);
        if (part.size() < 2 || !is_ascii_letter(part[0]) || part[1] != '=') {
            return std::nullopt;
        }
        out.emplace_back(part[0], part.substr(2));
        if (comma == std::string_view::npos) {
            return out;
        }
        start = comma + 1;
    }
}

std::optional<Gs2Header> parse_gs2_header(std::string_view message) {
    // RFC 5802 §7: gs2-header = gs2-cbind-flag "," [ authzid ] ","
    Gs2Header header;
    std::size_t const first = message.find(',');
    if (first == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view const flag = message.substr(0, first);
    if (flag == "n" || flag == "y") {
        header.flag = flag[0];
    } else if (flag.size() > 2 && flag.substr(0, 2) == "p=") {
        // cb-name = 1*(ALPHA / DIGIT / "." / "-")
        for (char c : flag.substr(2)) {
            bool const ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '.' || c == '-';
            if (!ok) {
                return std::nullopt;
            }
        }
        header.flag = 'p';
        header.cb_name = std::string(flag.substr(2));
    } else {
        return std::nullopt;
    }
    std::size_t const second = message.find(',', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view const authzid = message.substr(first + 1, second - first - 1);
    if (!authzid.empty()) {
        if (authzid.substr(0, 2) != "a=") {
            return std::nullopt;
        }
        std::optional<std::string> unescaped = scram_unescape(authzid.substr(2));
        if (!unescaped || unescaped->empty()) {
            return std::nullopt;
        }
        header.authzid = std::move(*unescaped);
    }
    header.size = second + 1;
    return header;
}

} // namespace smtpprobe::sasl::detail

namespace smtpprobe::sasl {

std::string_view channel_binding_name(ChannelBinding::Type type) noexcept {
    switch (type) {
    case ChannelBinding::Type::tls_unique:
        return "tls-unique";
    case ChannelBinding::Type::tls_exporter:
        return "tls-exporter";
    case ChannelBinding::Type::none:
        break;
    }
    return {};
}

ChannelBinding choose_channel_binding(std::string tls_unique, std::string tls_exporter) {
    if (!tls_unique.empty()) {
        return {ChannelBinding::Type::tls_unique, std::move(tls_unique)};
    }
    if (!tls_exporter.empty()) {
        return {ChannelBinding::Type::tls_exporter, std::move(tls_exporter)};
    }
    return {};
}

} // namespace smtpprobe::sasl
