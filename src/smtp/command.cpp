#include "smtp/command.hpp"

#include "smtp/base64.hpp"

#include <stdexcept>

namespace smtpprobe::smtp {
namespace {

void check_argument(std::string_view text) {
    if (text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        throw std::invalid_argument("command argument contains CR, LF or NUL");
}

Command plain(std::string text) {
    Command command{text + "\r\n", text, false};
    return command;
}

} // namespace

std::string_view to_string(HelloVerb verb) noexcept {
    return verb == HelloVerb::helo ? "HELO" : "EHLO";
}

Command ehlo_command(std::string_view name) {
    check_argument(name);
    return plain("EHLO " + std::string(name));
}

Command helo_command(std::string_view name) {
    check_argument(name);
    return plain("HELO " + std::string(name));
}

Command starttls_command() {
    return plain("STARTTLS");
}
Command quit_command() {
    return plain("QUIT");
}
Command noop_command() {
    return plain("NOOP");
}

Command auth_command(std::string_view mechanism) {
    check_argument(mechanism);
    if (mechanism.find(' ') != std::string_view::npos)
        throw std::invalid_argument("mechanism name contains a space");
    return plain("AUTH " + std::string(mechanism));
}

Command sasl_response_command(std::string_view raw) {
    std::string const encoded = smtp::base64_encode(raw);
    Command command;
    command.wire = encoded + "\r\n";
    command.shown = encoded.empty()
                        ? std::string("<empty response>")
                        : "<redacted: " + std::to_string(encoded.size()) + " bytes of base64>";
    command.secret = !encoded.empty();
    return command;
}

Command public_sasl_response_command(std::string_view raw) {
    return plain(smtp::base64_encode(raw));
}

Command cancel_command() {
    return plain("*");
}

Command rset_command() {
    return plain("RSET");
}

namespace {
std::string path(std::string_view address) {
    check_argument(address);
    if (address.find_first_of("<>") != std::string_view::npos)
        throw std::invalid_argument("address contains < or >");
    return "<" + std::string(address) + ">";
}
} // namespace

Command mail_command(std::string_view address, std::vector<std::string> const& parameters) {
    std::string text = "MAIL FROM:" + path(address);
    for (std::string const& p : parameters) {
        check_argument(p);
        text += " " + p;
    }
    return plain(std::move(text));
}

Command rcpt_command(std::string_view address) {
    return plain("RCPT TO:" + path(address));
}

} // namespace smtpprobe::smtp
