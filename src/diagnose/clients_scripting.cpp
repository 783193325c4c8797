// Client predictions for interpreted languages: Python smtplib, Nodemailer, PHPMailer, net-smtp.

#include "diagnose/client_model.hpp"

namespace smtpprobe::diagnose::client_model {

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
    // No EHLO: every AUTH is an unknown command to such a server.
    fails_without_ehlo(view, verdict, "Invalid login");
    if (verdict.outcome != Outcome::works) {
        append(verdict.how, oauth_note(view, list, {"XOAUTH2"}, "the oauth2 option"));
    }
    append(verdict.how, tls_note(view, {"", "set secure: true (the default on port 465)"}));
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
        fails_without_ehlo(view, verdict, failed);
    } else if (list.empty() || view.legacy_auth_equals_only) {
        verdict = phpmailer_without_auth(view, client, source);
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
    fails_without_ehlo(view, verdict, error);
    if (verdict.outcome != Outcome::works) {
        if (answer_to(view, "LOGIN").answer == Answer::recognised ||
            (answer_to(view, "LOGIN").answer == Answer::unknown && has_any_case(list, "LOGIN"))) {
            append(verdict.how, "pass authtype :login, which this server offers");
        } else {
            append(verdict.how, oauth_note(view, list, {"XOAUTH2"}, "authtype :xoauth2"));
        }
    }
    append(verdict.how, tls_note(view, {"", "pass tls: true"}));
    return verdict;
}

} // namespace smtpprobe::diagnose::client_model
