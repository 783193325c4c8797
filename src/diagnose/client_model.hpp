#pragma once
// Private to diagnose/client*.cpp: the client model. The helpers the predictions of client
// behaviour share, and the predictors (one per library).

#include "diagnose/clients.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::diagnose::client_model {

using Outcome = ClientVerdict::Outcome;
using Mechanisms = std::vector<std::string>;

bool has_exact(Mechanisms const& list, std::string_view name);

/// RFC 4954 §8: mechanism names are case-insensitive, so the server treats "plain" as PLAIN.
bool has_any_case(Mechanisms const& list, std::string_view name);

bool auth_only_after_tls(ServerAuthView const& view);

enum class Answer { recognised, rejected, unknown };

/// How the server answered "AUTH <mech>" in the probe, as a prediction reads it.
struct ServerAnswer {
    Answer answer = Answer::unknown;
    int code = 0;
};

/// The server's answer to "AUTH <mech>"; unknown when that mechanism was not probed.
ServerAnswer answer_to(ServerAuthView const& view, std::string_view mech);

std::string answers(ServerAnswer const& p);

/// The first line of the server's reply to "AUTH <mech>", as sent ("504 5.7.4 ..."); the code
/// alone when the text was not kept.
std::string reply_text(ServerAuthView const& view, std::string_view mech);

/// " (it compares names case-sensitively; this server advertises "login")" when a preferred
/// mechanism is only advertised in another case.
std::string case_note(Mechanisms const& list, std::initializer_list<std::string_view> preferred);

void append(std::string& how, std::string_view note);

/// A reply a library quotes in its error: the code, whether more lines follow, the first line.
struct Quoted {
    int code = 0;
    bool multiline = false;
    std::string text; ///< the first line's text, without the code
};

Quoted quoted(smtp::Reply const& reply);
/// The reply to "AUTH <mech>" of the recognition probe, which keeps the first line only.
Quoted quoted(ServerAuthView const& view, std::string_view mech);
/// "535 5.7.8 Username and Password not accepted" (Go's textproto.Error: the lines that
/// follow come after a "\n").
std::string go_style(Quoted const& q);
/// The reply as read, first line: "535-5.7.8 ..." when more lines follow (Nodemailer's and
/// Jakarta Mail's errors quote the server's response so).
std::string wire_style(Quoted const& q);
/// SMTPAuthenticationError's str(): "SMTPAuthenticationError: (535, b'5.7.8 ...')"; the bytes'
/// repr only for text that Python shows unescaped, else up to the code.
std::string python_style(Quoted const& q);

/// An OAuth mechanism the library supports only when configured for it (smtp-facts.md §4.12),
/// offered by the server and not refused in the probe.
std::string oauth_note(ServerAuthView const& view, Mechanisms const& list,
                       std::initializer_list<std::string_view> mechs, std::string_view how);

/// How the library gets TLS, for the notes (smtp-facts.md §4.12 quirks table).
struct TlsHabits {
    std::string_view starttls; ///< what enables STARTTLS; empty: done automatically
    std::string_view implicit; ///< how to use implicit TLS; empty: not possible
};

std::string tls_note(ServerAuthView const& view, TlsHabits const& habits);

/// A library that sends AUTH after HELO too: a verdict still `depends` there fails with `error`,
/// since a server without EHLO knows no AUTH.
void fails_without_ehlo(ServerAuthView const& view, ClientVerdict& verdict, std::string_view error);

/// libcurl when it sees no AUTH (none advertised, or an AUTH= line only): it skips
/// authentication without an error.
ClientVerdict libcurl_without_auth(ServerAuthView const& view, std::string client,
                                   std::string source);

/// PHPMailer after EHLO without a usable "AUTH " line: "Authentication is not allowed at this
/// stage", no AUTH sent.
ClientVerdict phpmailer_without_auth(ServerAuthView const& view, std::string client,
                                     std::string source);

/// A library that sends exactly one mechanism: the verdict is that mechanism's probe.
ClientVerdict single(ServerAuthView const& view, Mechanisms const& list, std::string client,
                     std::string mech, std::string const& why, std::string_view error,
                     std::string source);

/// A library that tries its candidates in order and moves on after any failure.
ClientVerdict in_order(ServerAuthView const& view, std::string client, Mechanisms const& candidates,
                       std::string const& order, std::string source, std::string_view error);

// The predictors, one verdict each for client_compatibility() (clients.cpp). `list` is the
// mechanism list the client acts on.

// clients_native.cpp: libraries of compiled languages (Go, C, Rust).

ClientVerdict go_net_smtp(ServerAuthView const& view, Mechanisms const& list, bool plain);
ClientVerdict libcurl(ServerAuthView const& view, Mechanisms const& list, std::string_view forced);
ClientVerdict lettre(ServerAuthView const& view, Mechanisms const& list);

// clients_scripting.cpp: libraries of interpreted languages (Python, JavaScript, PHP, Ruby).

ClientVerdict python_login(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict nodemailer(ServerAuthView const& view, Mechanisms const& list,
                         std::string_view forced);
ClientVerdict phpmailer(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict ruby_net_smtp(ServerAuthView const& view, Mechanisms const& list);

// clients_oauth.cpp: the same libraries configured with an OAuth access token.

ClientVerdict go_xoauth2(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict python_xoauth2(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict nodemailer_oauth2(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict jakarta_xoauth2(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict phpmailer_xoauth2(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict libcurl_bearer(ServerAuthView const& view, Mechanisms const& list);

// clients_managed.cpp: libraries of managed runtimes (.NET, the JVM).

ClientVerdict dotnet_smtp_client(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict mailkit(ServerAuthView const& view, Mechanisms const& list);
ClientVerdict jakarta_mail(ServerAuthView const& view, Mechanisms const& list);

} // namespace smtpprobe::diagnose::client_model
