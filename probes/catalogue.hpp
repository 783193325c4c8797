#pragma once
// The one ordered table of SASL mechanisms the AUTH matrix always probes (ARCHITECTURE §3).
// Table order is report order; mechanisms a server advertises beyond it are appended.

#include <span>
#include <string_view>

namespace smtpprobe::probes {

struct MechanismInfo {
    std::string_view name;
    bool client_first;     ///< RFC 4422: the client speaks first (empty 334 expected)
    std::string_view spec; ///< where it is defined
};

std::span<MechanismInfo const> catalogue() noexcept;
MechanismInfo const* find_mechanism(std::string_view name) noexcept;

} // namespace smtpprobe::probes
