#include "render/render.hpp"

#include "render/cells.hpp"
#include "render/text_sections.hpp"
#include "render/text_style.hpp"
#include "report/words.hpp"
#include "smtp/extensions.hpp"

#include <algorithm>
#include <cstdio>

namespace smtpprobe {
namespace {

using text::ms;
using text::pad;
using text::Style;
using text::wrap;

std::string caps_line(smtp::Capabilities const& caps) {
    if (caps.from_helo)
        return "(HELO: no extensions)";
    std::vector<std::string> lines;
    for (smtp::Capability const& c : caps.items)
        lines.push_back(c.line);
    return lines.empty() ? std::string("(none)") : join(lines, ", ");
}

template <typename Line>
void tls_verification_lines(net::TlsInfo const& t, Style const& st, Line const& line) {
    std::string chain;
    if (t.chain_verified) {
        chain = st.green("verified");
    } else {
        chain = st.red("NOT verified") + ": " + t.verify_error;
        if (!t.verify_issues.empty())
            chain += " (depth " + std::to_string(t.verify_depth) + ": " +
                     t.verify_issues.front().subject + ")";
        for (std::size_t i = 1; i < t.verify_issues.size(); ++i)
            chain += "; also " + t.verify_issues[i].reason + " (depth " +
                     std::to_string(t.verify_issues[i].depth) + ")";
    }
    if (t.verification_skipped && !t.verified())
        chain += " (--insecure: not enforced)";
    line("Chain", chain);
    if (t.host_checked)
        line("Host name", t.verify_name + ": " +
                              (t.host_verified ? st.green("matches the certificate")
                                               : st.red("does NOT match the certificate")));
    else if (!t.chain.empty())
        line("Host name", "not checked");
}

template <typename Line> void tls_chain_lines(net::TlsInfo const& t, Line const& line) {
    for (std::size_t i = 0; i < t.chain.size(); ++i) {
        net::CertificateInfo const& c = t.chain[i];
        line(i == 0 ? "Certificates" : "", "#" + std::to_string(i) + " " + c.subject);
        line("", "   issuer " + c.issuer);
        if (!c.subject_alt_names.empty())
            line("", "   names " + join(c.subject_alt_names, ", "));
        line("", "   " + cells::validity(c));
        line("", "   " + c.key + ", " + c.signature_algorithm + "; SHA-256 " + c.sha256);
    }
}

/// Whether the server asked for a client certificate, and which one went (--cert).
template <typename Line>
void tls_client_certificate_lines(net::TlsInfo const& t, bool given, Line const& line) {
    if (!t.client_certificate_requested) {
        if (given)
            line("Client cert", "not requested by the server (--cert not sent)");
        return;
    }
    if (!t.client_certificate) {
        line("Client cert",
             "requested by the server; none offered" + std::string(given ? "" : " (--cert/--key)"));
    } else {
        net::CertificateInfo const& c = *t.client_certificate;
        line("Client cert", "requested by the server; offered " + c.subject);
        line("", "   issuer " + c.issuer);
        line("", "   not after " + c.not_after + "; SHA-256 " + c.sha256);
    }
    if (!t.client_certificate_authorities.empty())
        line("", "   the server accepts certificates from " +
                     join(t.client_certificate_authorities, "; "));
}

/// "bare LF: rejects (521 5.5.2 ...); bare CR: waits (after a CRLF: 250 2.0.0 Ok)".
std::string line_endings_text(LineEndingCheck const& check) {
    std::string text;
    for (LineEndingTest const& t : check.tests) {
        text += text.empty() ? "" : "; ";
        text += "bare " + std::string(to_string(t.ending)) + ": ";
        switch (t.behaviour) {
        case LineEndingBehaviour::rejects:
            text += "rejected";
            break;
        case LineEndingBehaviour::line_end:
            text += "taken as a line end";
            break;
        case LineEndingBehaviour::waits:
            text += "not a line end (no reply in " + std::to_string(check.wait.count()) + " ms)";
            break;
        case LineEndingBehaviour::unknown:
            text += "not tested";
            break;
        }
        std::string detail;
        if (t.reply)
            detail = (t.reply_after_crlf ? "after a CRLF: " : "") + t.reply->first_line();
        if (!t.error.empty())
            detail += (detail.empty() ? "" : ", ") + t.error;
        if (!detail.empty())
            text += " (" + detail + ")";
    }
    return text;
}

template <typename Line> void tls_check_lines(Report const& r, Line const& line) {
    if (r.tls_versions) {
        std::string text;
        for (TlsVersionResult const& v : *r.tls_versions)
            text += (text.empty() ? "" : "; ") + v.version + " " +
                    (v.accepted ? "accepted"
                     : v.tested ? "refused"
                                : "") +
                    (v.accepted || v.detail.empty() ? ""
                     : v.tested                     ? " (" + v.detail + ")"
                                                    : v.detail);
        line("TLS versions", text);
    }
    if (r.sni_check) {
        SniCheck const& c = *r.sni_check;
        std::string text = c.sni.empty() ? "without SNI: " : "with SNI " + c.sni + ": ";
        if (!c.handshake_ok || !c.tls)
            text += "handshake failed: " + c.error;
        else
            text += (c.tls->chain.empty() ? std::string("no certificate")
                                          : c.tls->chain.front().subject) +
                    (c.tls->verified() ? ", verified" : ", NOT verified");
        line("SNI check", text);
    }
    if (r.line_endings)
        line("Line endings", line_endings_text(*r.line_endings));
}

/// "Is TLS mandatory?": the MAIL FROM:<> lines of the first connection (issue 20).
template <class Line> void mail_probe_lines(Report const& r, Line const& line) {
    ServerFacts const& s = r.server;
    if (!s.mail_before_tls_reply && !s.mail_before_auth_reply)
        return;
    if (s.mail_before_tls_reply)
        line("MAIL no TLS", "MAIL FROM:<> -> " + s.mail_before_tls_reply->wire() +
                                (r.mail_without_tls() == MailGate::accepted
                                     ? "  (takes mail without TLS)"
                                     : (s.starttls_offered ? "  (TLS required)" : "  (refused)")));
    else if (r.mail_without_tls() == MailGate::not_applicable)
        line("MAIL no TLS", "not applicable: implicit TLS, no plaintext");
    if (s.mail_before_auth_reply)
        line("MAIL no AUTH",
             "MAIL FROM:<> -> " + s.mail_before_auth_reply->wire() +
                 (r.mail_without_auth() == MailGate::accepted ? "  (takes mail without AUTH)"
                                                              : "  (AUTH required)"));
}

void server_section(Report const& r, Style const& st, std::string& out) {
    ServerFacts const& s = r.server;
    auto line = [&](std::string_view label, std::string const& value) {
        out += "  " + pad(label, 13) + wrap(value, 15, 15) + "\n";
    };
    out += st.bold("Server") + "\n";
    if (s.implicit_tls_detected)
        line("Port", st.yellow("speaks implicit TLS") +
                         ": no banner in plaintext, and a TLS handshake on a fresh connection "
                         "worked");
    if (s.plaintext_on_implicit_port)
        line("Port", st.yellow("speaks plaintext SMTP, not implicit TLS") +
                         ": the TLS handshake failed (" + s.implicit_handshake_error +
                         ") and a plaintext connection got a 220");
    if (s.banner)
        line("Banner", s.banner->wire());
    if (s.ehlo_refusal)
        line("EHLO", s.ehlo_refusal->wire() + "  -> fell back to HELO");
    if (s.ehlo_reply)
        line(to_string(s.hello_verb),
             std::to_string(s.ehlo_reply->code) + " " +
                 (s.ehlo_reply->lines.empty() ? "" : s.ehlo_reply->lines.front()));
    bool const implicit = r.tls_used == TlsMode::implicit;
    if (s.before_tls && !implicit)
        line(s.tls || s.starttls_attempted ? "Before TLS" : "Extensions", caps_line(*s.before_tls));
    if (s.auth_before_tls_reply)
        line("AUTH pre-TLS", "AUTH " + s.auth_before_tls_mechanism.value_or("") + " -> " +
                                 s.auth_before_tls_reply->wire());
    mail_probe_lines(r, line);
    if (s.starttls_reply)
        line("STARTTLS", s.starttls_reply->wire());
    if (!s.starttls_injected.empty())
        line("", st.red("data after the 220, before the handshake: ") +
                     escape_bytes(s.starttls_injected));
    if (!s.tls_error.empty())
        line("TLS", st.red("handshake failed: ") + s.tls_error);
    if (s.tls) {
        net::TlsInfo const& t = *s.tls;
        std::string text = t.version + ", " + t.cipher;
        if (!t.group.empty())
            text += ", " + t.group;
        text += implicit ? " (implicit TLS)" : "";
        text += t.sni.empty() ? "; no SNI sent" : "; SNI " + t.sni;
        text += t.resumed ? "; resumed" : "";
        line("TLS", text);
        tls_verification_lines(t, st, line);
        tls_chain_lines(t, line);
        tls_client_certificate_lines(t, r.client_certificate_given, line);
    }
    tls_check_lines(r, line);
    if (s.tls && s.after_tls) {
        std::string text = caps_line(*s.after_tls);
        if (!implicit && s.before_tls) {
            std::vector<std::string> added, removed;
            for (std::string const& k : s.after_tls->keywords())
                if (!s.before_tls->has(k))
                    added.push_back(k);
            for (std::string const& k : s.before_tls->keywords())
                if (!s.after_tls->has(k))
                    removed.push_back(k);
            if (!added.empty() || !removed.empty())
                text += "  (" + (added.empty() ? "" : "added " + join(added, " ")) +
                        (!added.empty() && !removed.empty() ? "; " : "") +
                        (removed.empty() ? "" : "removed " + join(removed, " ")) + ")";
        }
        line(implicit ? "Extensions" : "After TLS", text);
    }
    out += "\n";
}

/// What each extension a sender cares about means, and whether this server advertises it
/// (issue 20 item 3).
void extensions_section(Report const& r, Style const& st, std::string& out) {
    smtp::Capabilities const* caps = r.server.final_capabilities();
    if (caps == nullptr || caps->from_helo)
        return;
    out += st.bold("Extensions") + st.dim("  (what each means for a sender)") + "\n";
    for (smtp::SenderExtension const& e : smtp::sender_extensions()) {
        bool const has = caps->has(e.keyword);
        std::string value = has ? st.green("yes") : st.dim("no ");
        if (has && e.keyword == "SIZE")
            value += caps->size
                         ? (*caps->size == 0 ? " (no fixed limit)"
                                             : " (" + std::to_string(*caps->size) + " bytes)")
                         : " (no limit given)";
        out += "  " + pad(e.keyword, 20) +
               wrap(value + "  " + std::string(e.rfc) + ": " + std::string(e.meaning), 22, 22) +
               "\n";
    }
    out += "\n";
}

} // namespace

std::string render_text(Report const& r, Verdict const& v, TextOptions const& options) {
    Style const st{options.color};
    std::string out;
    out +=
        st.bold("smtpprobe " SMTPPROBE_VERSION) + "  " + r.host + " port " + std::to_string(r.port);
    if (!r.connected_address.empty())
        out += " (" + r.connected_address + ")";
    out += "\n";
    if (r.addresses.size() > 1)
        out += "  addresses: " + join(r.addresses, ", ") + "\n";
    ConnectionPath const& p = r.path;
    if (!p.proxy.empty())
        out += "  " + wrap("through the proxy " + cells::proxy_text(p), 4, 2) + "\n";
    if (!p.proxy_bypass.empty())
        out += "  " + wrap(p.proxy_bypass, 4, 2) + "\n";
    if (!p.source.empty() || !p.proxy.empty()) {
        std::string line =
            "  local address: " +
            (p.local_address.empty() ? std::string("(no connection)") : p.local_address);
        if (!p.source.empty())
            line += " (--source " + p.source + ")";
        out += line + "\n";
    }
    if (!r.credentials_given && !r.user_shown.empty())
        out += "  user " + r.user_shown + " (no password given)\n";
    else if (r.credentials_given)
        out += "  user " + (r.user_shown.empty() ? std::string("(none)") : r.user_shown) + "\n";
    out += "\n";
    text::token_section(r, st, out);
    text::addresses_section(r, st, out);
    if (r.server.banner || !r.server.tls_error.empty())
        server_section(r, st, out);
    extensions_section(r, st, out);
    text::matrix_section(r, st, out);
    text::ntlm_section(r, st, out);
    text::envelope_section(v, st, out);
    text::checks_section(v, st, out);
    text::findings_section(v, st, out);
    text::clients_section(v, st, out);
    text::explanations_section(v, st, out);
    Timings const& t = r.server.timings;
    std::string timing = "connect " + ms(t.connect);
    if (t.proxy)
        timing += " · proxy handshake " + ms(t.proxy);
    if (t.tls_handshake)
        timing += " · TLS handshake " + ms(t.tls_handshake);
    timing += " · banner " + ms(t.banner) + " · EHLO " + ms(t.ehlo);
    if (t.starttls)
        timing += " · STARTTLS " + ms(t.starttls);
    if (r.auth_ms)
        timing += " · AUTH probes " + ms(r.auth_ms);
    timing += " · total " + ms(r.total_ms) + " · " + std::to_string(r.connections) +
              " connection(s), at most " + std::to_string(r.parallel) + " at once";
    out += st.dim(wrap("Timing: " + timing, 8, 0)) + "\n";
    return terminal_safe(out, options.color); // the server's bytes stay text, our colours stay
}

} // namespace smtpprobe
