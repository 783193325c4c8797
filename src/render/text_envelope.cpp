#include "render/text_sections.hpp"
#include "report/words.hpp"

namespace smtpprobe::text {

void envelope_section(Verdict const& v, Style const& st, std::string& out) {
    if (!v.envelope)
        return;
    Envelope const& e = *v.envelope;
    std::string how = e.connection == 0 ? std::string("no connection")
                                        : "connection " + std::to_string(e.connection);
    how += e.authenticated ? ", after AUTH " + e.mechanism : ", not authenticated";
    how += e.message_sent     ? "; a message was sent"
           : e.send_requested ? "; --send: no message was sent"
                              : "; no DATA: no message was sent";
    out += st.bold("Envelope") + st.dim(" (" + how + ")") + "\n";
    // --send: the first thing the section says is whether mail went out, and to whom.
    if (e.message_sent) {
        out +=
            "  " +
            st.bold(wrap("A test message WAS SENT to " + join(e.recipients, ", ") +
                             (e.queue_id.empty() ? std::string(" (no queue id in the reply)")
                                                 : ", queued as " + e.queue_id) +
                             " (" + std::to_string(e.message_bytes) + " bytes, " +
                             (e.message_built ? "built by smtpprobe" : "from --data-file") + ").",
                         2, 2)) +
            "\n";
    } else if (e.send_requested) {
        out += "  " +
               st.yellow(wrap("--send: NO message was sent" +
                                  (e.not_sent.empty() ? std::string(" (see the replies below).")
                                                      : ": " + e.not_sent + "."),
                              2, 2)) +
               "\n";
    }
    for (EnvelopeStep const& step : e.steps) {
        std::string command = std::string(verb(step.kind));
        if (!step.argument.empty())
            command += " " + step.argument;
        std::string reply = step.reply ? step.reply->wire() : std::string("(no reply)");
        bool const refused = step.reply && step.reply->code / 100 != 2 && step.reply->code != 354;
        bool const temporary = step.reply && step.reply->code / 100 == 4;
        out += "  " + pad(command, 40) + " " +
               (refused ? (temporary ? st.yellow(reply) : st.red(reply)) : reply) + "\n";
        if (!step.meaning.empty())
            out += "      " + wrap(step.meaning, 6, 6) + "\n";
        if (!step.fix.empty())
            out += "      " + wrap("fix: " + step.fix, 11, 6) + "\n";
    }
    if (!e.stopped.empty())
        out += "  " + st.yellow(wrap("stopped: " + e.stopped, 4, 2)) + "\n";
    out += "\n";
}

} // namespace smtpprobe::text
