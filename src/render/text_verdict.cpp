#include "render/text_sections.hpp"

#include <algorithm>

namespace smtpprobe::text {

void findings_section(Verdict const& v, Style const& st, std::string& out) {
    if (v.findings.empty())
        return;
    out += st.bold("Findings") + "\n";
    for (Finding const& f : v.findings) {
        std::string label = f.severity == Severity::error     ? st.red("ERROR  ")
                            : f.severity == Severity::warning ? st.yellow("WARN   ")
                                                              : st.dim("INFO   ");
        out += "  " + label + wrap(f.title, 9, 9) + "\n";
        if (!f.detail.empty())
            out += "         " + wrap(f.detail, 9, 9) + "\n";
        for (std::string const& e : f.evidence)
            out += "         " + st.dim(wrap("> " + e, 11, 9)) + "\n";
    }
    out += "\n";
}

void clients_section(Verdict const& r, Style const& st, std::string& out) {
    if (r.clients.empty())
        return;
    out += st.bold("Client libraries") + st.dim(" (what each would do against this server)") + "\n";
    std::size_t client_width = 10;
    for (ClientRow const& c : r.clients)
        client_width = std::max(client_width, c.client.size() + 2);
    for (ClientRow const& c : r.clients) {
        std::string const outcome = pad(to_string(c.outcome), 9);
        std::string line = "  " + (c.outcome == ClientOutcome::fails   ? st.red(outcome)
                                   : c.outcome == ClientOutcome::works ? st.green(outcome)
                                                                       : st.yellow(outcome));
        line += pad(c.client, client_width);
        std::size_t const indent = 2 + 9 + client_width;
        std::string how = c.how;
        if (!c.error.empty())
            how += "; error: " + c.error;
        how += c.checked_against.empty() ? " (from documentation)"
                                         : " (checked against " + c.checked_against + ")";
        line += wrap(how, indent, indent);
        out += line + "\n";
    }
    std::string exposed;
    for (ClientRow const& c : r.clients)
        if (c.injection == ClientInjection::exposed)
            exposed += (exposed.empty() ? "" : ", ") + c.client;
    if (!exposed.empty())
        out += "  " + st.red("Exposed to the STARTTLS injection: " + exposed) + "\n";
    out += "\n";
}

void checks_section(Verdict const& v, Style const& st, std::string& out) {
    bool const asked =
        std::any_of(v.checks.begin(), v.checks.end(), [](Check const& c) { return c.expected; });
    if (!asked)
        return;
    out += st.bold("Checks") + "\n";
    for (Check const& c : v.checks) {
        std::string const label = pad(std::string(to_string(c.status)), 10);
        out += "  " +
               (c.status == CheckState::ok        ? st.green(label)
                : c.status == CheckState::warning ? st.yellow(label)
                                                  : st.red(label)) +
               pad(c.id, 16) + wrap(c.message, 28, 28) + "\n";
    }
    out += "\n";
}

void explanations_section(Verdict const& r, Style const& st, std::string& out) {
    if (r.explanations.empty())
        return;
    out += st.bold("Codes seen") + "\n";
    for (Explanation const& e : r.explanations) {
        std::string text = e.text + " [" + e.source + "]";
        if (!e.advice.empty())
            text += " " + e.advice;
        out += "  " + pad(e.subject, 9) + wrap(text, 11, 11) + "\n";
    }
    out += "\n";
}

} // namespace smtpprobe::text
