#include "net/proxy_spec.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>

using smtpprobe::net::choose_proxy;
using smtpprobe::net::no_proxy_matches;
using smtpprobe::net::parse_proxy_url;
using smtpprobe::net::ProxyScheme;
using smtpprobe::net::ProxySources;
using smtpprobe::net::ProxySpec;

namespace {

std::string parse_error(std::string const& url, bool allow_password = false) {
    try {
        parse_proxy_url(url, allow_password);
    } catch (std::invalid_argument const& e) {
        return e.what();
    }
    return "(parsed)";
}

ProxySources env(std::map<std::string, std::string> vars) {
    ProxySources s;
    s.getenv = [vars](char const* name) -> std::optional<std::string> {
        auto const it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
    return s;
}

} // namespace

TEST_CASE("proxy URLs parse as curl spells them", "[unit][proxy_spec]") {
    struct Case {
        char const* url;
        ProxyScheme scheme;
        char const* host;
        unsigned short port;
        char const* user;
        char const* display;
    };
    Case const cases[] = {
        {"socks5://127.0.0.1:1080", ProxyScheme::socks5, "127.0.0.1", 1080, "",
         "socks5://127.0.0.1:1080"},
        {"SOCKS5H://proxy.example:9050/", ProxyScheme::socks5h, "proxy.example", 9050, "",
         "socks5h://proxy.example:9050"},
        {"socks5://bastion", ProxyScheme::socks5, "bastion", 1080, "", "socks5://bastion:1080"},
        {"http://[::1]:3128", ProxyScheme::http, "::1", 3128, "", "http://[::1]:3128"},
        {"proxy.corp:8080", ProxyScheme::http, "proxy.corp", 8080, "", "http://proxy.corp:8080"},
        {"http://al%40ice@proxy:3128", ProxyScheme::http, "proxy", 3128, "al@ice",
         "http://proxy:3128"},
        {"socks5h://bob@[2001:db8::7]", ProxyScheme::socks5h, "2001:db8::7", 1080, "bob",
         "socks5h://[2001:db8::7]:1080"},
    };
    for (Case const& c : cases) {
        INFO(c.url);
        ProxySpec const p = parse_proxy_url(c.url, false);
        CHECK(p.scheme == c.scheme);
        CHECK(p.host == c.host);
        CHECK(p.port == c.port);
        CHECK(p.user == c.user);
        CHECK(p.password.empty());
        CHECK(p.display() == c.display);
    }
}

TEST_CASE("bad proxy URLs get a message that says what is wrong", "[unit][proxy_spec]") {
    struct Case {
        char const* url;
        char const* error;
    };
    Case const cases[] = {
        {"ftp://p:21", "unknown proxy scheme \"ftp\" (use socks5://, socks5h:// or http://)"},
        {"socks4://p", "proxy scheme \"socks4\" is not supported (use socks5://, socks5h:// or "
                       "http://)"},
        {"https://p:443", "proxy scheme \"https\" is not supported (use socks5://, socks5h:// "
                          "or http://)"},
        {"socks5://", "the proxy URL has no host"},
        {"socks5://:1080", "the proxy address \":1080\": missing host"},
        {"socks5://p:", "the proxy address \"p:\": ':' without a port"},
        {"socks5://p:0", "the proxy address \"p:0\": the port must be a number from 1 to 65535"},
        {"socks5://p:70000",
         "the proxy address \"p:70000\": the port must be a number from 1 to 65535"},
        {"socks5://p:12ab",
         "the proxy address \"p:12ab\": the port must be a number from 1 to 65535"},
        {"socks5://[::1", "the proxy address \"[::1\": unbalanced ["},
        {"socks5://[nothex]:1", "\"nothex\" is not an IPv6 address"},
        {"socks5://[::1]x", "the proxy address \"[::1]x\": expected :PORT after ]"},
        {"socks5://p/some/path", "a proxy URL has no path: \"/some/path\""},
        {"socks5://pro xy", "\"pro xy\" is not a valid proxy host name"},
        {"socks5://@p", "the proxy URL has an empty user name before '@'"},
        {"socks5://u%zz@p", "bad %-escape in the proxy user name"},
        {"http://u:pw@p:3128",
         "the proxy URL contains a password; command-line arguments are visible to every user "
         "of the machine: give it with --proxy-password-env or --proxy-password-file"},
    };
    for (Case const& c : cases) {
        INFO(c.url);
        CHECK(parse_error(c.url) == c.error);
    }
    // From the environment a password is allowed (curl's ALL_PROXY=http://u:p@h).
    ProxySpec const p = parse_proxy_url("http://u:p%3Aw@h:3128", true);
    CHECK(p.user == "u");
    CHECK(p.password == "p:w");
    CHECK(p.display() == "http://h:3128");
}

TEST_CASE("NO_PROXY matches as curl's", "[unit][proxy_spec]") {
    struct Case {
        char const* list;
        char const* host;
        bool match;
    };
    Case const cases[] = {
        {"*", "anything.example", true},
        {"example.com", "example.com", true},
        {"example.com", "mail.example.com", true},
        {".example.com", "mail.example.com", true},
        {".example.com", "example.com", true},
        {"example.com", "badexample.com", false},
        {"example.com", "example.com.evil", false},
        {"EXAMPLE.com", "Mail.Example.COM.", true},
        {"a.test, b.test ,c.test", "c.test", true},
        {"a.test b.test", "b.test", true},
        {"a.test,,", "b.test", false},
        {"", "a.test", false},
        {"127.0.0.1", "127.0.0.1", true},
        {"127.0.0.1", "127.0.0.2", false},
        {"127.0.0.0/8", "127.9.9.9", true},
        {"10.0.0.0/8", "127.0.0.1", false},
        {"192.168.1.0/25", "192.168.1.127", true},
        {"192.168.1.0/25", "192.168.1.128", false},
        {"::1", "::1", true},
        {"[::1]", "::1", true},
        {"2001:db8::/32", "2001:db8:1::5", true},
        {"2001:db8::/32", "2001:db9::5", false},
        {"127.0.0.1", "localhost", false},
        {"*.example.com", "mail.example.com", false}, // curl has no wildcards but "*" alone
    };
    for (Case const& c : cases) {
        INFO(c.list << " vs " << c.host);
        CHECK(no_proxy_matches(c.list, c.host) == c.match);
    }
}

TEST_CASE("choosing the proxy: --proxy, ALL_PROXY, NO_PROXY, --noproxy", "[unit][proxy_spec]") {
    // Nothing set: direct.
    CHECK_FALSE(choose_proxy(env({}), "mail.test").proxy);

    // The environment, lower case first as curl.
    auto const from_env = choose_proxy(
        env({{"ALL_PROXY", "socks5://upper:1"}, {"all_proxy", "socks5h://lower:2"}}), "mail.test");
    REQUIRE(from_env.proxy);
    CHECK(from_env.proxy->host == "lower");
    CHECK(from_env.proxy->from_environment);
    CHECK(from_env.proxy->environment_variable == "all_proxy");
    auto const upper = choose_proxy(env({{"ALL_PROXY", "socks5://upper:1"}}), "mail.test");
    REQUIRE(upper.proxy);
    CHECK(upper.proxy->environment_variable == "ALL_PROXY");

    // --proxy wins; "" means none at all.
    ProxySources s = env({{"ALL_PROXY", "socks5://envproxy:1"}});
    s.proxy = "http://cli:3128";
    auto const cli = choose_proxy(s, "mail.test");
    REQUIRE(cli.proxy);
    CHECK(cli.proxy->host == "cli");
    CHECK_FALSE(cli.proxy->from_environment);
    s.proxy = "";
    CHECK_FALSE(choose_proxy(s, "mail.test").proxy);

    // NO_PROXY applies to either; --noproxy replaces it.
    ProxySources n = env({{"ALL_PROXY", "socks5://p:1"}, {"NO_PROXY", "test"}});
    auto const bypassed = choose_proxy(n, "mail.test");
    CHECK_FALSE(bypassed.proxy);
    CHECK(bypassed.bypass_reason == "NO_PROXY matches mail.test: not using the proxy socks5://p:1");
    n.noproxy = "other.example";
    CHECK(choose_proxy(n, "mail.test").proxy);
    n.proxy = "socks5://cli:9";
    n.noproxy = "*";
    CHECK(choose_proxy(n, "mail.test").bypass_reason ==
          "--noproxy matches mail.test: not using the proxy socks5://cli:9");

    // A bad URL names its source; a password is allowed only from the environment.
    try {
        choose_proxy(env({{"ALL_PROXY", "gopher://x"}}), "h");
        FAIL("no exception");
    } catch (std::invalid_argument const& e) {
        CHECK(std::string(e.what()).starts_with("ALL_PROXY: unknown proxy scheme"));
    }
    ProxySources pw = env({});
    pw.proxy = "socks5://u:secret@p";
    CHECK_THROWS_WITH(choose_proxy(pw, "h"), Catch::Contains("--proxy: the proxy URL contains a "
                                                             "password"));
    auto const env_pw = choose_proxy(env({{"all_proxy", "socks5://u:secret@p"}}), "h");
    REQUIRE(env_pw.proxy);
    CHECK(env_pw.proxy->password == "secret");
}
