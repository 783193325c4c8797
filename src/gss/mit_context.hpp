#pragma once
// sasl::SecurityContext over MIT GSS-API (libgssapi_krb5): what the GSSAPI row uses for real.
// Kerberos is not written here; this file turns the library's calls and status codes into the
// interface of sasl/gssapi.hpp. It may talk to a KDC (that is why it is not in sasl/).

#include "sasl/gssapi.hpp"

#include <memory>

namespace smtpprobe::gss {

/// A context for `request`. Credentials: with a password, a ticket is got for the user
/// (gss_acquire_cred_with_password) into a private in-memory cache, never the caller's; without
/// one, the caller's ticket cache (KRB5CCNAME) serves, as msmtp and curl do. Nothing is
/// acquired before the first initiate().
std::unique_ptr<sasl::SecurityContext> make_mit_context(sasl::GssRequest const& request);

} // namespace smtpprobe::gss
