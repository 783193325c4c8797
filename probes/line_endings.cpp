#include "probes/line_endings.hpp"

#include "net/errc.hpp"

#include <system_error>

namespace smtpprobe::probes {
namespace {

smtp::Command bare_noop(LineEnding ending) {
    bool const lf = ending == LineEnding::lf;
    return smtp::Command{lf ? "NOOP\n" : "NOOP\r",
                         lf ? "NOOP<bare LF> (a LF without CR: --line-endings)"
                            : "NOOP<bare CR> (a CR without LF: --line-endings)",
                         false};
}

/// RFC 5321 §3.8 (421) and RFC 7504 (521): the server closes after these.
bool closes(smtp::Reply const& reply) {
    return reply.code == 421 || reply.code == 521;
}

} // namespace

LineEndingTest test_line_ending(Conversation& conversation, LineEnding ending,
                                std::chrono::milliseconds wait) {
    LineEndingTest test;
    test.ending = ending;
    test.connection = conversation.session();
    test.tls = conversation.tls();
    try {
        smtp::Reply const reply = conversation.exchange(bare_noop(ending), wait);
        test.behaviour =
            reply.code / 100 == 2 ? LineEndingBehaviour::line_end : LineEndingBehaviour::rejects;
        test.closed = closes(reply);
        test.reply = reply;
        return test;
    } catch (std::system_error const& e) {
        if (e.code() == net::errc::closed_by_peer) {
            // Closed without a reply: a refusal too, only a ruder one.
            test.behaviour = LineEndingBehaviour::rejects;
            test.closed = true;
            test.error = "the server closed the connection without a reply";
            return test;
        }
        if (e.code() != net::errc::timeout) {
            test.error = e.what();
            test.closed = true; // the conversation is in no state to go on
            return test;
        }
    }
    // No reply within the wait: the bare ending did not end the line. A CRLF ends it now; its
    // reply says what the server made of "NOOP<bare ending>".
    test.behaviour = LineEndingBehaviour::waits;
    conversation.note("no reply within " + std::to_string(wait.count()) +
                      " ms: the server waits for more; sending CRLF");
    try {
        smtp::Reply const reply =
            conversation.exchange(smtp::Command{"\r\n", "<CRLF> (ends the line)", false});
        test.reply = reply;
        test.reply_after_crlf = true;
        test.closed = closes(reply);
    } catch (std::system_error const& e) {
        test.error = std::string("after the CRLF: ") + e.what();
        test.closed = true;
    }
    return test;
}

LineEndingCheck check_line_endings(NextSession const& next, std::chrono::milliseconds wait) {
    LineEndingCheck check;
    check.wait = wait;
    Conversation* conversation = nullptr;
    for (LineEnding const ending : {LineEnding::lf, LineEnding::cr}) {
        if (conversation == nullptr) {
            ReadySession ready = next();
            if (ready.conversation == nullptr) {
                LineEndingTest& test = check.tests.emplace_back();
                test.ending = ending;
                test.error = "no session: " + ready.error;
                continue;
            }
            conversation = ready.conversation;
        }
        LineEndingTest const& test =
            check.tests.emplace_back(test_line_ending(*conversation, ending, wait));
        if (test.closed)
            conversation = nullptr;
    }
    if (conversation != nullptr)
        conversation->quit();
    return check;
}

} // namespace smtpprobe::probes
