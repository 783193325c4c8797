// libFuzzer target: the GSSAPI security-layer message (RFC 4752 §3.1) and the client's step
// machine around it (src/sasl/gssapi.cpp), over a fake security context (Kerberos itself is the
// system library's). The first byte chooses the mode:
//   0: parse_layer_offer() on the rest, raw;
//   1: an exchange: the second byte the script (bit 0: the context completes with the first
//      token, no AP-REP; bit 1: the first call fails; bit 2: an authzid), then challenges
//      separated by "\n--\n", each handed to Client::respond().
// Checked on every input:
//   - parse_layer_offer() returns an offer exactly when it gives no error; an offer came from
//     exactly 4 octets, offers "no security layer" and has only defined bits;
//   - every respond of the layer step is wrap(0x01 00 00 00 + authzid), and at most one;
//   - nothing is sent after a cancel, and a cancel has words; server_verified only after the
//     context completed; at most 8 steps answered.
// tests/fuzz/run.sh builds and runs it; seeds are in tests/fuzz/corpus/gssapi_fuzz.

#include "fuzz_check.hpp"
#include "sasl/gssapi.hpp"
#include "sasl/sasl.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sasl = smtpprobe::sasl;

namespace {

constexpr std::string_view authzid = "shared@example.test";

struct Script {
    bool no_mutual = false;
    bool first_fails = false;
    bool complete = false;
};

/// The fake context: "AP-REQ" first; any later token completes the context unless it is
/// "bad"; wrap prefixes "W:", unwrap requires and removes it.
class Fake final : public sasl::SecurityContext {
public:
    explicit Fake(Script& s) : s_(s) {}
    sasl::GssResult initiate(std::string_view token) override {
        sasl::GssResult r;
        FUZZ_CHECK(!s_.complete); // never called again once complete
        if (token.empty()) {
            if (s_.first_fails) {
                r.failure = sasl::GssFailure::cannot_try;
                r.error = "No Kerberos credentials available";
                return r;
            }
            r.token = "AP-REQ";
            r.complete = s_.no_mutual;
        } else if (token == "bad") {
            r.failure = sasl::GssFailure::server_token;
            r.error = "A token was invalid";
            return r;
        } else {
            r.complete = true;
        }
        s_.complete = r.complete;
        return r;
    }
    sasl::GssResult wrap(std::string_view message) override {
        FUZZ_CHECK(s_.complete);
        sasl::GssResult r;
        r.token = "W:" + std::string(message);
        return r;
    }
    sasl::GssResult unwrap(std::string_view message) override {
        FUZZ_CHECK(s_.complete);
        sasl::GssResult r;
        if (message.substr(0, 2) != "W:") {
            r.failure = sasl::GssFailure::server_token;
            r.error = "A token was invalid";
            return r;
        }
        r.token = std::string(message.substr(2));
        return r;
    }

private:
    Script& s_;
};

void check_offer(std::string_view input) {
    sasl::gssapi::LayerOfferResult const r = sasl::gssapi::parse_layer_offer(input);
    FUZZ_CHECK(r.offer.has_value() == r.error.empty());
    if (!r.offer)
        return;
    FUZZ_CHECK(input.size() == 4);
    FUZZ_CHECK((r.offer->layers & sasl::gssapi::layer_none) != 0);
    FUZZ_CHECK((r.offer->layers & ~0x07) == 0);
    FUZZ_CHECK(r.offer->max_size <= 0xffffff);
}

std::vector<std::string_view> split(std::string_view data) {
    std::vector<std::string_view> out;
    constexpr std::string_view separator = "\n--\n";
    for (;;) {
        std::size_t const at = data.find(separator);
        out.push_back(data.substr(0, at));
        if (at == std::string_view::npos)
            return out;
        data.remove_prefix(at + separator.size());
    }
}

void exchange(std::uint8_t choice, std::string_view data) {
    Script script;
    script.no_mutual = (choice & 1) != 0;
    script.first_fails = (choice & 2) != 0;
    sasl::ClientOptions options;
    options.host = "mx.example.test";
    if (choice & 4)
        options.authzid = std::string(authzid);
    options.gss_context = [&script](sasl::GssRequest const& request) {
        FUZZ_CHECK(request.service_name == "smtp@mx.example.test");
        return std::unique_ptr<sasl::SecurityContext>(std::make_unique<Fake>(script));
    };
    std::optional<sasl::Client> client =
        sasl::Client::create("GSSAPI", {"alice", "secret", {}}, options);
    FUZZ_CHECK(client.has_value());
    bool cancelled = false;
    int layer_answers = 0;
    std::string const answer =
        "W:" + sasl::gssapi::layer_answer((choice & 4) ? authzid : std::string_view());
    for (std::string_view challenge : split(data)) {
        bool const complete_before = script.complete;
        sasl::ClientStep const step = client->respond(challenge);
        if (step.kind == sasl::ClientStep::Kind::cancel) {
            FUZZ_CHECK(!step.error.empty());
            cancelled = true;
            continue;
        }
        FUZZ_CHECK(!cancelled);
        if (complete_before) {
            // The layer step: only the one answer RFC 4752 §3.1 allows, once.
            FUZZ_CHECK(step.data == answer);
            ++layer_answers;
        }
        FUZZ_CHECK(layer_answers <= 1);
        FUZZ_CHECK(client->responses().size() <= 8);
    }
    FUZZ_CHECK(!client->server_verified() || script.complete);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    if (size < 1)
        return 0;
    std::string_view const input(reinterpret_cast<char const*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        check_offer(input);
    } else if (!input.empty()) {
        exchange(static_cast<std::uint8_t>(input[0]), input.substr(1));
    }
    return 0;
}
