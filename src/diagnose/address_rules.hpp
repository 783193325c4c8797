#pragma once
// Findings over the addresses of one name: with --all-addresses, every difference between
// them (session, TLS, certificate, capabilities, AUTH per mechanism, banner host), naming
// the addresses on each side; without it, how many addresses were not probed.

#include "diagnose/evaluate.hpp"

#include <vector>

namespace smtpprobe::diagnose {

/// A difference that breaks clients on some nodes (no session, no TLS, a certificate that
/// fails verification, a mechanism recognised on some and not on others) is an error; other
/// differences that a client can notice (TLS version, capabilities) are warnings; per-node
/// certificates and banner names are info.
std::vector<Finding> address_findings(Report const& report);

} // namespace smtpprobe::diagnose
