// The bearer-token reader (sasl/bearer_token.hpp): JWS shapes, claims of every type, Google's
// opaque tokens, the bounds, and the provider facts over the tokens of samples/tokens/.

#include "sasl/bearer_token.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

using namespace smtpprobe::sasl;

namespace {

std::string jwt(std::string const& claims,
                std::string const& header = R"({"alg":"RS256","typ":"JWT","kid":"k1"})") {
    return base64url_encode(header) + "." + base64url_encode(claims) + ".c2lnbmF0dXJl";
}

std::string sample(std::string const& name) {
    std::ifstream in(std::string(SMTPPROBE_SOURCE_DIR) + "/samples/tokens/" + name);
    std::string line;
    std::getline(in, line);
    return line;
}

} // namespace

TEST_CASE("bearer_token: a JWT's header and claims are decoded", "[bearer_token]") {
    BearerToken const t = read_bearer_token(
        jwt(R"({"aud":"https://outlook.office.com","iss":"https://sts.windows.net/t1/","tid":"t1",)"
            R"("scp":"SMTP.Send  User.Read","exp":4102444800,"nbf":100,"iat":100.9,"appid":"a1",)"
            R"("upn":"u@example.test","email":"e@example.test","ver":"1.0"})"));
    REQUIRE(t.kind == TokenKind::jwt);
    CHECK(t.alg == "RS256");
    CHECK(t.typ == "JWT");
    CHECK(t.kid == "k1");
    CHECK(t.error.empty());
    REQUIRE(t.claims);
    TokenClaims const& c = *t.claims;
    CHECK(c.aud == std::vector<std::string>{"https://outlook.office.com"});
    CHECK(c.scp == std::vector<std::string>{"SMTP.Send", "User.Read"});
    CHECK(c.exp == 4102444800);
    CHECK(c.nbf == 100);
    CHECK(c.iat == 100); // a fractional NumericDate, floored
    CHECK(c.tid == "t1");
    REQUIRE(c.user() != nullptr);
    CHECK(*c.user() == "u@example.test"); // upn before email
    REQUIRE(c.application() != nullptr);
    CHECK(*c.application() == "a1");
    CHECK_FALSE(c.app_only());
    CHECK(c.has_scope("smtp.send"));
    CHECK_FALSE(c.has_scope("SMTP.SendAsApp"));
    CHECK(c.problems.empty());
    CHECK(microsoft_token(c));
}

TEST_CASE("bearer_token: aud as a list, roles, azp and the user fallbacks", "[bearer_token]") {
    BearerToken const t = read_bearer_token(
        jwt(R"({"aud":["api://x","https://graph.microsoft.com/"],"roles":["SMTP.SendAsApp"],)"
            R"("azp":"az","preferred_username":"p@example.test"})"));
    REQUIRE(t.claims);
    TokenClaims const& c = *t.claims;
    CHECK(c.aud.size() == 2);
    CHECK(graph_audience(c.aud[1]));
    CHECK(c.has_role("SMTP.SendAsApp"));
    CHECK(c.app_only()); // no scp, roles present
    CHECK(*c.application() == "az");
    CHECK(*c.user() == "p@example.test");
}

TEST_CASE("bearer_token: idtyp decides app-only over the claims' shape", "[bearer_token]") {
    CHECK(read_bearer_token(jwt(R"({"idtyp":"app"})")).claims->app_only());
    CHECK_FALSE(read_bearer_token(jwt(R"({"idtyp":"user","roles":["R"]})")).claims->app_only());
    CHECK_FALSE(read_bearer_token(jwt(R"({"scp":"a","roles":["R"]})")).claims->app_only());
    CHECK_FALSE(read_bearer_token(jwt(R"({})")).claims->app_only());
}

TEST_CASE("bearer_token: dates against a clock the caller gives", "[bearer_token]") {
    TokenClaims const c = *read_bearer_token(jwt(R"({"nbf":1000,"exp":2000})")).claims;
    CHECK(c.not_yet_valid(999));
    CHECK_FALSE(c.not_yet_valid(1000));
    CHECK_FALSE(c.expired(1999));
    CHECK(c.expired(2000));
    TokenClaims const none = *read_bearer_token(jwt(R"({})")).claims;
    CHECK_FALSE(none.expired(0));
    CHECK_FALSE(none.not_yet_valid(0));
}

TEST_CASE("bearer_token: claims of the wrong type are problems, not errors", "[bearer_token]") {
    BearerToken const t =
        read_bearer_token(jwt(R"({"exp":"tomorrow","aud":7,"upn":["x"],"roles":["a",1],)"
                              R"("nbf":-5,"iat":1e300})"));
    REQUIRE(t.claims);
    TokenClaims const& c = *t.claims;
    CHECK_FALSE(c.exp);
    CHECK(c.nbf == -5);
    CHECK_FALSE(c.iat);
    CHECK(c.aud.empty());
    CHECK(c.upn.empty());
    CHECK(c.roles == std::vector<std::string>{"a"});
    CHECK(c.problems.size() == 5);
    CHECK(c.problems.front() == "aud is neither a string nor a list");
}

TEST_CASE("bearer_token: Google's opaque tokens and other shapes", "[bearer_token]") {
    CHECK(read_bearer_token("ya29.a0AfB_xyz").kind == TokenKind::google_opaque);
    CHECK(read_bearer_token("").kind == TokenKind::not_jwt);
    CHECK(read_bearer_token("just-a-password").kind == TokenKind::not_jwt);
    CHECK(read_bearer_token("a.b").kind == TokenKind::not_jwt);
    CHECK(read_bearer_token("a.b.c.d").kind == TokenKind::not_jwt);
    CHECK(read_bearer_token("a b.c.d").kind == TokenKind::not_jwt);
    // Three base64url words whose first is no JSON object: a dotted opaque token.
    BearerToken const dotted = read_bearer_token("abcd.efgh.ijkl");
    CHECK(dotted.kind == TokenKind::not_jwt);
    CHECK(dotted.error == "the header is not JSON");
    CHECK(read_bearer_token(base64url_encode("[1]") + ".e30.x").error ==
          "the header is not a JSON object");
}

TEST_CASE("bearer_token: a JWT whose claims do not decode says why", "[bearer_token]") {
    std::string const header = base64url_encode(R"({"alg":"none"})");
    BearerToken const t = read_bearer_token(header + "." + base64url_encode("not json") + ".");
    CHECK(t.kind == TokenKind::jwt);
    CHECK(t.alg == "none");
    CHECK_FALSE(t.claims);
    CHECK(t.error == "the claims part is not JSON");
    CHECK(read_bearer_token(header + ".a.x").error == "the claims part is not base64url");
    // Invalid UTF-8 in a claim is not JSON either.
    CHECK(read_bearer_token(header + "." + base64url_encode("{\"upn\":\"\xff\"}") + ".x").error ==
          "the claims part is not JSON");
}

TEST_CASE("bearer_token: a five-part JWE is recognised, not read", "[bearer_token]") {
    std::string const header = base64url_encode(R"({"alg":"RSA-OAEP","enc":"A256GCM"})");
    BearerToken const t = read_bearer_token(header + ".a2V5.aXY.Y2lwaGVy.dGFn");
    CHECK(t.kind == TokenKind::jwe);
    CHECK(t.enc == "A256GCM");
    CHECK_FALSE(t.claims);
}

TEST_CASE("bearer_token: bounded in length, nesting and values", "[bearer_token]") {
    BearerToken const long_token = read_bearer_token(std::string(max_token_bytes + 1, 'a'));
    CHECK(long_token.kind == TokenKind::not_jwt);
    CHECK(long_token.length == max_token_bytes + 1);
    CHECK(long_token.error == "longer than 16384 bytes: not read");

    std::string deep =
        R"({"x":)" + std::string(max_json_depth, '[') + std::string(max_json_depth, ']') + "}";
    BearerToken const nested = read_bearer_token(jwt(deep));
    CHECK_FALSE(nested.claims);
    CHECK(nested.error == "the claims part nests deeper than 8 levels");
    // Brackets inside strings do not count.
    CHECK(read_bearer_token(jwt(R"({"x":"[[[[[[[[[[[[[[[[[[[[\"{{{{{{{{{{"})")).claims);

    std::string many = R"({"scp":")";
    for (int i = 0; i < 100; ++i)
        many += "s" + std::to_string(i) + " ";
    many += R"(","upn":")" + std::string(2000, 'u') + R"("})";
    TokenClaims const c = *read_bearer_token(jwt(many)).claims;
    CHECK(c.scp.size() == max_list);
    CHECK(c.upn.size() == max_value);
}

TEST_CASE("bearer_token: base64url", "[bearer_token]") {
    CHECK(base64url_decode("") == std::string());
    CHECK(base64url_decode("-_8") == std::string("\xfb\xff", 2));
    CHECK(base64url_decode("YQ") == std::string("a"));
    CHECK_FALSE(base64url_decode("YQ==")); // padding is not base64url as JWS uses it
    CHECK_FALSE(base64url_decode("Y"));    // no length leaves one character over
    CHECK_FALSE(base64url_decode("a+b/")); // the standard alphabet's two characters
}

TEST_CASE("bearer_token: Microsoft's audiences and issuers", "[bearer_token]") {
    CHECK(exchange_online_audience("https://outlook.office.com"));
    CHECK(exchange_online_audience("https://outlook.office.com/"));
    CHECK(exchange_online_audience("https://outlook.office365.com"));
    CHECK(exchange_online_audience("00000002-0000-0ff1-ce00-000000000000"));
    CHECK_FALSE(exchange_online_audience("https://outlook.office.com.evil.test"));
    CHECK_FALSE(exchange_online_audience("https://graph.microsoft.com"));
    CHECK(graph_audience("https://graph.microsoft.com"));
    CHECK(graph_audience("00000003-0000-0000-c000-000000000000"));
    CHECK_FALSE(graph_audience("https://outlook.office.com"));
    CHECK(microsoft_issuer("https://sts.windows.net/6e7a1d2c/"));
    CHECK(microsoft_issuer("https://login.microsoftonline.com/6e7a1d2c/v2.0"));
    CHECK_FALSE(microsoft_issuer("https://accounts.google.com"));
    CHECK_FALSE(microsoft_issuer("https://sts.windows.net.evil.test/"));
}

TEST_CASE("bearer_token: the sample tokens are what samples/tokens/README.md says",
          "[bearer_token]") {
    std::int64_t const now = 1'800'000'000; // 2027-01-15
    TokenClaims const valid = *read_bearer_token(sample("m365-delegated.jwt")).claims;
    CHECK(exchange_online_audience(valid.aud.at(0)));
    CHECK(valid.has_scope(smtp_send_scope));
    CHECK(*valid.user() == "sender@contoso.test");
    CHECK(valid.exp == 4102444800);
    CHECK_FALSE(valid.expired(now));
    CHECK_FALSE(valid.app_only());

    CHECK(graph_audience(read_bearer_token(sample("m365-graph.jwt")).claims->aud.at(0)));
    CHECK(read_bearer_token(sample("m365-expired.jwt")).claims->expired(now));
    CHECK_FALSE(read_bearer_token(sample("m365-no-smtp-send.jwt")).claims->has_scope("SMTP.Send"));
    TokenClaims const app = *read_bearer_token(sample("m365-app-only.jwt")).claims;
    CHECK(app.app_only());
    CHECK(app.has_role(smtp_send_as_app_role));
    CHECK(app.user() == nullptr);
    TokenClaims const no_role = *read_bearer_token(sample("m365-app-only-no-role.jwt")).claims;
    CHECK(no_role.app_only());
    CHECK_FALSE(no_role.has_role(smtp_send_as_app_role));
    CHECK(*read_bearer_token(sample("m365-other-user.jwt")).claims->user() ==
          "someone.else@contoso.test");
    CHECK(read_bearer_token(sample("m365-not-yet-valid.jwt")).claims->not_yet_valid(now));
    CHECK(read_bearer_token(sample("google-opaque.txt")).kind == TokenKind::google_opaque);
}
