// The text report's "Token" section: what the OAuth token given says about itself (the
// preflight, read before connecting). Claims only; never the token.

#include "render/text_sections.hpp"
#include "report/words.hpp"

namespace smtpprobe::text {
namespace {

std::string audience_note(std::string const& aud) {
    if (sasl::exchange_online_audience(aud))
        return aud + " (Exchange Online)";
    if (sasl::graph_audience(aud))
        return aud + " (Microsoft Graph)";
    return aud;
}

std::string list_or_none(std::vector<std::string> const& items, std::string_view separator) {
    return items.empty() ? std::string("none") : join(items, separator);
}

} // namespace

void token_section(Report const& r, Style const& st, std::string& out) {
    if (!r.token)
        return;
    TokenPreflight const& p = *r.token;
    sasl::BearerToken const& t = p.token;
    auto line = [&](std::string_view label, std::string const& value) {
        out += "  " + pad(label, 13) + wrap(value, 15, 15) + "\n";
    };
    out += st.bold("Token") + "\n";
    std::string const size = std::to_string(t.length) + " bytes";
    switch (t.kind) {
    case sasl::TokenKind::google_opaque:
        line("Kind", "Google access token (ya29., " + size +
                         "): opaque, cannot be read offline; Google checks it");
        out += "\n";
        return;
    case sasl::TokenKind::not_jwt:
        line("Kind", "not a JWT (" + size + "): cannot be read offline" +
                         (t.error.empty() ? "" : "; " + t.error));
        out += "\n";
        return;
    case sasl::TokenKind::jwe:
        line("Kind", "encrypted JWT (JWE, alg " + t.alg + ", enc " + t.enc + ", " + size +
                         "): cannot be read offline");
        out += "\n";
        return;
    case sasl::TokenKind::jwt:
        break;
    }
    line("Kind", "JWT (" + (t.alg.empty() ? std::string("no alg") : t.alg) + ", " + size + "); " +
                     st.yellow("signature not checked") +
                     ": the claims below are what the token says, not proof");
    if (!t.claims) {
        line("Claims", st.red("not decoded: ") + t.error);
        out += "\n";
        return;
    }
    sasl::TokenClaims const& c = *t.claims;
    std::vector<std::string> auds;
    for (std::string const& a : c.aud)
        auds.push_back(audience_note(a));
    line("Audience", list_or_none(auds, ", "));
    line("Issuer", c.iss.empty() ? "none" : c.iss);
    if (!c.tid.empty())
        line("Tenant", c.tid);
    bool const app = c.app_only();
    line("Type", app ? "app-only (client credentials: no user)" : "delegated (a user's token)");
    if (!c.scp.empty() || !app)
        line("Scopes", list_or_none(c.scp, " "));
    if (!c.roles.empty() || app)
        line("Roles", list_or_none(c.roles, ", "));
    if (!c.scope.empty())
        line("Scope", join(c.scope, " "));
    if (!p.user_shown.empty())
        line("User", p.user_shown + " (" + p.user_claim + ")" +
                         (!p.user_matches   ? ""
                          : *p.user_matches ? ", the same as --user"
                                            : ", " + st.red("not --user")));
    else if (!app)
        line("User", "none (no upn, unique_name, preferred_username or email claim)");
    if (std::string const* application = c.application())
        line("Application", *application + (c.appid.empty() ? " (azp)" : " (appid)"));
    auto date = [&](std::string_view label, std::optional<std::int64_t> const& value, bool bad) {
        if (!value)
            return;
        std::string const text =
            utc_time(*value) + " (" + relative_time(*value - p.checked_at) + ")";
        line(label, bad ? st.red(text) : text);
    };
    date("Issued", c.iat, false);
    date("Not before", c.nbf, c.not_yet_valid(p.checked_at));
    date("Expires", c.exp, c.expired(p.checked_at));
    if (!c.exp)
        line("Expires", "never (no exp claim)");
    line("Clock", "local, " + utc_time(p.checked_at));
    out += "\n";
}

} // namespace smtpprobe::text
