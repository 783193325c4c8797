#include "render/text_sections.hpp"

namespace smtpprobe::text {

void envelope_section(Verdict const& v, Style const& st, std::string& out) {
    if (!v.envelope)
        return;
    Envelope const& e = *v.envelope;
    std::string how = e.connection == 0 ? std::string("no connection")
                                        : "connection " + std::to_string(e.connection);
    how += e.authenticated ? ", after AUTH " + e.mechanism : ", not authenticated";
    how += e.message_sent ? "; a message was sent" : "; no DATA: no message was sent";
    out += st.bold("Envelope") + st.dim(" (" + how + ")") + "\n";
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
