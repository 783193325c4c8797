// Client predictions for managed runtimes: .NET SmtpClient, MailKit and Jakarta Mail.

#include "diagnose/client_model.hpp"
#include "report/words.hpp"

namespace smtpprobe::diagnose::client_model {

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
        ServerAnswer const p = answer_to(view, mech);
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
        ServerAnswer const p = answer_to(view, mech);
        std::string const why = "uses " + mech + ", the first of " +
                                join({order.begin(), order.end()}, ", ") +
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

} // namespace smtpprobe::diagnose::client_model
