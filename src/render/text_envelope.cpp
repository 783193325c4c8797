#include "render/cells.hpp"
#include "render/text_sections.hpp"
#include "report/words.hpp"

namespace smtpprobe::text {

void envelope_section(Verdict const& v, Style const& st, std::string& out) {
    if (!v.envelope)
        return;
    Envelope const& e = *v.envelope;
    out += st.bold("Envelope") + st.dim(" (" + cells::envelope_context(e) + ")") + "\n";
    // --send: the first thing the section says is whether mail went out, and to whom.
    if (std::string const outcome = cells::envelope_outcome(e); !outcome.empty())
        out += "  " +
               (e.message_sent ? st.bold(wrap(outcome, 2, 2)) : st.yellow(wrap(outcome, 2, 2))) +
               "\n";
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
