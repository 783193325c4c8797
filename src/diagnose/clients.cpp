#include "diagnose/clients.hpp"

#include "smtp/ascii.hpp"

#include <algorithm>
#include <cstddef>
#include <initializer_list>

namespace smtpprobe::diagnose {

namespace {

using Outcome = ClientVerdict::Outcome;
using Mechanisms = std::vector<std::string>;

// The versions the real-client suite (tests/clients) runs; it fails when the installed ones
// differ, so this table stays true. .NET, MailKit and lettre cannot be installed there.
std::string checked_against(std::string_view client) {
    if (client.starts_with("Go ")) {
        return "Go 1.19.8 net/smtp";
    }
    if (client.starts_with("Python")) {
        return "Python 3.11.2 smtplib";
    }
    if (client.starts_with("Nodemailer")) {
        return "Nodemailer 10.6.1";
    }
    if (client == "PHPMailer") {
        return "PHPMailer 6.6.3";
    }
    if (client.starts_with("Ruby")) {
        return "net-smtp 0.3.1 (Ruby 3.1.2)";
    }
    if (client.starts_with("libcurl")) {
        return "curl 7.88.1 (Debian 12 build, with NTLM and GSS-API)";
    }
    if (client == "Jakarta Mail") {
        return "Jakarta Mail 2.0.0";
    }
    return "";
}

bool has_exact(Mechanisms const& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

// RFC 4954 §8: mechanism names are case-insensitive, so the server treats "plain" as PLAIN.
bool has_any_case(Mechanisms const& list, std::string_view name) {
    return std::any_of(list.begin(), list.end(),
                       [&](std::string const& mech) { return smtp::to_upper(mech) == name; });
}

// The list the client acts on: after TLS when TLS is in use (smtp-facts.md §4.12).
Mechanisms const& final_list(ServerAuthView const& view) {
    if (view.implicit_tls && view.advertised_after_tls.empty()) {
        return view.advertised_before_tls;
    }
    return view.tls_available ? view.advertised_after_tls : view.advertised_before_tls;
}

bool auth_only_after_tls(ServerAuthView const& view) {
    return view.tls_available && !view.implicit_tls && view.advertised_before_tls.empty() &&
           !view.advertised_after_tls.empty();
}

enum class Answer { recognised, rejected, unknown };

struct Probe {
    Answer answer = Answer::unknown;
    int code = 0;
};

Probe probe(ServerAuthView const& view, std::string_view mech) {
    auto const it = view.first_reply.find(std::string(mech));
    if (it == view.first_reply.end()) {
        return {};
    }
    return {it->second == 334 ? Answer::recognised : Answer::rejected, it->second};
}

std::string answers(Probe const& p) {
    return "this server answers " + std::to_string(p.code);
}

// The first line of the server's reply to "AUTH <mech>", as sent ("504 5.7.4 ..."); the code
// alone when the text was not kept.
std::string reply_text(ServerAuthView const& view, std::string_view mech) {
    auto const it = view.first_reply_text.find(std::string(mech));
    if (it != view.first_reply_text.end()) {
        return it->second;
    }
    Probe const p = probe(view, mech);
    return p.code == 0 ? std::string() : std::to_string(p.code);
}

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

std::string join(std::initializer_list<std::string_view> names) {
    std::string out;
    for (std::string_view name : names) {
        if (!out.empty()) {
            out += ", ";
        }
        out += name;
    }
    return out;
}

// " (it compares names case-sensitively; this server advertises "login")" when a preferred
// mechanism is only advertised in another case.
std::string case_note(Mechanisms const& list, std::initializer_list<std::string_view> preferred) {
    for (std::string_view name : preferred) {
        for (std::string const& mech : list) {
            if (mech != name && smtp::to_upper(mech) == name) {
                return " (it compares mechanism names case-sensitively and this server "
                       "advertises \"" +
                       mech + "\")";
            }
        }
    }
    return "";
}

void append(std::string& how, std::string_view note) {
    if (!note.empty()) {
        how += "; ";
        how += note;
    }
}

// An OAuth mechanism the library supports only when configured for it (smtp-facts.md §4.12),
// offered by the server and not refused in the probe.
std::string oauth_note(ServerAuthView const& view, Mechanisms const& list,
                       std::initializer_list<std::string_view> mechs, std::string_view how) {
    for (std::string_view mech : mechs) {
        if (has_any_case(list, mech) && probe(view, mech).answer != Answer::rejected) {
            return "with an OAuth token (" + std::string(how) + ") it can use " +
                   std::string(mech) + " instead";
        }
    }
    return "";
}

// How the library gets TLS, for the notes (smtp-facts.md §4.12 quirks table).
struct TlsHabits {
    std::string_view starttls; ///< what enables STARTTLS; empty: done automatically
    std::string_view implicit; ///< how to use implicit TLS; empty: not possible
};

std::string tls_note(ServerAuthView const& view, TlsHabits const& habits) {
    if (view.implicit_tls) {
        return "this port uses implicit TLS: " + std::string(habits.implicit);
    }
    if (auth_only_after_tls(view) && !habits.starttls.empty()) {
        return "AUTH is offered only after STARTTLS: " + std::string(habits.starttls);
    }
    return "";
}

// A library that sends exactly one mechanism: the verdict is that mechanism's probe.
ClientVerdict single(ServerAuthView const& view, Mechanisms const& list, std::string client,
                     std::string mech, std::string const& why, std::string_view error,
                     std::string source) {
    Probe const p = probe(view, mech);
    ClientVerdict verdict{std::move(client), Outcome::works, mech, why, std::move(source)};
    switch (p.answer) {
    case Answer::recognised:
        verdict.how += "; " + answers(p);
        break;
    case Answer::rejected:
        verdict.outcome = Outcome::fails;
        verdict.how += "; " + answers(p);
        verdict.error = error;
        break;
    case Answer::unknown:
        if (has_any_case(list, mech)) {
            verdict.how += "; " + mech + " is advertised (not probed)";
        } else {
            verdict.outcome = Outcome::depends;
            verdict.how += "; " + mech +
                           " is not advertised, so the server will probably refuse "
                           "it (not probed)";
        }
        break;
    }
    return verdict;
}

// A library that tries its candidates in order and moves on after any failure.
ClientVerdict in_order(ServerAuthView const& view, std::string client, Mechanisms const& candidates,
                       std::string const& order, std::string source, std::string_view error) {
    ClientVerdict verdict{std::move(client), Outcome::fails, "", "", std::move(source)};
    std::string steps;
    for (std::string const& mech : candidates) {
        Probe const p = probe(view, mech);
        if (!steps.empty()) {
            steps += ", then ";
        }
        if (p.answer == Answer::rejected) {
            steps += mech + " gets " + std::to_string(p.code);
            continue;
        }
        steps +=
            mech + (p.answer == Answer::recognised ? " gets 334" : " (advertised, not probed)");
        verdict.outcome = Outcome::works;
        verdict.mechanism = mech;
        break;
    }
    verdict.how = "tries the advertised ones of " + order +
                  " in that order, moving on after a "
                  "failure: " +
                  steps;
    if (verdict.outcome == Outcome::fails) {
        verdict.mechanism = candidates.back();
        verdict.how += ", and then gives up with the last error";
        verdict.error = error;
    }
    return verdict;
}

// Go's net/smtp, driven the way SendMail does it (Hello, STARTTLS when advertised, the AUTH
// extension check, Auth). PlainAuth, or (plain == false) a LOGIN smtp.Auth as applications
// write it: net/smtp has none.
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
    if (!view.tls_available && !exempt) {
        ClientVerdict verdict{
            client, Outcome::fails, "",
            std::string(plain ? "PlainAuth" : "an smtp.Auth written like PlainAuth") +
                " refuses to send credentials without TLS (\"unencrypted connection\"); only a "
                "server name of localhost, 127.0.0.1 or ::1 is exempt, and the name here is " +
                (view.server_name.empty() ? std::string("not known") : view.server_name),
            source};
        verdict.error = "unencrypted connection";
        return verdict;
    }
    std::string const why =
        plain ? "sends AUTH PLAIN without checking the list"
              : "sends AUTH LOGIN without checking the list (this smtp.Auth answers the first "
                "challenge with the user name and the second with the password)";
    ClientVerdict verdict = single(view, list, client, mech, why, reply_text(view, mech), source);
    if (plain && verdict.outcome != Outcome::works &&
        (has_any_case(list, "LOGIN") || probe(view, "LOGIN").answer == Answer::recognised)) {
        append(verdict.how, "LOGIN would need a custom smtp.Auth, net/smtp has none");
    }
    if (!view.tls_available) {
        append(verdict.how, "there is no TLS, but the server name " + view.server_name +
                                " is exempt (Go's localhost exemption), so the password goes in "
                                "plaintext");
    }
    append(verdict.how, tls_note(view, {"", "dial TLS yourself and use NewClient, as SendMail "
                                            "cannot"}));
    return verdict;
}

ClientVerdict python_login(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "Python smtplib (login())";
    std::string const source = "smtp-facts.md §4.2";
    TlsHabits const habits{"call starttls() before login()", "use SMTP_SSL"};
    ClientVerdict verdict;
    if (list.empty()) {
        verdict = {client, Outcome::fails, "",
                   "login() raises SMTPNotSupportedError(\"SMTP AUTH extension not supported by "
                   "server.\")",
                   source};
        verdict.error = "SMTPNotSupportedError: SMTP AUTH extension not supported by server.";
    } else {
        Mechanisms candidates;
        for (std::string_view mech : {"CRAM-MD5", "PLAIN", "LOGIN"}) {
            if (has_exact(list, mech)) {
                candidates.emplace_back(mech);
            }
        }
        if (candidates.empty()) {
            verdict = {client, Outcome::fails, "",
                       "login() raises SMTPException(\"No suitable authentication method "
                       "found.\")" +
                           case_note(list, {"CRAM-MD5", "PLAIN", "LOGIN"}),
                       source};
            verdict.error = "SMTPException: No suitable authentication method found.";
            append(verdict.how,
                   oauth_note(view, list, {"XOAUTH2"}, "auth() with a caller-supplied authobject"));
        } else {
            verdict = in_order(view, client, candidates, "CRAM-MD5, PLAIN, LOGIN", source,
                               "SMTPAuthenticationError");
            if (verdict.outcome == Outcome::works && verdict.mechanism == "LOGIN") {
                append(verdict.how, "it sends the user name as an initial response (AUTH LOGIN "
                                    "<user>), which a strict server may refuse");
            }
        }
    }
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

// Nodemailer; forced: auth.method set to that mechanism (empty: its own choice).
ClientVerdict nodemailer(ServerAuthView const& view, Mechanisms const& list,
                         std::string_view forced) {
    std::string const client =
        forced.empty() ? "Nodemailer" : "Nodemailer (authMethod " + std::string(forced) + ")";
    std::string const source = "smtp-facts.md §4.3";
    // Names are upper-cased and AUTH= lines are read, so neither matters here.
    std::string mech(forced);
    std::string why;
    if (!mech.empty()) {
        why = "auth.method '" + mech + "' makes it send AUTH " + mech + " whatever is advertised";
    } else {
        for (std::string_view name : {"PLAIN", "LOGIN", "CRAM-MD5"}) {
            if (has_any_case(list, name)) {
                mech = name;
                break;
            }
        }
        if (mech.empty()) {
            mech = "PLAIN";
            why = view.helo_only
                      ? "after HELO it assumes AUTH is available and sends AUTH PLAIN"
                      : "none of PLAIN, LOGIN, CRAM-MD5 is advertised, so it sends AUTH PLAIN "
                        "anyway";
        } else {
            why = "picks " + mech + ", the first of PLAIN, LOGIN, CRAM-MD5 the server advertises";
        }
    }
    std::string error = "Invalid login";
    if (mech == "LOGIN") {
        error = "Invalid login sequence while waiting for \"334 VXNlcm5hbWU6\"";
    } else if (mech == "CRAM-MD5") {
        error = "Invalid login sequence while waiting for server challenge string";
    } else if (!reply_text(view, mech).empty()) {
        error += ": " + reply_text(view, mech);
    }
    ClientVerdict verdict = single(view, list, client, mech, why, error, source);
    if (verdict.outcome == Outcome::depends && view.helo_only) {
        // No EHLO: every AUTH is an unknown command to such a server.
        verdict.outcome = Outcome::fails;
        verdict.error = "Invalid login";
        append(verdict.how, "a server without EHLO knows no AUTH");
    }
    if (verdict.outcome != Outcome::works) {
        append(verdict.how, oauth_note(view, list, {"XOAUTH2"}, "the oauth2 option"));
    }
    append(verdict.how, tls_note(view, {"", "set secure: true (the default on port 465)"}));
    return verdict;
}

ClientVerdict dotnet_smtp_client(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = ".NET System.Net.Mail.SmtpClient";
    std::string const source = "smtp-facts.md §4.4";
    if (view.implicit_tls) {
        return {client, Outcome::fails, "",
                "it has no implicit TLS (STARTTLS only), so it cannot use this port", source};
    }
    std::string const unauthenticated =
        "so it continues unauthenticated and MAIL FROM is rejected (e.g. 530 5.7.57)";
    ClientVerdict verdict{client, Outcome::fails, "", "", source};
    std::string skipped;
    // Negotiate is registered as "gssapi"; names match case-insensitively, AUTH= lines count.
    for (std::string_view mech : {"GSSAPI", "NTLM", "LOGIN"}) {
        if (!has_any_case(list, mech)) {
            continue;
        }
        Probe const p = probe(view, mech);
        if (p.answer == Answer::rejected && p.code == 504) {
            skipped += std::string(mech) + " gets 504, ";
            continue;
        }
        verdict.mechanism = mech;
        if (p.answer == Answer::rejected) {
            verdict.how = skipped + "AUTH " + std::string(mech) + " gets " +
                          std::to_string(p.code) +
                          ", and any failure other than 504 throws SmtpException";
        } else if (mech == "GSSAPI") {
            verdict.outcome = Outcome::depends;
            verdict.how = skipped + "it tries Negotiate (GSSAPI) first, which needs credentials "
                                    "the server's Negotiate accepts, and a failed exchange "
                                    "throws instead of moving on to NTLM or LOGIN";
        } else if (mech == "NTLM") {
            verdict.outcome = Outcome::works;
            verdict.how = skipped + "it uses NTLM, the first of Negotiate, NTLM, LOGIN the server "
                                    "advertises";
        } else {
            verdict.outcome = Outcome::works;
            verdict.how = skipped + "it sends AUTH login <user> (lower case, user name as an "
                                    "initial response)";
            verdict.how += p.answer == Answer::recognised ? " and this server answers 334 to AUTH "
                                                            "LOGIN sent without one"
                                                          : "; LOGIN is advertised (not probed)";
        }
        break;
    }
    if (verdict.mechanism.empty()) {
        verdict.how = skipped +
                      (list.empty() ? "the server advertises no AUTH, "
                                    : "none of Negotiate (GSSAPI), NTLM, LOGIN is "
                                      "usable (it has no PLAIN, CRAM-MD5 or XOAUTH2), ") +
                      unauthenticated;
    } else if (verdict.outcome == Outcome::fails && !skipped.empty()) {
        verdict.how += ", " + unauthenticated;
    }
    if (!view.tls_available) {
        append(verdict.how, "with EnableSsl = true it stops, as the server offers no STARTTLS");
    } else if (auth_only_after_tls(view)) {
        append(verdict.how, "AUTH is offered only after STARTTLS: set EnableSsl = true");
    }
    return verdict;
}

ClientVerdict mailkit(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "MailKit";
    std::string const source = "smtp-facts.md §4.5";
    ClientVerdict verdict;
    if (list.empty()) {
        verdict = {client, Outcome::fails, "",
                   "Authenticate throws NotSupportedException(\"The SMTP server does not support "
                   "authentication.\")",
                   source};
        verdict.error = "NotSupportedException";
    } else {
        std::initializer_list<std::string_view> const ranking = {
            "SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "NTLM",
            "DIGEST-MD5",    "CRAM-MD5",      "PLAIN",       "LOGIN"};
        Mechanisms candidates;
        for (std::string_view mech : ranking) {
            // An advertised -PLUS variant is used in place of the plain SCRAM one.
            std::string const plus = std::string(mech) + "-PLUS";
            if (mech.starts_with("SCRAM") && has_exact(list, plus)) {
                candidates.push_back(plus);
            } else if (has_exact(list, mech)) {
                candidates.emplace_back(mech);
            }
        }
        if (candidates.empty()) {
            verdict = {client, Outcome::fails, "",
                       "Authenticate throws NotSupportedException(\"No compatible authentication "
                       "mechanisms found.\")" +
                           case_note(list, ranking),
                       source};
            append(verdict.how,
                   oauth_note(view, list, {"XOAUTH2", "OAUTHBEARER"},
                              "an explicit SaslMechanism; OAuth is not in the automatic ranking"));
        } else {
            verdict = in_order(view, client, candidates,
                               "SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1, NTLM, DIGEST-MD5, "
                               "CRAM-MD5, PLAIN, LOGIN",
                               source, "AuthenticationException");
        }
    }
    append(verdict.how,
           tls_note(view, {"", "SecureSocketOptions.Auto uses it on port 465 (SslOnConnect)"}));
    return verdict;
}

ClientVerdict jakarta_mail(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "Jakarta Mail";
    std::string const source = "smtp-facts.md §4.6";
    TlsHabits const habits{"set mail.smtp.starttls.enable=true", "set mail.smtp.ssl.enable=true"};
    std::initializer_list<std::string_view> const order = {"LOGIN", "PLAIN", "DIGEST-MD5", "NTLM"};
    ClientVerdict verdict;
    if (list.empty()) {
        verdict = {client, Outcome::fails, "",
                   "the server advertises no AUTH, so connect() returns without authenticating, "
                   "with no error, and the mail goes out unauthenticated (MAIL FROM is where a "
                   "server that needs AUTH refuses it)",
                   source};
        append(verdict.how, tls_note(view, habits));
        return verdict;
    }
    // Jakarta Mail 2.0.0 matches names in any case, and an AUTH= line gives it no mechanism.
    std::string mech;
    if (!view.legacy_auth_equals_only) {
        for (std::string_view name : order) {
            if (has_any_case(list, name)) {
                mech = name;
                break;
            }
        }
    }
    if (mech.empty()) {
        verdict = {client, Outcome::fails, "",
                   std::string("it throws AuthenticationFailedException(\"No authentication "
                               "mechanisms supported by both server and client\")") +
                       (view.legacy_auth_equals_only ? " (it does not read AUTH= lines)" : ""),
                   source};
        verdict.error = "jakarta.mail.AuthenticationFailedException: No authentication mechanisms "
                        "supported by both server and client";
        append(verdict.how, oauth_note(view, list, {"XOAUTH2"},
                                       "mail.smtp.auth.xoauth2.disable=false; it is off by "
                                       "default"));
    } else {
        Probe const p = probe(view, mech);
        std::string const why = "uses " + mech + ", the first of " + join(order) +
                                " the server advertises, with no fallback";
        if (p.answer == Answer::rejected && p.code == 530) {
            verdict = {client, Outcome::depends, mech,
                       why + "; this server answers 530, on which it tries STARTTLS and "
                             "retries",
                       source};
        } else {
            verdict = single(view, list, client, mech, why,
                             "jakarta.mail.AuthenticationFailedException", source);
        }
    }
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

ClientVerdict phpmailer(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "PHPMailer";
    std::string const source = "smtp-facts.md §4.7";
    std::string const failed = "SMTP Error: Could not authenticate.";
    TlsHabits const habits{"", "set SMTPSecure = 'ssl'"};
    ClientVerdict verdict;
    if (view.helo_only) {
        // SMTP::authenticate() without EHLO capabilities assumes LOGIN.
        verdict =
            single(view, list, client, "LOGIN",
                   "after HELO it knows no capabilities and sends AUTH LOGIN", failed, source);
        if (verdict.outcome == Outcome::depends) {
            verdict.outcome = Outcome::fails;
            verdict.error = failed;
            append(verdict.how, "a server without EHLO knows no AUTH");
        }
    } else if (list.empty() || view.legacy_auth_equals_only) {
        verdict = {client, Outcome::fails, "",
                   std::string("authenticate() fails with \"Authentication is not allowed at "
                               "this stage\"") +
                       (view.legacy_auth_equals_only ? " (it ignores AUTH= lines)" : ""),
                   source};
        verdict.error = failed;
    } else {
        std::string mech;
        for (std::string_view name : {"CRAM-MD5", "LOGIN", "PLAIN"}) {
            if (has_exact(list, name)) {
                mech = name;
                break;
            }
        }
        if (mech.empty()) {
            verdict = {client, Outcome::fails, "",
                       "it fails with \"No supported authentication methods found\"" +
                           case_note(list, {"CRAM-MD5", "LOGIN", "PLAIN"}),
                       source};
            verdict.error = failed;
            append(verdict.how, oauth_note(view, list, {"XOAUTH2"}, "an OAuth provider"));
        } else {
            verdict = single(view, list, client, mech,
                             "uses " + mech +
                                 ", the first of CRAM-MD5, LOGIN, PLAIN the server advertises, "
                                 "with no fallback",
                             failed, source);
        }
    }
    append(verdict.how, tls_note(view, habits));
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
    TlsHabits const habits{"set CURLOPT_USE_SSL", "use an smtps:// URL"};
    ClientVerdict verdict;
    if (list.empty() || view.legacy_auth_equals_only) {
        verdict = {client, Outcome::fails, "",
                   std::string(view.legacy_auth_equals_only
                                   ? "it ignores AUTH= lines, so it sees no AUTH"
                                   : "the server advertises no AUTH") +
                       ", so it skips authentication without an error and sends the mail "
                       "unauthenticated (MAIL FROM is where a server that needs AUTH refuses it)",
                   source};
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
        // Curl_sasl_start's order with a password, as built in Debian 12's curl 7.88.1.
        for (std::string_view name :
             {"GSSAPI", "DIGEST-MD5", "CRAM-MD5", "NTLM", "PLAIN", "LOGIN"}) {
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
        if (mech == "NTLM" && probe(view, "NTLM").answer != Answer::rejected) {
            // The probe sees 334 to a bare AUTH NTLM; the NTLM exchange itself needs a domain
            // account, and a password-only login is refused.
            verdict.outcome = Outcome::fails;
            verdict.error = denied;
            verdict.how += "; it stays with NTLM, which works only for an account NTLM accepts "
                           "(a domain account, DOMAIN\\user) and otherwise ends in "
                           "CURLE_LOGIN_DENIED, without trying another mechanism";
        }
        if (verdict.outcome != Outcome::works && forced.empty()) {
            for (std::string_view other : {"LOGIN", "PLAIN"}) {
                if (other != mech && has_exact(list, other) &&
                    probe(view, other).answer != Answer::rejected) {
                    append(verdict.how, "--login-options AUTH=" + std::string(other) +
                                            " (CURLOPT_LOGIN_OPTIONS) makes it use " +
                                            std::string(other) + ", which this server offers");
                    break;
                }
            }
        }
    }
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

ClientVerdict ruby_net_smtp(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "Ruby net-smtp (default :plain)";
    std::string const source = "smtp-facts.md §4.9";
    // net-smtp 0.3.1's check_auth_response raises SMTPAuthenticationError for every refusal of
    // AUTH PLAIN, whatever the code (smtp-facts.md §4.9 says otherwise: FINDINGS.md).
    std::string const error = "Net::SMTPAuthenticationError";
    ClientVerdict verdict =
        single(view, list, client, "PLAIN",
               "sends AUTH PLAIN without checking the list (it reads no mechanism list at all)",
               error, source);
    if (verdict.outcome == Outcome::depends && view.helo_only) {
        verdict.outcome = Outcome::fails;
        verdict.error = error;
        append(verdict.how, "a server without EHLO knows no AUTH");
    }
    if (verdict.outcome != Outcome::works) {
        if (probe(view, "LOGIN").answer == Answer::recognised ||
            (probe(view, "LOGIN").answer == Answer::unknown && has_any_case(list, "LOGIN"))) {
            append(verdict.how, "pass authtype :login, which this server offers");
        } else {
            append(verdict.how, oauth_note(view, list, {"XOAUTH2"}, "authtype :xoauth2"));
        }
    }
    append(verdict.how, tls_note(view, {"", "pass tls: true"}));
    return verdict;
}

bool lettre_user_prompt(std::string_view prompt) {
    std::string const lower = smtp::to_lower(prompt);
    return lower.find("username") != std::string::npos ||
           lower.find("user name") != std::string::npos;
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
        Probe const p = probe(view, "LOGIN");
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

// Every client here, configured for TLS because the server offers STARTTLS, stops when the
// server refuses it: none goes on to AUTH in plaintext.
ClientVerdict starttls_refused(ServerAuthView const& view, std::string const& client) {
    std::string const& reply = *view.starttls_refusal;
    std::string const code = reply.substr(0, 3);
    std::string const text = reply.size() > 4 ? reply.substr(4) : std::string();
    ClientVerdict verdict{client, Outcome::fails, "",
                          "STARTTLS is offered but refused (" + reply +
                              "), and a client configured for TLS stops there: it sends no AUTH",
                          "smtp-facts.md §4.12"};
    std::string ruby_class = "Net::SMTPUnknownError";
    if (code.starts_with('4')) {
        ruby_class = "Net::SMTPServerBusy";
    } else if (code.starts_with("50")) {
        ruby_class = "Net::SMTPSyntaxError";
    } else if (code.starts_with("53")) {
        ruby_class = "Net::SMTPAuthenticationError";
    } else if (code.starts_with('5')) {
        ruby_class = "Net::SMTPFatalError";
    }
    bool const simple_text = text.find_first_of("'\\") == std::string::npos;
    if (client.starts_with("Go ")) {
        verdict.error = reply;
    } else if (client.starts_with("Python")) {
        verdict.error = "SMTPResponseException: (" + code +
                        (simple_text ? ", b'" + text + "')" : std::string(", "));
    } else if (client.starts_with("Nodemailer")) {
        verdict.error = "Error upgrading connection with STARTTLS: " + reply;
    } else if (client == "PHPMailer") {
        verdict.error = "STARTTLS command failed";
    } else if (client.starts_with("Ruby")) {
        verdict.error = ruby_class + ": " + reply;
    } else if (client.starts_with("libcurl")) {
        verdict.error = "(64) STARTTLS denied, code " + code;
    } else if (client == "Jakarta Mail") {
        verdict.error = "jakarta.mail.MessagingException: " + reply;
    } else if (client == "MailKit") {
        verdict.error = "SmtpCommandException";
    } else if (client.starts_with(".NET")) {
        verdict.error = "SmtpException";
    } else if (client == "lettre") {
        verdict.error = code.starts_with('4') ? "transient error" : "permanent error";
    }
    append(verdict.how, "it fails with " + verdict.error);
    return verdict;
}

// The server sent bytes behind its STARTTLS 220. The verdict otherwise stands for a client that
// discards them; curl refuses; PHPMailer reads them as its post-TLS EHLO reply.
void injected(ServerAuthView const& view, ClientVerdict& verdict) {
    using Injection = ClientVerdict::Injection;
    std::string const source = "tests/clients/FINDINGS.md";
    if (verdict.client.starts_with("libcurl")) {
        verdict = {verdict.client, Outcome::fails, "",
                   "it refuses data after the STARTTLS 220 and stops before the handshake", source};
        verdict.error = "(8) Weird server reply";
        verdict.injection = Injection::refuses;
    } else if (verdict.client == "PHPMailer") {
        std::string mech;
        for (std::string_view name : {"CRAM-MD5", "LOGIN", "PLAIN"}) {
            if (has_exact(view.injected_auth, name)) {
                mech = name;
                break;
            }
        }
        verdict = {verdict.client, mech.empty() ? Outcome::depends : Outcome::fails, mech,
                   "EXPOSED (CVE-2011-0411 class): it takes the injected plaintext as its "
                   "post-TLS EHLO reply and reads every later reply one step late",
                   source};
        if (mech.empty()) {
            verdict.how += "; what it sends then depends on the injected bytes";
        } else {
            verdict.how +=
                "; the injected AUTH line makes it send AUTH " + mech + ", which fails out of step";
            verdict.error = "SMTP Error: Could not authenticate.";
        }
        verdict.injection = Injection::exposed;
    } else if (!checked_against(verdict.client).empty()) {
        verdict.injection = Injection::discards;
        append(verdict.how, "it discards the bytes injected behind the STARTTLS 220 and goes on "
                            "over TLS");
    } else {
        verdict.injection = Injection::unchecked;
        append(verdict.how, "whether it discards the bytes injected behind the STARTTLS 220 was "
                            "not checked");
    }
}

} // namespace

std::string_view outcome_name(ClientVerdict::Outcome outcome) noexcept {
    switch (outcome) {
    case Outcome::works:
        return "works";
    case Outcome::fails:
        return "fails";
    case Outcome::depends:
        return "depends";
    }
    return "depends";
}

std::string_view injection_name(ClientVerdict::Injection injection) noexcept {
    using Injection = ClientVerdict::Injection;
    switch (injection) {
    case Injection::none:
        return "";
    case Injection::discards:
        return "discards";
    case Injection::refuses:
        return "refuses";
    case Injection::exposed:
        return "exposed";
    case Injection::unchecked:
        return "not checked";
    }
    return "";
}

std::vector<ClientVerdict> client_compatibility(ServerAuthView const& view) {
    Mechanisms const& list = final_list(view);
    std::vector<ClientVerdict> verdicts = {
        go_net_smtp(view, list, true),
        go_net_smtp(view, list, false),
        python_login(view, list),
        nodemailer(view, list, ""),
        nodemailer(view, list, "PLAIN"),
        dotnet_smtp_client(view, list),
        mailkit(view, list),
        jakarta_mail(view, list),
        phpmailer(view, list),
        libcurl(view, list, ""),
        libcurl(view, list, "PLAIN"),
        libcurl(view, list, "LOGIN"),
        ruby_net_smtp(view, list),
        lettre(view, list),
    };
    if (view.starttls_refusal) {
        for (ClientVerdict& verdict : verdicts) {
            verdict = starttls_refused(view, verdict.client);
        }
    } else if (view.starttls_injected) {
        for (ClientVerdict& verdict : verdicts) {
            injected(view, verdict);
        }
    }
    for (ClientVerdict& verdict : verdicts) {
        verdict.checked_against = checked_against(verdict.client);
    }
    return verdicts;
}

} // namespace smtpprobe::diagnose
