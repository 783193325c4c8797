// /probe?target= validation, the allow-list, and the probe's time budget.

#include "exporter/allow_list.hpp"
#include "exporter/server.hpp"

#include <catch2/catch.hpp>

using namespace smtpprobe::exporter;

namespace {

AllowList list(std::initializer_list<char const*> rules) {
    AllowList out;
    for (char const* r : rules) {
        std::string why;
        REQUIRE(out.add(r, why));
    }
    return out;
}

TargetAddress target(std::string_view text) {
    std::string why;
    std::optional<TargetAddress> t = parse_target(text, why);
    INFO(why);
    REQUIRE(t);
    return *t;
}

} // namespace

TEST_CASE("targets: names, addresses, ports", "[exporter][target]") {
    CHECK(target("smtp.example.com:587").host == "smtp.example.com");
    CHECK(target("smtp.example.com:587").port == 587);
    CHECK(target("SMTP.Example.COM").host == "smtp.example.com");
    CHECK(target("SMTP.Example.COM").port == 0);
    CHECK(target("192.0.2.1:25").is_ip);
    CHECK(target("[2001:db8::1]:465").host == "2001:db8::1");
    CHECK(target("[2001:db8::1]:465").text() == "[2001:db8::1]:465");
    CHECK(target("2001:db8::1").is_ip);
    CHECK(target("a-b.c:1").port == 1);
}

TEST_CASE("targets that are refused, with the reason", "[exporter][target]") {
    std::pair<std::string, char const*> const bad[] = {
        {"", "missing target"},
        {std::string(300, 'a'), "longer than 261"},
        {"smtp.example.com:", "without a port"},
        {"smtp.example.com:0", "port must be a number"},
        {"smtp.example.com:65536", "port must be a number"},
        {"smtp.example.com:25x", "port must be a number"},
        {"smtp example.com:25", "neither a DNS name"},
        {"smtp.example.com/x:25", "neither a DNS name"},
        {"-smtp.example.com:25", "neither a DNS name"},
        {"smtp..example.com:25", "neither a DNS name"},
        {"smtp_x.example.com:25", "neither a DNS name"},
        {"%0d%0a:25", "neither a DNS name"},
        {"[2001:db8::1", "unbalanced ["},
        {"[192.0.2.1]:25", "only IPv6"},
        {"[2001:db8::1]x", "expected :PORT"},
        {"2001:db8::zz", "not an IPv6 address"},
        {std::string(64, 'a') + ".com:25", "neither a DNS name"},
    };
    for (auto const& [text, message] : bad) {
        INFO(text);
        std::string why;
        CHECK_FALSE(parse_target(text, why));
        CHECK(why.find(message) != std::string::npos);
    }
}

TEST_CASE("the allow-list: names, suffixes, networks, ports", "[exporter][target]") {
    AllowList const a = list({"smtp.example.com:587", "*.mx.example.org:25", "10.0.0.0/8:*",
                              "192.0.2.7:465", "[2001:db8::/32]:587", "localhost:2500-2599"});
    CHECK(a.allows(target("smtp.example.com:587")));
    CHECK(a.allows(target("SMTP.example.com:587")));
    CHECK_FALSE(a.allows(target("smtp.example.com:25")));
    CHECK_FALSE(a.allows(target("smtp.example.com.evil.test:587")));
    CHECK_FALSE(a.allows(target("xsmtp.example.com:587")));
    CHECK(a.allows(target("a.mx.example.org:25")));
    CHECK(a.allows(target("b.a.mx.example.org:25")));
    CHECK_FALSE(a.allows(target("mx.example.org:25")));
    CHECK_FALSE(a.allows(target("evilmx.example.org:25")));
    CHECK(a.allows(target("10.1.2.3:1")));
    CHECK(a.allows(target("10.255.255.255:65535")));
    CHECK_FALSE(a.allows(target("11.0.0.1:25")));
    CHECK(a.allows(target("192.0.2.7:465")));
    CHECK_FALSE(a.allows(target("192.0.2.8:465")));
    CHECK(a.allows(target("[2001:db8:ffff::1]:587")));
    CHECK_FALSE(a.allows(target("[2001:db9::1]:587")));
    CHECK(a.allows(target("localhost:2525")));
    CHECK_FALSE(a.allows(target("localhost:2600")));
    // A name that happens to look like an allowed network's address is still a name.
    CHECK_FALSE(list({"10.0.0.0/8:*"}).allows(target("ten.example:25")));
    CHECK_FALSE(AllowList().allows(target("127.0.0.1:25")));
    TargetAddress unset_port = target("smtp.example.com");
    CHECK_FALSE(a.allows(unset_port));
}

TEST_CASE("the allow-list refuses malformed rules", "[exporter][target]") {
    for (char const* bad : {"smtp.example.com", ":25", "smtp.example.com:x", "h:30-20", "h:0",
                            "*.:25", "*:25", "10.0.0.0/40:25", "[2001:db8::]25", "a b:25"}) {
        INFO(bad);
        AllowList a;
        std::string why;
        CHECK_FALSE(a.add(bad, why));
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("the probe budget follows the scrape timeout header", "[exporter][target]") {
    using std::chrono::milliseconds;
    Module m;
    m.request.options.total_timeout = milliseconds(15000);
    m.timeout_offset = milliseconds(500);
    CHECK(probe_budget(m, nullptr) == milliseconds(15000));
    std::string h = "10";
    CHECK(probe_budget(m, &h) == milliseconds(9500));
    h = "30";
    CHECK(probe_budget(m, &h) == milliseconds(15000)); // capped by the module
    h = "0.6";
    CHECK(probe_budget(m, &h) == milliseconds(300)); // never below half the scrape timeout
    h = "2.5";
    CHECK(probe_budget(m, &h) == milliseconds(2000));
    for (char const* bad : {"x", "-1", "0", "5s", "inf", "nan"}) {
        h = bad;
        INFO(bad);
        CHECK_FALSE(probe_budget(m, &h));
    }
    h = "";
    CHECK(probe_budget(m, &h) == milliseconds(15000));
}
