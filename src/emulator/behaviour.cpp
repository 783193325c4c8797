#include "emulator/behaviour.hpp"

#include "emulator/object_reader.hpp"

namespace smtpprobe::emulator {
namespace {

constexpr long long max_hold_ms = 3'600'000;
constexpr long long max_drip_interval_ms = 600'000;
constexpr long long max_drip_bytes = 65'536;
constexpr std::size_t max_raw_bytes = 65'536;

std::optional<std::string> raw_bytes(ObjectReader& top, char const* key) {
    std::optional<std::string> text = top.string(key);
    if (text && text->size() > max_raw_bytes) {
        top.context().fail(key, "longer than 65536 bytes");
    }
    return text;
}

} // namespace

Behaviour parse_behaviour(ObjectReader& top) {
    Behaviour behaviour;
    if (std::optional<long long> ms = top.integer("tarpit_ms", 0, max_hold_ms)) {
        behaviour.tarpit = std::chrono::milliseconds(*ms);
    }
    if (std::optional<long long> ms = top.integer("tls_stall_ms", 0, max_hold_ms)) {
        behaviour.tls_stall = std::chrono::milliseconds(*ms);
    }
    if (nlohmann::json const* drip = top.find("banner_drip")) {
        ObjectReader reader(top.context(), *drip, "banner_drip");
        std::optional<long long> bytes = reader.integer("bytes", 1, max_drip_bytes);
        behaviour.drip_bytes = static_cast<std::size_t>(bytes.value_or(1));
        behaviour.drip_interval = std::chrono::milliseconds(
            reader.integer("interval_ms", 0, max_drip_interval_ms).value_or(1000));
        behaviour.drip_every_reply = reader.boolean("every_reply").value_or(false);
        reader.finish();
    }
    behaviour.greeting_raw = raw_bytes(top, "greeting_raw");
    behaviour.after_first_line = raw_bytes(top, "after_first_line");
    if (behaviour.after_first_line && !behaviour.greeting_raw) {
        top.context().fail("after_first_line", "goes with greeting_raw");
    }
    if (behaviour.greeting_raw && behaviour.tarpit.count() > 0) {
        top.context().fail("greeting_raw", "a tarpit (tarpit_ms) sends no greeting");
    }
    if (std::optional<std::string> kind = top.string("certificate")) {
        std::optional<CertificateKind> parsed = parse_certificate_kind(*kind);
        if (!parsed) {
            top.context().fail("certificate", "expected \"valid\", \"expired\", \"self-signed\" or "
                                              "\"wrong-host\", got \"" +
                                                  *kind + "\"");
        }
        behaviour.certificate = *parsed;
    }
    return behaviour;
}

} // namespace smtpprobe::emulator
