#include "smtp/message.hpp"

namespace smtpprobe::smtp {

DataPayload data_payload(std::string_view message) {
    DataPayload out;
    out.wire.reserve(message.size() + message.size() / 32 + 8);
    bool line_start = true;
    auto end_line = [&] {
        out.wire += "\r\n";
        ++out.lines;
        line_start = true;
    };
    for (std::size_t i = 0; i < message.size(); ++i) {
        char const c = message[i];
        if (c == '\r') {
            if (i + 1 < message.size() && message[i + 1] == '\n')
                ++i; // CRLF
            else
                ++out.bare_cr;
            end_line();
            continue;
        }
        if (c == '\n') {
            ++out.bare_lf;
            end_line();
            continue;
        }
        if (line_start && c == '.') {
            out.wire += '.';
            ++out.dots_stuffed;
        }
        line_start = false;
        out.wire += c;
    }
    if (!line_start || message.empty()) {
        out.final_crlf_added = true;
        end_line();
    }
    out.wire += ".\r\n";
    return out;
}

} // namespace smtpprobe::smtp
