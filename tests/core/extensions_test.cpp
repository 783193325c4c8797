#include "smtp/extensions.hpp"

#include "smtp/reply.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace smtpprobe::smtp;

namespace {
Capabilities caps(std::string const& wire) {
    ReplyParser parser;
    parser.feed(wire);
    std::optional<Reply> r = parser.next();
    if (!r)
        throw std::runtime_error("not a reply: " + wire);
    return parse_capabilities(*r);
}
Capabilities const postfix = caps("250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                                  "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
Capabilities const acs =
    caps("250-smtp.azurecomm.net Hello\r\n250-SIZE 31457280\r\n250 AUTH LOGIN\r\n");
} // namespace

TEST_CASE("a --size against SIZE: over the limit only when a number is advertised",
          "[core][extensions]") {
    CHECK_FALSE(check_size(postfix, 10240000));
    std::optional<ExtensionMismatch> over = check_size(postfix, 10240001);
    REQUIRE(over);
    CHECK(over->keyword == "SIZE");
    CHECK(over->detail.find("10240001 bytes") != std::string::npos);
    CHECK(over->detail.find("SIZE 10240000") != std::string::npos);
    CHECK(over->detail.find("552 5.3.4") != std::string::npos);
    CHECK_FALSE(check_size(caps("250-x\r\n250 SIZE 0\r\n"), 1u << 30));   // no fixed limit
    CHECK_FALSE(check_size(caps("250-x\r\n250 SIZE\r\n"), 1u << 30));     // no number
    CHECK_FALSE(check_size(caps("250-x\r\n250 8BITMIME\r\n"), 1u << 30)); // not advertised
}

TEST_CASE("non-ASCII addresses against SMTPUTF8", "[core][extensions]") {
    std::vector<std::string> const ascii{"a@example.org", "b@example.org"};
    std::vector<std::string> const utf8{"a@example.org", "j\xC3\xB6rg@example.org"};
    CHECK_FALSE(check_smtputf8(acs, ascii));
    CHECK_FALSE(check_smtputf8(postfix, utf8));
    std::optional<ExtensionMismatch> m = check_smtputf8(acs, utf8);
    REQUIRE(m);
    CHECK(m->keyword == "SMTPUTF8");
    CHECK(m->detail.find("j\xC3\xB6rg@example.org") != std::string::npos);
}

TEST_CASE("8-bit data against 8BITMIME, --requiretls against REQUIRETLS", "[core][extensions]") {
    CHECK(has_eight_bit("caf\xC3\xA9"));
    CHECK_FALSE(has_eight_bit("plain ASCII\r\n.\r\n"));
    CHECK_FALSE(check_8bitmime(acs, false));
    CHECK_FALSE(check_8bitmime(postfix, true));
    REQUIRE(check_8bitmime(acs, true));
    CHECK(check_8bitmime(acs, true)->keyword == "8BITMIME");
    CHECK_FALSE(check_requiretls(postfix, false));
    REQUIRE(check_requiretls(postfix, true));
    CHECK_FALSE(check_requiretls(caps("250-x\r\n250 REQUIRETLS\r\n"), true));
}

TEST_CASE("check_message runs every check that applies, in order", "[core][extensions]") {
    MessageNeeds needs;
    needs.size = 40'000'000;
    needs.addresses = {"\xC3\xBC@example.org"};
    needs.eight_bit = true;
    needs.requiretls = true;
    std::vector<ExtensionMismatch> const all = check_message(acs, needs);
    REQUIRE(all.size() == 4);
    CHECK(all[0].keyword == "SIZE");
    CHECK(all[1].keyword == "SMTPUTF8");
    CHECK(all[2].keyword == "8BITMIME");
    CHECK(all[3].keyword == "REQUIRETLS");
    CHECK(check_message(postfix, MessageNeeds{1000, {"a@example.org"}, true, false}).empty());
}

TEST_CASE("the sender extensions are listed with their RFCs", "[core][extensions]") {
    std::vector<std::string> names;
    for (SenderExtension const& e : sender_extensions()) {
        names.emplace_back(e.keyword);
        CHECK(e.rfc.starts_with("RFC "));
        CHECK_FALSE(e.meaning.empty());
    }
    CHECK(names == std::vector<std::string>{"SIZE", "8BITMIME", "SMTPUTF8", "PIPELINING",
                                            "CHUNKING", "DSN", "REQUIRETLS",
                                            "ENHANCEDSTATUSCODES"});
}
