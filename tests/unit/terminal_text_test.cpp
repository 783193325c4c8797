// What a hostile server's bytes become on the way to a terminal (session/terminal_text.hpp).

#include "session/terminal_text.hpp"

#include <catch2/catch.hpp>

#include <string>

using smtpprobe::escape_controls;
using smtpprobe::terminal_safe;

TEST_CASE("terminal_safe: ESC, CSI, OSC, CR, TAB and DEL become text, LF stays",
          "[unit][terminal]") {
    CHECK(terminal_safe("220 a\x1b[2J b\n", false) == "220 a\\x1B[2J b\n");
    CHECK(terminal_safe("title \x1b]0;owned\x07 end", false) == "title \\x1B]0;owned\\x07 end");
    CHECK(terminal_safe("csi \xc2\x9b"
                        "2J",
                        false) == "csi \\xC2\\x9B2J");
    CHECK(terminal_safe("cr\r tab\t del\x7f", false) == "cr\\r tab\\t del\\x7F");
    CHECK(terminal_safe(std::string("nul\0end", 7), false) == "nul\\x00end");
}

TEST_CASE("terminal_safe: text without controls is unchanged, backslash and UTF-8 included",
          "[unit][terminal]") {
    for (std::string const text : {"", "334 VXNlcm5hbWU6", "User\\0 C:\\path", "Grüße, 名前 é\n",
                                   "\xc2\xa0no-break space (C2 A0 is not C1)"}) {
        INFO(text);
        CHECK(terminal_safe(text, false) == text);
        CHECK(terminal_safe(text, true) == text);
    }
}

TEST_CASE("terminal_safe: with keep_sgr only colour sequences stay", "[unit][terminal]") {
    std::string const coloured = "\x1b[1mAUTH\x1b[0m \x1b[31;1mNO\x1b[0m";
    CHECK(terminal_safe(coloured, true) == coloured);
    CHECK(terminal_safe(coloured, false) == "\\x1B[1mAUTH\\x1B[0m \\x1B[31;1mNO\\x1B[0m");
    // Cursor movement, screen clearing and OSC are not SGR: escaped even with keep_sgr.
    CHECK(terminal_safe("\x1b[2J\x1b[H\x1b]52;c;eA==\x07\x1b[", true) ==
          "\\x1B[2J\\x1B[H\\x1B]52;c;eA==\\x07\\x1B[");
}

TEST_CASE("escape_controls keeps its stricter form: backslash doubled, LF escaped",
          "[unit][terminal]") {
    CHECK(escape_controls("a\\b\nc\x1b") == "a\\\\b\\nc\\x1B");
}
