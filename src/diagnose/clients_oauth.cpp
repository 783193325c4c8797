// Client predictions for the libraries configured with an OAuth 2.0 access token instead of a
// password: what each sends (which mechanism, whether it checks the EHLO list, an initial
// response or not, what it answers to an error challenge) and what it concludes. Read from the
// installed libraries' code and checked on the wire by tests/clients (FINDINGS.md, "OAuth").

#include "diagnose/client_model.hpp"

namespace smtpprobe::diagnose::client_model {

namespace {

std::string const findings = "tests/clients/FINDINGS.md (OAuth)";

// What the server does with a token sent with `mech`, as smtpprobe saw it.
struct TokenAnswer {
    enum class Kind {
        accepted,    ///< smtpprobe's own exchange with the token got 235
        not_offered, ///< "AUTH <mech>" got a refusal (504 ...) before any token
        refused,     ///< the token was sent and refused
        not_tried,   ///< the server answers 334, but no token was exchanged
        unknown,     ///< not probed
    };
    Kind kind = Kind::unknown;
    Quoted reply;           ///< not_offered, refused: the reply a library sees last
    bool challenge = false; ///< refused after an error challenge (334 with the error JSON)
};

TokenAnswer token_answer(ServerAuthView const& view, std::string_view mech) {
    using Kind = TokenAnswer::Kind;
    std::string const name(mech);
    if (view.authenticated.contains(name)) {
        return {Kind::accepted, {}, false};
    }
    ServerAnswer const first = answer_to(view, mech);
    if (first.answer == Answer::rejected) {
        return {Kind::not_offered, quoted(view, mech), false};
    }
    if (auto const it = view.exchange_refusal.find(name); it != view.exchange_refusal.end()) {
        return {Kind::refused, quoted(it->second), view.error_challenge.contains(name)};
    }
    return {first.answer == Answer::recognised ? Kind::not_tried : Kind::unknown, {}, false};
}

// The verdict for a library that has sent AUTH <mech> with the token; `error` formats the
// reply it fails on, `challenge_note` says what it does with an error challenge.
ClientVerdict token_verdict(ServerAuthView const& view, Mechanisms const& list, std::string client,
                            std::string const& mech, std::string const& why,
                            std::string (*error)(Quoted const&), std::string_view challenge_note,
                            std::string source) {
    using Kind = TokenAnswer::Kind;
    TokenAnswer const a = token_answer(view, mech);
    ClientVerdict verdict{std::move(client), Outcome::depends, mech, why, std::move(source)};
    switch (a.kind) {
    case Kind::accepted:
        verdict.outcome = Outcome::works;
        append(verdict.how,
               "the server accepted the token in smtpprobe's own " + mech + " exchange");
        break;
    case Kind::not_offered:
        verdict.outcome = Outcome::fails;
        verdict.error = error(a.reply);
        append(verdict.how, "the server answers " + go_style(a.reply) + " to AUTH " + mech);
        break;
    case Kind::refused:
        verdict.outcome = Outcome::fails;
        verdict.error = error(a.reply);
        append(verdict.how, "the server refused the token in smtpprobe's own exchange (" +
                                go_style(a.reply) + ")");
        if (a.challenge) {
            append(verdict.how, challenge_note);
        }
        break;
    case Kind::not_tried:
    case Kind::unknown:
        if (view.token_given) {
            append(verdict.how, mech + " was not tried with the token");
        } else {
            append(verdict.how, "whether it works depends on the token (no --oauth-token-* "
                                "given, so smtpprobe did not try one)");
        }
        if (a.kind == Kind::unknown && !has_any_case(list, mech)) {
            append(verdict.how, mech + " is not advertised, so the server will probably refuse "
                                       "it");
        }
        break;
    }
    return verdict;
}

std::string nodemailer_error(Quoted const& q) {
    return "Invalid login: " + wire_style(q);
}

std::string python_error(Quoted const& q) {
    return python_style(q);
}

std::string go_error(Quoted const& q) {
    return go_style(q);
}

std::string phpmailer_error(Quoted const&) {
    return "SMTP Error: Could not authenticate.";
}

std::string curl_error(Quoted const&) {
    return "(67) Login denied";
}

std::string jakarta_error(Quoted const& q) {
    return "jakarta.mail.AuthenticationFailedException: " + wire_style(q);
}

} // namespace

// A custom smtp.Auth (net/smtp has none for OAuth), driven the way SendMail does it: the AUTH
// extension check, then Start, whose XOAUTH2 initial response goes on the AUTH line whatever
// the list holds; Next answers an error challenge with an empty response, and Client.Auth sends
// "*" after the final refusal.
ClientVerdict go_xoauth2(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "Go net/smtp (XOAUTH2 smtp.Auth)";
    std::string const source = "smtp-facts.md §4.1; " + findings;
    if (list.empty() || view.legacy_auth_equals_only) {
        ClientVerdict verdict{client, Outcome::fails, "",
                              "SendMail stops with \"smtp: server doesn't support AUTH\" before "
                              "the smtp.Auth is asked",
                              source};
        verdict.error = "smtp: server doesn't support AUTH";
        return verdict;
    }
    ClientVerdict verdict = token_verdict(
        view, list, client, "XOAUTH2",
        "Start sends AUTH XOAUTH2 with the token as an initial response, without checking the "
        "list or TLS",
        go_error,
        "it answers the error challenge with an empty response and fails with the final reply, "
        "then sends \"*\"",
        source);
    if (!view.tls_available) {
        append(verdict.how, "there is no TLS and the smtp.Auth does not check for it (as "
                            "PlainAuth does), so the token goes in plaintext");
    }
    append(verdict.how, tls_note(view, {"", "dial TLS yourself and use NewClient, as SendMail "
                                            "cannot"}));
    return verdict;
}

// smtplib.SMTP.auth("XOAUTH2", authobject): no check of the EHLO list (login() has one, auth()
// has not), the initial response by default, and the authobject answers an error challenge
// with "" (an empty line); the final reply raises SMTPAuthenticationError.
ClientVerdict python_xoauth2(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "Python smtplib (auth() XOAUTH2)";
    std::string const source = "smtp-facts.md §4.2; " + findings;
    ClientVerdict verdict = token_verdict(
        view, list, client, "XOAUTH2",
        "auth() sends AUTH XOAUTH2 with the initial response without checking the list",
        python_error,
        "its authobject answers the error challenge with an empty line, and the final reply "
        "raises SMTPAuthenticationError (an authobject that takes no argument, as in many "
        "examples, raises TypeError there instead)",
        source);
    append(verdict.how, tls_note(view, {"call starttls() before auth()", "use SMTP_SSL"}));
    return verdict;
}

// auth: {type: 'OAuth2', user, accessToken}: the transport sets the method to XOAUTH2, which
// is sent whatever the list holds. After an error challenge it sends an empty line and, on the
// final reply, asks for a new token (getToken(renew)); without a refresh token or
// provisionCallback it gets the same one and sends AUTH XOAUTH2 once more before failing.
ClientVerdict nodemailer_oauth2(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "Nodemailer (OAuth2 accessToken)";
    std::string const source = "smtp-facts.md §4.3; " + findings;
    ClientVerdict verdict = token_verdict(
        view, list, client, "XOAUTH2",
        "type 'OAuth2' makes it send AUTH XOAUTH2 with the token as an initial response, "
        "whatever is advertised",
        nodemailer_error,
        "it answers the error challenge with an empty line, then asks for a new token, gets the "
        "same one (no refresh token) and sends AUTH XOAUTH2 a second time before failing",
        source);
    fails_without_ehlo(view, verdict, "Invalid login");
    append(verdict.how, tls_note(view, {"", "set secure: true (the default on port 465)"}));
    return verdict;
}

// mail.smtp.auth.mechanisms=XOAUTH2, the token as the password: it sends XOAUTH2 only when the
// server advertises it (in any case), with the initial response; its OAuth2Authenticator has
// no answer to a challenge: doAuth() throws "OAUTH2 asked for more", but the finally block of
// Authenticator.authenticate() closes the connection and throws another
// AuthenticationFailedException in its place, whose message is the last reply: the 334 and
// the error challenge's base64.
ClientVerdict jakarta_xoauth2(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "Jakarta Mail (auth.mechanisms XOAUTH2)";
    std::string const source = "smtp-facts.md §4.6; " + findings;
    TlsHabits const habits{"set mail.smtp.starttls.enable=true", "set mail.smtp.ssl.enable=true"};
    ClientVerdict verdict;
    if (list.empty()) {
        verdict = {client, Outcome::fails, "",
                   "the server advertises no AUTH, so connect() returns without authenticating, "
                   "with no error, and the mail goes out unauthenticated",
                   source};
    } else if (view.legacy_auth_equals_only || !has_any_case(list, "XOAUTH2")) {
        verdict = {client, Outcome::fails, "",
                   std::string("XOAUTH2 is not advertised") +
                       (view.legacy_auth_equals_only ? " (it does not read AUTH= lines)" : "") +
                       ", so it throws AuthenticationFailedException(\"No authentication "
                       "mechanisms supported by both server and client\") without sending AUTH",
                   source};
        verdict.error = "jakarta.mail.AuthenticationFailedException: No authentication mechanisms "
                        "supported by both server and client";
    } else {
        verdict = token_verdict(view, list, client, "XOAUTH2",
                                "it sends AUTH XOAUTH2 with the token as an initial response, "
                                "XOAUTH2 being advertised",
                                jakarta_error,
                                "it has no answer to the error challenge: it closes the "
                                "connection and throws AuthenticationFailedException with the "
                                "challenge as its message (334 and the base64 JSON)",
                                source);
        TokenAnswer const a = token_answer(view, "XOAUTH2");
        if (a.kind == TokenAnswer::Kind::refused && a.challenge) {
            verdict.error = "jakarta.mail.AuthenticationFailedException: 334 ";
        }
    }
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

// AuthType = 'XOAUTH2' with an OAuthTokenProvider (setOAuth): SMTP::authenticate() uses
// XOAUTH2 only when the server advertises exactly that name, sends the initial response and
// expects 235 at once. When XOAUTH2 is not advertised, it forgets the requested type and picks
// the first of CRAM-MD5, LOGIN, PLAIN with the Username and Password properties, empty here.
ClientVerdict phpmailer_xoauth2(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "PHPMailer (AuthType XOAUTH2)";
    std::string const source = "smtp-facts.md §4.7; " + findings;
    std::string const failed = phpmailer_error({});
    std::string const challenge =
        "it expects 235 at once, so an error challenge fails it without an answer";
    TlsHabits const habits{"", "set SMTPSecure = 'ssl'"};
    ClientVerdict verdict;
    if (view.helo_only) {
        verdict = token_verdict(view, list, client, "XOAUTH2",
                                "after HELO it knows no capabilities and sends the requested "
                                "AUTH XOAUTH2 with the initial response",
                                phpmailer_error, challenge, source);
        fails_without_ehlo(view, verdict, failed);
    } else if (list.empty() || view.legacy_auth_equals_only) {
        verdict = phpmailer_without_auth(view, client, source);
    } else if (has_exact(list, "XOAUTH2")) {
        verdict = token_verdict(view, list, client, "XOAUTH2",
                                "it sends AUTH XOAUTH2 with the token from getOauth64() as an "
                                "initial response, XOAUTH2 being advertised",
                                phpmailer_error, challenge, source);
    } else {
        std::string mech;
        for (std::string_view name : {"CRAM-MD5", "LOGIN", "PLAIN"}) {
            if (has_exact(list, name)) {
                mech = name;
                break;
            }
        }
        std::string const why = "XOAUTH2 is not advertised" + case_note(list, {"XOAUTH2"}) +
                                ", so it drops the requested AuthType";
        if (mech.empty()) {
            verdict = {client, Outcome::fails, "",
                       why + " and finds none of CRAM-MD5, LOGIN, PLAIN either (\"No supported "
                             "authentication methods found\")",
                       source};
        } else {
            verdict = {client, Outcome::fails, mech,
                       why + " and silently uses " + mech +
                           ", the first of CRAM-MD5, LOGIN, PLAIN advertised, with the Username "
                           "and Password properties (empty with an OAuth provider), which the "
                           "server refuses",
                       source};
        }
        verdict.error = failed;
    }
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

// curl --oauth2-bearer (CURLOPT_XOAUTH2_BEARER) with --user: with a bearer token it considers
// only OAUTHBEARER, then XOAUTH2, matched case-sensitively; no initial response unless
// --sasl-ir. It answers an OAUTHBEARER error challenge with \x01 (AQ==, RFC 7628 §3.2.3) and
// gives up on an XOAUTH2 one without an answer; either ends in CURLE_LOGIN_DENIED.
ClientVerdict libcurl_bearer(ServerAuthView const& view, Mechanisms const& list) {
    std::string const client = "libcurl (--oauth2-bearer)";
    std::string const source = "smtp-facts.md §4.8; " + findings;
    TlsHabits const habits{"set CURLOPT_USE_SSL", "use an smtps:// URL"};
    ClientVerdict verdict;
    if (list.empty() || view.legacy_auth_equals_only) {
        verdict = libcurl_without_auth(view, client, source);
    } else if (has_exact(list, "OAUTHBEARER")) {
        verdict = token_verdict(view, list, client, "OAUTHBEARER",
                                "with a bearer token it takes OAUTHBEARER when advertised, and "
                                "sends AUTH OAUTHBEARER without an initial response (unless "
                                "--sasl-ir), the token after the 334",
                                curl_error,
                                "it answers the error challenge with \\x01 (AQ==) and stops at "
                                "the final reply",
                                source);
    } else if (has_exact(list, "XOAUTH2")) {
        verdict = token_verdict(view, list, client, "XOAUTH2",
                                "with a bearer token it takes XOAUTH2 when OAUTHBEARER is not "
                                "advertised, and sends AUTH XOAUTH2 without an initial response "
                                "(unless --sasl-ir), the token after the 334",
                                curl_error,
                                "it does not answer the error challenge and stops there", source);
    } else {
        verdict = {client, Outcome::fails, "",
                   "with a bearer token it uses only OAUTHBEARER or XOAUTH2, neither of which is "
                   "advertised" +
                       case_note(list, {"OAUTHBEARER", "XOAUTH2"}) +
                       ", so it sends no AUTH and fails with CURLE_LOGIN_DENIED",
                   source};
        verdict.error = curl_error({});
    }
    append(verdict.how, "without --user it sends no AUTH at all");
    append(verdict.how, tls_note(view, habits));
    return verdict;
}

} // namespace smtpprobe::diagnose::client_model
