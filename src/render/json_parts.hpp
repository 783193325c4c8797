#pragma once
// Private to the JSON renderer (report/json*.cpp): the pieces more than one part of the
// document is built from.

#include "report/report.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace smtpprobe::json_parts {

using Json = nlohmann::ordered_json;

Json reply_json(std::optional<smtp::Reply> const& reply);
Json capabilities_json(std::optional<smtp::Capabilities> const& caps);
/// Milliseconds rounded to 0.1, or null.
Json optional_ms(std::optional<double> const& value);
Json or_null(std::string const& s);
Json connection_json(ConnectionPath const& p);
Json tls_info_json(net::TlsInfo const& t);
/// The client certificate offered (--cert): subject, issuer, sha256, not_after, days_left; or
/// null.
Json client_certificate_json(std::optional<net::CertificateInfo> const& c);
Json fatal_error_json(FatalError const& f);

/// --all-addresses: one object per address probed; null without it (render/json_addresses.cpp).
Json address_probes_json(Report const& r);

/// The token preflight (render/json_token.cpp): kind, header, claims, user (as shown), the
/// dates against the local clock (the document's last key, present only with a token).
Json token_json(Report const& r);

/// The judged envelope (Verdict::envelope; render/json_envelope.cpp); present in the document
/// only with --mail-from (an additive schema change).
Json envelope_json(Envelope const& e);

} // namespace smtpprobe::json_parts
