#include "session/redactor.hpp"

#include "session/terminal_text.hpp"
#include "session/transcript.hpp"
#include "smtp/base64.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe;

TEST_CASE("secrets and their base64 forms are replaced in any text", "[unit][redact]") {
    Redactor r;
    r.add_secret("hunter2-password", "password");
    std::string const text = "pw hunter2-password b64 " + smtp::base64_encode("hunter2-password");
    std::string const out = r.redact(text);
    CHECK(out.find("hunter2") == std::string::npos);
    CHECK(out.find(smtp::base64_encode("hunter2-password")) == std::string::npos);
    CHECK(out.find("<redacted password>") != std::string::npos);
}

TEST_CASE("a password inside any SASL blob is not readable from its base64", "[unit][redact]") {
    Redactor r;
    std::string const password = "correct-horse-battery";
    r.add_secret(password, "password");
    for (std::string prefix : {std::string("\0user\0", 6), std::string("u\0", 2),
                               std::string("\0", 1), std::string("user=x\1auth=Bearer ", 19)}) {
        std::string const blob = smtp::base64_encode(prefix + password);
        std::string const out = r.redact(blob);
        INFO(blob);
        CHECK(out != blob);
        // At most a few characters at each edge (partial groups) may survive.
        CHECK(out.find("<redacted") != std::string::npos);
    }
}

TEST_CASE("short values are not registered (they would match everywhere)", "[unit][redact]") {
    Redactor r;
    r.add_secret("ab", "password");
    CHECK(r.empty());
    CHECK(r.redact("abc") == "abc");
}

TEST_CASE("a rendered transcript never shows a secret", "[unit][redact][transcript]") {
    Redactor r;
    r.add_secret("s3cret-value", "password");
    Transcript t;
    t.add(1, TranscriptEvent::Kind::received, false, "220 ready");
    t.add(1, TranscriptEvent::Kind::sent, true, "AUTH PLAIN");
    t.add(1, TranscriptEvent::Kind::received, true, "535 bad s3cret-value");
    std::string const out = t.render(r, false);
    CHECK(out.find("s3cret-value") == std::string::npos);
    // swaks' notation: a four-character hint, then the line.
    CHECK(out.find("<-  220 ready\n") != std::string::npos);
    CHECK(out.find(" ~> AUTH PLAIN\n") != std::string::npos);
    CHECK(out.find("<~  535 bad <redacted password>\n") != std::string::npos);
}

TEST_CASE("a secret with control characters is redacted after an output escaped them",
          "[unit][redact][terminal]") {
    Redactor r;
    std::string const password = "tab\there\\and\x1b-esc";
    r.add_secret(password, "password");
    // A hostile server echoes the password; the text report and the transcript escape it
    // (terminal_safe) before the redactor sees them, the NTLM block uses escape_controls.
    for (std::string const& shown :
         {terminal_safe("echo " + password, false), escape_controls("echo " + password)}) {
        INFO(shown);
        std::string const out = r.redact(shown);
        CHECK(out.find("here") == std::string::npos);
        CHECK(out.find("<redacted password>") != std::string::npos);
    }
}
