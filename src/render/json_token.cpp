// The JSON report's "token" object (round 3 contract 3): the token preflight's facts. Claims
// only; never the token. The user principal is the report's shown form (redacted without
// --show-username), so the claims that name the user are not repeated.

#include "render/json_parts.hpp"

#include <algorithm>

namespace smtpprobe::json_parts {
namespace {

Json text_or_null(std::string const& s) {
    return s.empty() ? Json(nullptr) : Json(s);
}

Json date_or_null(std::optional<std::int64_t> const& value) {
    return value ? Json(*value) : Json(nullptr);
}

/// "exchange_online", "graph" or "other": what the audience is, for Microsoft's rule.
std::string audience_kind(sasl::TokenClaims const& c) {
    auto any = [&](bool (*test)(std::string_view) noexcept) {
        return std::any_of(c.aud.begin(), c.aud.end(),
                           [test](std::string const& a) { return test(a); });
    };
    if (any(sasl::exchange_online_audience))
        return "exchange_online";
    return any(sasl::graph_audience) ? "graph" : "other";
}

} // namespace

Json token_json(Report const& r) {
    TokenPreflight const& p = *r.token;
    sasl::BearerToken const& t = p.token;
    Json out{{"kind", std::string(sasl::to_string(t.kind))},
             {"length", t.length},
             {"signature_checked", false},
             {"error", text_or_null(t.error)},
             {"checked_at", p.checked_at}};
    if (t.kind == sasl::TokenKind::jwt || t.kind == sasl::TokenKind::jwe) {
        Json header{{"alg", text_or_null(t.alg)},
                    {"typ", text_or_null(t.typ)},
                    {"kid", text_or_null(t.kid)}};
        if (t.kind == sasl::TokenKind::jwe)
            header["enc"] = text_or_null(t.enc);
        out["header"] = header;
    } else {
        out["header"] = nullptr;
    }
    if (!t.claims) {
        out["claims"] = nullptr;
        return out;
    }
    sasl::TokenClaims const& c = *t.claims;
    out["claims"] = Json{{"aud", c.aud},
                         {"iss", text_or_null(c.iss)},
                         {"tid", text_or_null(c.tid)},
                         {"scp", c.scp},
                         {"roles", c.roles},
                         {"scope", c.scope},
                         {"exp", date_or_null(c.exp)},
                         {"nbf", date_or_null(c.nbf)},
                         {"iat", date_or_null(c.iat)},
                         {"appid", text_or_null(c.appid)},
                         {"azp", text_or_null(c.azp)},
                         {"idtyp", text_or_null(c.idtyp)},
                         {"ver", text_or_null(c.ver)}};
    out["problems"] = c.problems;
    out["audience"] = audience_kind(c);
    out["app_only"] = c.app_only();
    out["user"] = text_or_null(p.user_shown);
    out["user_claim"] = text_or_null(p.user_claim);
    out["user_matches"] = p.user_matches ? Json(*p.user_matches) : Json(nullptr);
    out["expired"] = c.expired(p.checked_at);
    out["not_yet_valid"] = c.not_yet_valid(p.checked_at);
    out["expires_in_s"] = c.exp ? Json(*c.exp - p.checked_at) : Json(nullptr);
    return out;
}

} // namespace smtpprobe::json_parts
