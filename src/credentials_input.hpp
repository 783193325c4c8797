#pragma once
// Where the secrets come from: --password-env/-file/-stdin, --oauth-token-env/-file, or a
// prompt without echo on a terminal. Never from the command line itself (ps would show it).

#include "cli.hpp"

namespace smtpprobe {

/// Fills c.options.credentials when --user was given. Throws UsageError when a named source
/// cannot be read.
void load_credentials(Config& c);

} // namespace smtpprobe
