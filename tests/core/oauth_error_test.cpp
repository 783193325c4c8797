#include "sasl/oauth_error.hpp"
#include "smtp/base64.hpp"

#include <catch2/catch.hpp>

#include <string>

using smtpprobe::sasl::decode_oauth_error;
using smtpprobe::sasl::max_error_text;
using smtpprobe::sasl::max_error_value;
using smtpprobe::sasl::oauth_status_meaning;
using smtpprobe::sasl::OAuthError;
using smtpprobe::smtp::base64_encode;
using Form = OAuthError::Form;

namespace {

OAuthError decode_json(std::string const& json) {
    return decode_oauth_error(base64_encode(json));
}

} // namespace

TEST_CASE("oauth_error: Google's XOAUTH2 error JSON", "[oauth_error]") {
    std::string const json =
        R"({"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"})";
    OAuthError const e = decode_json(json);
    CHECK(e.form == Form::json);
    CHECK(e.status == "400");
    CHECK(e.schemes == "Bearer");
    CHECK(e.scope == "https://mail.google.com/");
    CHECK_FALSE(e.openid_configuration);
    CHECK(e.text == json);
    CHECK_FALSE(e.truncated);
}

TEST_CASE("oauth_error: RFC 7628 §3.2.2 error JSON", "[oauth_error]") {
    OAuthError const e = decode_json(
        R"({"status":"invalid_token","scope":"example_scope",)"
        R"("openid-configuration":"https://example.com/.well-known/openid-configuration"})");
    CHECK(e.form == Form::json);
    CHECK(e.status == "invalid_token");
    CHECK(e.scope == "example_scope");
    CHECK(e.openid_configuration == "https://example.com/.well-known/openid-configuration");
    CHECK_FALSE(e.schemes);
}

TEST_CASE("oauth_error: Dovecot's short forms, whitespace, numbers and unknown members",
          "[oauth_error]") {
    OAuthError const dovecot = decode_json(R"({"status":"invalid_token"})");
    CHECK(dovecot.form == Form::json);
    CHECK(dovecot.status == "invalid_token");
    CHECK_FALSE(dovecot.scope);

    OAuthError const spaced =
        decode_json(" {\n \"status\" : 401 , \"extra\": {\"a\": [1, 2, {\"b\": null}]},"
                    " \"schemes\":\"bearer mac\" }\r\n");
    CHECK(spaced.form == Form::json);
    CHECK(spaced.status == "401"); // a number is kept as written
    CHECK(spaced.schemes == "bearer mac");

    OAuthError const nested = decode_json(R"({"status":{"code":401}})");
    CHECK(nested.form == Form::json);
    CHECK(nested.status == "{...}");

    OAuthError const duplicate = decode_json(R"({"status":"400","status":"200"})");
    CHECK(duplicate.status == "400");
}

TEST_CASE("oauth_error: escapes are decoded, and control bytes are kept for the renderers",
          "[oauth_error]") {
    OAuthError const e =
        decode_json(R"({"status":"4\u00300","scope":"a\/b\n\u001b[2J\ud83d\ude00"})");
    CHECK(e.form == Form::json);
    CHECK(e.status == "400");
    CHECK(e.scope == "a/b\n\x1b[2J\xF0\x9F\x98\x80");

    // A raw ESC inside a string is invalid JSON, but it is what the server said: kept.
    OAuthError const raw = decode_json("{\"status\":\"\x1b]52;c;aGk=\x07\"}");
    CHECK(raw.form == Form::json);
    CHECK(raw.status == "\x1b]52;c;aGk=\x07");

    OAuthError const lone = decode_json(R"({"status":"\udc00x"})");
    CHECK(lone.status == "\xEF\xBF\xBDx"); // U+FFFD
}

TEST_CASE("oauth_error: invalid UTF-8 is kept as bytes", "[oauth_error]") {
    OAuthError const e = decode_json("{\"status\":\"\xff\xfe\xc3\"}");
    CHECK(e.form == Form::json);
    CHECK(e.status == "\xff\xfe\xc3");
}

TEST_CASE("oauth_error: not JSON, not base64, empty", "[oauth_error]") {
    OAuthError const text = decode_oauth_error(base64_encode("Authentication failed"));
    CHECK(text.form == Form::not_json);
    CHECK(text.text == "Authentication failed");
    CHECK_FALSE(text.status);

    for (std::string const broken :
         {R"({"status":"400")", R"({"status":400,})", R"({"status" "400"})", R"(["status"])",
          R"({"status":"400"} trailing)", R"({"status":"\x"})", R"({"status":"\u12"})", "{",
          R"({"status":tru e})"}) {
        INFO(broken);
        OAuthError const e = decode_json(broken);
        CHECK(e.form == Form::not_json);
        CHECK_FALSE(e.status);
        CHECK(e.text == broken);
    }

    OAuthError const plain = decode_oauth_error("Authentication failed, try again");
    CHECK(plain.form == Form::not_base64);
    CHECK(plain.text == "Authentication failed, try again");

    CHECK(decode_oauth_error("").form == Form::empty);
    CHECK(decode_oauth_error("=").form != Form::json);
}

TEST_CASE("oauth_error: hostile sizes are bounded", "[oauth_error]") {
    SECTION("a huge value is cut to max_error_value") {
        std::string const big(100000, 'A');
        OAuthError const e = decode_oauth_error(base64_encode(R"({"status":")" + big + "\"}"));
        // Too long to decode at all: kept (cut) as the base64 text.
        CHECK(e.form == Form::not_base64);
        CHECK(e.text.size() == max_error_text);
        CHECK(e.truncated);
    }
    SECTION("a value longer than max_error_value in a challenge short enough to decode") {
        std::string const big(5000, 'B');
        OAuthError const e = decode_json(R"({"scope":")" + big + R"(","status":"401"})");
        CHECK(e.form == Form::json);
        REQUIRE(e.scope);
        CHECK(e.scope->size() == max_error_value);
        CHECK(e.status == "401");
        CHECK(e.text.size() == max_error_text);
        CHECK(e.truncated);
    }
    SECTION("deep nesting is refused without recursion") {
        std::string deep = R"({"status":"400","x":)";
        for (int i = 0; i < 5000; ++i)
            deep += "[";
        for (int i = 0; i < 5000; ++i)
            deep += "]";
        deep += "}";
        OAuthError const e = decode_json(deep);
        CHECK(e.form == Form::not_json);
        CHECK_FALSE(e.status);
        CHECK(e.text.size() == max_error_text);
    }
    SECTION("nesting within the bound is skipped") {
        std::string nested = R"({"x":)";
        for (int i = 0; i < 20; ++i)
            nested += R"({"y":)";
        nested += "1";
        for (int i = 0; i < 20; ++i)
            nested += "}";
        nested += R"(,"status":"401"})";
        OAuthError const e = decode_json(nested);
        CHECK(e.form == Form::json);
        CHECK(e.status == "401");
    }
}

TEST_CASE("oauth_error: status meanings", "[oauth_error]") {
    CHECK(oauth_status_meaning("invalid_token").find("expired") != std::string_view::npos);
    CHECK(oauth_status_meaning("401").find("expired") != std::string_view::npos);
    CHECK(oauth_status_meaning("insufficient_scope").find("scope") != std::string_view::npos);
    CHECK(oauth_status_meaning("400").find("bad request") != std::string_view::npos);
    CHECK(oauth_status_meaning("299").empty());
    CHECK(oauth_status_meaning("").empty());
}
