#pragma once
// Where the secrets come from: --password-env/-file/-stdin, --oauth-token-env/-file, or a
// prompt without echo on a terminal; the same for the proxy's password. Never from the command line
// itself (ps would show it).

#include "cli.hpp"

namespace smtpprobe {

/// Fills c.options.credentials when --user was given. Throws UsageError when a named source
/// cannot be read.
void load_credentials(Config& c);

/// Sets c.options.connection.proxy for this target, as curl would choose it
/// (net::choose_proxy: --proxy, --noproxy, ALL_PROXY, NO_PROXY), with its password from
/// --proxy-password-env/-file. Bad URLs and missing passwords are usage errors.
void resolve_proxy(Config& c);

} // namespace smtpprobe
