// The words of the AUTH matrix's cells, shared by the text and HTML reports.

#include "render/cells.hpp"

#include "report/auth_verdict.hpp"
#include "report/words.hpp"

namespace smtpprobe::cells {
namespace {
/// The decoded error challenge of a refused token, escaped for the terminal: "error
/// challenge: status 400, schemes Bearer, scope https://mail.google.com/".
std::string oauth_error_text(sasl::OAuthError const& e) {
    using Form = sasl::OAuthError::Form;
    std::string out;
    switch (e.form) {
    case Form::json: {
        std::vector<std::string> parts;
        auto part = [&](std::string_view name, std::optional<std::string> const& value) {
            if (value)
                parts.push_back(std::string(name) + " " + escape_controls(*value));
        };
        part("status", e.status);
        part("schemes", e.schemes);
        part("scope", e.scope);
        part("openid-configuration", e.openid_configuration);
        out = "error challenge: " +
              (parts.empty() ? std::string("{} (no status)") : join(parts, ", "));
        break;
    }
    case Form::not_json:
        out = "error challenge (not JSON): \"" + escape_controls(e.text) + "\"";
        break;
    case Form::not_base64:
        out = "error challenge (not base64): \"" + escape_controls(e.text) + "\"";
        break;
    case Form::empty:
        out = "empty error challenge";
        break;
    }
    if (e.truncated)
        out += " (cut)";
    return out;
}

} // namespace

std::string recognised_cell(Recognition const& r) {
    switch (r.status) {
    case Status::recognised:
        return "yes";
    case Status::accepted:
        return "yes (235!)";
    case Status::not_supported:
        return "no";
    case Status::refused:
        return "refused";
    case Status::temporary_failure:
        return "temp. fail";
    case Status::error:
        return "error";
    case Status::skipped:
        return "skipped";
    default:
        return "?";
    }
}

std::string recognition_detail(Recognition const& r) {
    std::string out;
    if (r.reply) {
        out = r.reply->code == 334 ? "334" : r.reply->summary();
        if (r.reply->code == 334 && r.challenge)
            out += " \"" + *r.challenge + "\"";
    }
    if (r.cancel_reply)
        out += ", \"*\" -> " + std::to_string(r.cancel_reply->code) +
               (r.cancel_reply->enhanced().empty() ? "" : " " + r.cancel_reply->enhanced());
    if (!r.note.empty() && (r.status == Status::error || r.status == Status::skipped || !r.reply))
        out += (out.empty() ? "" : "; ") + r.note;
    return out;
}

/// The AUTHENTICATED column: the row's verdict in words, never a bare failure. Why a row
/// could not be tried goes in the REPLY column or the notes under the table.
std::string auth_cell(MechanismRow const& m) {
    switch (auth_verdict(m)) {
    case AuthVerdict::accepted:
        return "yes";
    case AuthVerdict::credentials_refused:
        return "credentials refused";
    case AuthVerdict::token_refused:
        return "token refused";
    case AuthVerdict::mechanism_not_supported:
        return "not supported";
    case AuthVerdict::cannot_try:
        break;
    }
    return "cannot try";
}

/// The REPLY column with credentials: the exchange's last reply when credentials went out.
std::string auth_detail(MechanismRow const& m) {
    Authentication const& a = m.authentication;
    bool const attempted = a.status != Status::skipped && a.reply;
    if (!attempted) {
        std::string out = recognition_detail(m.recognition);
        // An exchange that broke without a reply says why here (a recognised row that was not
        // tried says it in the notes under the table).
        if (a.status != Status::skipped && !a.reason.empty())
            out += (out.empty() ? "" : "; ") + a.reason;
        return out;
    }
    std::string out = a.reply->summary();
    if (a.status != Status::accepted && a.status != Status::rejected && !a.reason.empty())
        out += " (" + a.reason + ")";
    if (a.oauth_error)
        out += "; " + oauth_error_text(*a.oauth_error);
    if (a.server_verified)
        out += sasl::uses_ticket(m.name) ? "; the server proved it holds the service's key"
                                         : "; the server proved it knows the password";
    if (std::string_view const binding = sasl::channel_binding_name(a.channel_binding);
        !binding.empty() && a.status == Status::accepted)
        out += "; bound to this TLS session (" + std::string(binding) + ")";
    return out;
}

std::string validity(net::CertificateInfo const& c) {
    std::string out = "valid " + c.not_before + " to " + c.not_after + " (";
    if (c.days_until_valid > 0)
        out += "not valid for another " + std::to_string(c.days_until_valid) + " day(s)";
    else if (c.days_left < 0)
        out += "expired " + std::to_string(-c.days_left) + " day(s) ago";
    else
        out += std::to_string(c.days_left) + " day(s) left";
    return out + ")";
}

std::string proxy_text(ConnectionPath const& p) {
    std::string line = p.proxy;
    if (!p.proxy_variable.empty())
        line += " (from the environment: " + p.proxy_variable + ")";
    if (!p.proxy_address.empty())
        line += ", reached at " + p.proxy_address;
    if (p.proxy_resolved)
        line += "; the proxy resolved the name";
    if (!p.proxy_bound.empty())
        line += "; its outbound address: " + p.proxy_bound;
    return line;
}

Finding const* worst_finding(std::vector<Finding> const& findings) noexcept {
    Finding const* worst = nullptr;
    for (Finding const& f : findings)
        if (worst == nullptr || f.severity > worst->severity)
            worst = &f;
    return worst;
}

std::string envelope_context(Envelope const& e) {
    std::string how = e.connection == 0 ? std::string("no connection")
                                        : "connection " + std::to_string(e.connection);
    how += e.authenticated ? ", after AUTH " + e.mechanism : ", not authenticated";
    how += e.message_sent     ? "; a message was sent"
           : e.send_requested ? "; --send: no message was sent"
                              : "; no DATA: no message was sent";
    return how;
}

std::string envelope_outcome(Envelope const& e) {
    if (e.message_sent)
        return "A test message WAS SENT to " + join(e.recipients, ", ") +
               (e.queue_id.empty() ? std::string(" (no queue id in the reply)")
                                   : ", queued as " + e.queue_id) +
               " (" + std::to_string(e.message_bytes) + " bytes, " +
               (e.message_built ? "built by smtpprobe" : "from --data-file") + ").";
    if (e.send_requested)
        return "--send: NO message was sent" + (e.not_sent.empty()
                                                    ? std::string(" (see the replies below).")
                                                    : ": " + e.not_sent + ".");
    return {};
}

} // namespace smtpprobe::cells
