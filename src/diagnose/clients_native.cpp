// Client predictions for libraries of compiled languages: Go's net/smtp, libcurl and lettre.

#include "diagnose/client_model.hpp"

#include "smtp/ascii.hpp"

namespace smtpprobe::diagnose::client_model {

namespace {

// Go's net/smtp isLocalhost(): the names PlainAuth sends credentials to without TLS.
bool loopback_name(std::string_view name) {
    return name == "localhost" || name == "127.0.0.1" || name == "::1";
}

// Text for a server-supplied string: control characters (the LOGIN draft's prompts end in NUL)
// are shown escaped.
std::string printable(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        unsigned char const byte = static_cast<unsigned char>(c);
        if (byte == 0) {
            out += "\\0";
        } else if (byte < 0x20 || byte == 0x7F) {
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0x0F];
        } else {
            out += c;
        }
    }
    return out;
}

bool lettre_user_prompt(std::string_view prompt) {
    std::string const lower = smtp::to_lower(prompt);
    return lower.find("username") != std::string::npos ||
           lower.find("user name") != std::string::npos;
}

// The LOGIN smtp.Auth applications copy (net/smtp has none; tests/clients/go has it as
// written): Start asks for nothing, so it sends AUTH LOGIN with or without TLS, and Next
// answers only the exact prompts "Username:" and "Password:", failing with "unknown
// fromServer" on any other. Predicted from the prompts the server sent.
ClientVerdict go_login_snippet(ServerAuthView const& view, std::string client, std::string source) {
    std::string const mech = "LOGIN";
    std::string const why =
        "sends AUTH LOGIN without checking the list, and the copied LOGIN smtp.Auth answers "
        "only the exact prompts \"Username:\" and \"Password:\"";
    ClientVerdict verdict{std::move(client), Outcome::works, mech, why, std::move(source)};
    ServerAnswer const p = answer_to(view, mech);
    auto breaks = [&](std::string_view which, std::string const& prompt) {
        verdict.outcome = Outcome::fails;
        verdict.error = "unknown fromServer";
        verdict.how += "; this server's " + std::string(which) + " prompt is \"" +
                       printable(prompt) +
                       "\", so Next fails with \"unknown fromServer\" and it cancels with \"*\"";
    };
    if (p.answer == Answer::rejected) {
        verdict.outcome = Outcome::fails;
        verdict.error = reply_text(view, mech);
        verdict.how += "; " + answers(p);
    } else if (view.login_prompt && *view.login_prompt != "Username:") {
        breaks("user name", *view.login_prompt);
    } else if (view.login_prompt && view.login_password_prompt &&
               *view.login_password_prompt != "Password:") {
        breaks("password", *view.login_password_prompt);
    } else if (view.login_prompt && view.login_password_prompt) {
        verdict.how += "; this server sends exactly those";
    } else if (view.login_prompt) {
        verdict.how += "; this server's first prompt is \"Username:\", and the password prompt "
                       "was not seen (only an exchange with --user reaches it)";
    } else if (p.answer == Answer::recognised) {
        verdict.outcome = Outcome::depends;
        verdict.how += "; this server answers 334 with an empty or unprintable prompt";
    } else {
        verdict.outcome = Outcome::depends;
        verdict.how += "; whether it works depends on the server's LOGIN prompts, which were "
                       "not probed";
    }
    return verdict;
}

} // namespace

// Go's net/smtp, driven the way SendMail does it (Hello, STARTTLS when advertised, the AUTH
// extension check, Auth). PlainAuth, or (plain == false) the LOGIN smtp.Auth applications
// copy.
ClientVerdict go_net_smtp(ServerAuthView const& view, Mechanisms const& list, bool plain) {
    std::string const client = plain ? "Go net/smtp (PlainAuth)" : "Go net/smtp (LOGIN smtp.Auth)";
    std::string const source = "smtp-facts.md §4.1";
    std::string const mech = plain ? "PLAIN" : "LOGIN";
    if (list.empty() || view.legacy_auth_equals_only) {
        ClientVerdict verdict{
            client, Outcome::fails, "",
            std::string("SendMail stops with \"smtp: server doesn't support "
                        "AUTH\"") +
                (view.legacy_auth_equals_only ? " (it does not read AUTH= lines)" : ""),
            source};
        verdict.error = "smtp: server doesn't support AUTH";
        return verdict;
    }
    bool const exempt = loopback_name(view.server_name);
    if (plain && !view.tls_available && !exempt) {
        ClientVerdict verdict{
            client, Outcome::fails, "",
            "PlainAuth refuses to send credentials without TLS (\"unencrypted connection\"); "
            "only a server name of localhost, 127.0.0.1 or ::1 is exempt, and the name here is " +
                (view.server_name.empty() ? std::string("not known") : view.server_name),
            source};
        verdict.error = "unencrypted connection";
        return verdict;
    }
    ClientVerdict verdict =
        plain ? single(view, list, client, mech, "sends AUTH PLAIN without checking the list",
                       reply_text(view, mech), source)
              : go_login_snippet(view, client, source);
    if (plain && verdict.outcome != Outcome::works &&
        (has_any_case(list, "LOGIN") || answer_to(view, "LOGIN").answer == Answer::recognised)) {
        append(verdict.how, "LOGIN would need a custom smtp.Auth, net/smtp has none");
    }
    if (!view.tls_available && plain) {
        append(verdict.how, "there is no TLS, but the server name " + view.server_name +
                                " is exempt (Go's localhost exemption), so the password goes in "
                                "plaintext");
    } else if (!view.tls_available) {
        append(verdict.how, "there is no TLS and the copied smtp.Auth does not check for it (as "
                            "PlainAuth does), so the user name and password go in plaintext");
    }
    append(verdict.how, tls_note(view, {"", "dial TLS yourself and use NewClient, as SendMail "
                                            "cannot"}));
    return verdict;
}

// The command-line tool and the library alike. forced: --login-options AUTH=<mech>
// (CURLOPT_LOGIN_OPTIONS); empty: its own choice. Checked against Debian 12's build, which has
// NTLM and GSS-API and no SCRAM.
ClientVerdict libcurl(ServerAuthView const& view, Mechanisms const& list, std::string_view forced) {
    std::string const client =
        forced.empty() ? "libcurl" : "libcurl (AUTH=" + std::string(forced) + ")";
    std::string const source = "smtp-facts.md §4.8";
    std::string const denied = "(67) Login denied";
    // No ticket for smtp@host: gss_init_sec_context fails after "AUTH GSSAPI" got its 334.
    std::string const gssapi_error = "(94) An authentication function returned an error";
    TlsHabits const habits{"set CURLOPT_USE_SSL", "use an smtps:// URL"};
    ClientVerdict verdict;
    if (list.empty() || view.legacy_auth_equals_only) {
        verdict = libcurl_without_auth(view, client, source);
        append(verdict.how, tls_note(view, habits));
        return verdict;
    }
    std::string mech;
    // Mechanism names are matched case-sensitively (curl 7.88.1: "AUTH login" is not LOGIN).
    if (!forced.empty()) {
        if (has_exact(list, forced)) {
            mech = forced;
        } else {
            verdict = {
                client, Outcome::fails, "",
                "AUTH=" + std::string(forced) +
                    " is not advertised, so it sends no AUTH and fails with CURLE_LOGIN_DENIED",
                source};
            verdict.error = denied;
            append(verdict.how, tls_note(view, habits));
            return verdict;
        }
    } else {
        // Curl_sasl_start's order with a password, as built in Debian 12's curl 7.88.1 (GSS-API
        // and NTLM, no GNU SASL, so no SCRAM): EXTERNAL only without a password; GSSAPI only
        // for a user that names a domain (Curl_auth_user_contains_domain: DOMAIN\user,
        // DOMAIN/user, user@domain); then DIGEST-MD5, CRAM-MD5, NTLM, PLAIN, LOGIN (the OAuth
        // ones only with a bearer token). It sends DIGEST-MD5 before CRAM-MD5, but against
        // Dovecot 2.3.19 it cancels that exchange, drops the mechanism and starts again with
        // the next (tests/clients/FINDINGS.md): the mechanism it ends with is the next one.
        for (std::string_view name : {"GSSAPI", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN"}) {
            if (name == "GSSAPI" && !view.user_has_domain) {
                continue;
            }
            if (has_exact(list, name)) {
                mech = name;
                break;
            }
        }
    }
    if (mech.empty()) {
        verdict = {
            client, Outcome::fails, "",
            "none of the mechanisms it knows is advertised, so it fails with "
            "CURLE_LOGIN_DENIED" +
                case_note(list, {"GSSAPI", "DIGEST-MD5", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN"}),
            source};
        verdict.error = denied;
        append(verdict.how,
               oauth_note(view, list, {"OAUTHBEARER", "XOAUTH2"}, "a bearer token set"));
    } else {
        std::string const why =
            forced.empty()
                ? "picks one mechanism by its order (GSSAPI, DIGEST-MD5, CRAM-MD5, NTLM, PLAIN, "
                  "LOGIN; " +
                      mech + " here) and does not move on after a refusal"
                : "--login-options AUTH=" + mech + " makes it send AUTH " + mech;
        verdict = single(view, list, client, mech, why, denied, source);
        // The probe sees 334 to a bare AUTH GSSAPI or NTLM; the exchange itself needs what the
        // server accepts: a Kerberos ticket for smtp@host in the caller's cache (curl takes
        // GSSAPI because the user names a domain), a domain account for NTLM. When
        // smtpprobe's own exchange with these credentials got 235, curl's does too; otherwise
        // it fails there, without trying another mechanism.
        struct NeedsAccount {
            std::string_view mech;
            std::string_view error;
            std::string_view why;
        };
        for (NeedsAccount const& needs :
             {NeedsAccount{"GSSAPI", gssapi_error,
                           "it takes GSSAPI because the user names a domain, which works only "
                           "with a Kerberos ticket the server accepts (smtpprobe's own GSSAPI "
                           "exchange did not get 235)"},
              NeedsAccount{"NTLM", denied,
                           "it stays with NTLM, which works only for an account NTLM accepts "
                           "(a domain account, DOMAIN\\user) and otherwise ends in "
                           "CURLE_LOGIN_DENIED"}}) {
            if (mech == needs.mech && answer_to(view, mech).answer != Answer::rejected &&
                !view.authenticated.contains(mech)) {
                verdict.outcome = Outcome::fails;
                verdict.error = needs.error;
                verdict.how += "; " + std::string(needs.why) + ", without trying another mechanism";
            }
        }
        if (verdict.outcome != Outcome::works && forced.empty()) {
            for (std::string_view other : {"LOGIN", "PLAIN"}) {
                if (other != mech && has_exact(list, other) &&
                    answer_to(view, other).answer != Answer::rejected) {
                    append(verdict.how, "--login-options AUTH=" + std::string(other) +
                                            " (CURLOPT_LOGIN_OPTIONS) makes it use " +
                                            std::string(other) + ", which this server offers");
                    break;
                }
            }
        }
    }
    if (forced.empty() && has_exact(list, "GSSAPI") && mech != "GSSAPI") {
        append(verdict.how, "it passes over GSSAPI, which it takes only for a user that names "
                            "a domain (DOMAIN\\user or user@domain)");
    }
    if (forced.empty() && has_exact(list, "EXTERNAL")) {
        append(verdict.how, "it offers EXTERNAL only without a password");
    }
    if (forced.empty() && has_exact(list, "DIGEST-MD5"))
        append(verdict.how,
               "it sends AUTH DIGEST-MD5 first and, as against Dovecot 2.3.19, cancels "
               "it and starts again without it");
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

ClientVerdict lettre(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "lettre";
    std::string const source = "smtp-facts.md §4.10";
    TlsHabits const habits{"", "use relay() (Tls::Wrapper)"};
    ClientVerdict verdict;
    std::string mech;
    if (!view.legacy_auth_equals_only) {
        for (std::string_view name : {"PLAIN", "LOGIN"}) {
            if (has_exact(list, name)) {
                mech = name;
                break;
            }
        }
    }
    if (mech.empty()) {
        verdict = {client, Outcome::fails, "",
                   "it fails with \"No compatible authentication mechanism was found\"" +
                       (view.legacy_auth_equals_only
                            ? std::string(" (it does not read AUTH= lines)")
                            : case_note(list, {"PLAIN", "LOGIN"})),
                   source};
        append(verdict.how, oauth_note(view, list, {"XOAUTH2"}, "XOAUTH2 configured"));
    } else if (mech == "PLAIN") {
        verdict = single(view, list, client, mech,
                         "uses PLAIN, the first of PLAIN, LOGIN the server advertises, with no "
                         "fallback",
                         "", source);
    } else {
        std::string const why =
            "uses LOGIN (PLAIN is not advertised) and needs a first prompt containing "
            "\"Username\" or \"User Name\"";
        ServerAnswer const p = answer_to(view, "LOGIN");
        if (p.answer == Answer::rejected) {
            verdict = {client, Outcome::fails, mech, why + "; " + answers(p), source};
        } else if (!view.login_prompt) {
            verdict = {client, Outcome::depends, mech, why + " (the prompt was not probed)",
                       source};
        } else if (lettre_user_prompt(*view.login_prompt)) {
            verdict = {client, Outcome::works, mech,
                       why + "; this server's prompt \"" + printable(*view.login_prompt) +
                           "\" is one it recognises",
                       source};
        } else {
            verdict = {client, Outcome::fails, mech,
                       why + "; this server's prompt \"" + printable(*view.login_prompt) +
                           "\" is not, so it fails with \"Unrecognized challenge\"",
                       source};
        }
    }
    if (!view.tls_available && verdict.outcome == Outcome::works) {
        verdict.outcome = Outcome::depends;
        append(verdict.how, "the server offers no TLS, so starttls_relay() (Tls::Required) and "
                            "relay() refuse it; only Tls::Opportunistic or no TLS connects");
    }
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

} // namespace smtpprobe::diagnose::client_model
