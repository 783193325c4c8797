// The helpers every client prediction shares (client_model.hpp).

#include "diagnose/client_model.hpp"

#include "smtp/ascii.hpp"

#include <algorithm>

namespace smtpprobe::diagnose::client_model {

bool has_exact(Mechanisms const& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

bool has_any_case(Mechanisms const& list, std::string_view name) {
    return std::any_of(list.begin(), list.end(),
                       [&](std::string const& mech) { return smtp::to_upper(mech) == name; });
}

bool auth_only_after_tls(ServerAuthView const& view) {
    return view.tls_available && !view.implicit_tls && view.advertised_before_tls.empty() &&
           !view.advertised_after_tls.empty();
}

ServerAnswer answer_to(ServerAuthView const& view, std::string_view mech) {
    auto const it = view.first_reply.find(std::string(mech));
    if (it == view.first_reply.end()) {
        return {};
    }
    return {it->second == 334 ? Answer::recognised : Answer::rejected, it->second};
}

std::string answers(ServerAnswer const& p) {
    return "this server answers " + std::to_string(p.code);
}

std::string reply_text(ServerAuthView const& view, std::string_view mech) {
    auto const it = view.first_reply_text.find(std::string(mech));
    if (it != view.first_reply_text.end()) {
        return it->second;
    }
    ServerAnswer const p = answer_to(view, mech);
    return p.code == 0 ? std::string() : std::to_string(p.code);
}

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

std::string oauth_note(ServerAuthView const& view, Mechanisms const& list,
                       std::initializer_list<std::string_view> mechs, std::string_view how) {
    for (std::string_view mech : mechs) {
        if (has_any_case(list, mech) && answer_to(view, mech).answer != Answer::rejected) {
            return "with an OAuth token (" + std::string(how) + ") it can use " +
                   std::string(mech) + " instead";
        }
    }
    return "";
}

std::string tls_note(ServerAuthView const& view, TlsHabits const& habits) {
    if (view.implicit_tls) {
        return "this port uses implicit TLS: " + std::string(habits.implicit);
    }
    if (auth_only_after_tls(view) && !habits.starttls.empty()) {
        return "AUTH is offered only after STARTTLS: " + std::string(habits.starttls);
    }
    return "";
}

Quoted quoted(smtp::Reply const& reply) {
    return {reply.code, reply.lines.size() > 1, reply.lines.empty() ? "" : reply.lines.front()};
}

Quoted quoted(ServerAuthView const& view, std::string_view mech) {
    Quoted q{answer_to(view, mech).code, false, ""};
    std::string const line = reply_text(view, mech);
    if (line.size() > 4) {
        q.text = line.substr(4);
    }
    return q;
}

std::string go_style(Quoted const& q) {
    return std::to_string(q.code) + (q.text.empty() ? "" : " " + q.text);
}

std::string wire_style(Quoted const& q) {
    return std::to_string(q.code) + (q.multiline ? "-" : " ") + q.text;
}

std::string python_style(Quoted const& q) {
    std::string out = "SMTPAuthenticationError: (" + std::to_string(q.code) + ", ";
    if (q.text.find_first_of("'\\\"") == std::string::npos) {
        out += "b'" + q.text + (q.multiline ? "" : "')");
    }
    return out;
}

void fails_without_ehlo(ServerAuthView const& view, ClientVerdict& verdict,
                        std::string_view error) {
    if (verdict.outcome == Outcome::depends && view.helo_only) {
        verdict.outcome = Outcome::fails;
        verdict.error = error;
        append(verdict.how, "a server without EHLO knows no AUTH");
    }
}

ClientVerdict libcurl_without_auth(ServerAuthView const& view, std::string client,
                                   std::string source) {
    return {std::move(client), Outcome::fails, "",
            std::string(view.legacy_auth_equals_only ? "it ignores AUTH= lines, so it sees no AUTH"
                                                     : "the server advertises no AUTH") +
                ", so it skips authentication without an error and sends the mail "
                "unauthenticated (MAIL FROM is where a server that needs AUTH refuses it)",
            std::move(source)};
}

ClientVerdict phpmailer_without_auth(ServerAuthView const& view, std::string client,
                                     std::string source) {
    ClientVerdict verdict{std::move(client), Outcome::fails, "",
                          std::string("authenticate() fails with \"Authentication is not allowed "
                                      "at this stage\"") +
                              (view.legacy_auth_equals_only ? " (it ignores AUTH= lines)" : ""),
                          std::move(source)};
    verdict.error = "SMTP Error: Could not authenticate.";
    return verdict;
}

ClientVerdict single(ServerAuthView const& view, Mechanisms const& list, std::string client,
                     std::string mech, std::string const& why, std::string_view error,
                     std::string source) {
    ServerAnswer const p = answer_to(view, mech);
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

ClientVerdict in_order(ServerAuthView const& view, std::string client, Mechanisms const& candidates,
                       std::string const& order, std::string source, std::string_view error) {
    ClientVerdict verdict{std::move(client), Outcome::fails, "", "", std::move(source)};
    std::string steps;
    for (std::string const& mech : candidates) {
        ServerAnswer const p = answer_to(view, mech);
        if (!steps.empty()) {
            steps += ", then ";
        }
        if (p.answer == Answer::rejected) {
            steps += mech + " gets " + std::to_string(p.code);
            continue;
        }
        // smtpprobe's own exchange with the same password was refused: so is the library's.
        if (auto const it = view.exchange_refusal.find(mech); it != view.exchange_refusal.end()) {
            steps += mech + " refuses the password (" + go_style(quoted(it->second)) + ")";
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

} // namespace smtpprobe::diagnose::client_model
