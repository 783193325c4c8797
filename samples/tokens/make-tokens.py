#!/usr/bin/env python3
"""Writes the test tokens of samples/tokens/ (README.md there says what each is).

They are shaped like Microsoft identity-platform access tokens (JWS compact: header.claims.
signature, base64url) with a junk signature: nothing can verify them, and nothing here needs
to. A valid one expires on 2100-01-01 (exp 4102444800) so that tests never see it expire.
Run it again after changing a claim; the output is deterministic.
"""
import base64
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
TENANT = "6e7a1d2c-0c6f-4e5b-9a3d-c0a70500c0de"  # "contoso" (made up)
CLIENT = "3f1b8a52-7d4e-4c1a-9b60-5e2f0c7d1a11"  # the client application (made up)
ISSUED = 1764547200   # 2025-12-01T00:00:00Z
FOREVER = 4102444800  # 2100-01-01T00:00:00Z
EXCHANGE = "https://outlook.office.com"
GRAPH = "https://graph.microsoft.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: dict, name: str) -> str:
    header = {"typ": "JWT", "alg": "RS256", "kid": "smtpprobe-test-key"}
    parts = [b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (header, claims)]
    # A junk signature, different per token so that no two tokens share a suffix.
    parts.append(b64url(("not-a-signature:" + name).encode() * 4))
    return ".".join(parts)


def delegated(**over) -> dict:
    claims = {
        "aud": EXCHANGE,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": ISSUED, "nbf": ISSUED, "exp": FOREVER,
        "appid": CLIENT, "idtyp": "user", "tid": TENANT, "ver": "1.0",
        "scp": "SMTP.Send",
        "upn": "sender@contoso.test", "unique_name": "sender@contoso.test",
        "oid": "0b7c5a9e-1f2d-4e3c-8a4b-5c6d7e8f9a01", "sub": "sender-subject",
        "name": "Sender",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def app_only(**over) -> dict:
    claims = {
        "aud": EXCHANGE,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": ISSUED, "nbf": ISSUED, "exp": FOREVER,
        "appid": CLIENT, "idtyp": "app", "tid": TENANT, "ver": "1.0",
        "roles": ["SMTP.SendAsApp"],
        "oid": "7d2e9f10-4a3b-4c5d-8e6f-a0b1c2d3e4f5", "sub": "7d2e9f10-4a3b-4c5d-8e6f-a0b1c2d3e4f5",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


TOKENS = {
    "m365-delegated.jwt": delegated(),
    "m365-graph.jwt": delegated(aud=GRAPH, scp="Mail.Send User.Read"),
    "m365-expired.jwt": delegated(exp=ISSUED + 3600),
    "m365-no-smtp-send.jwt": delegated(scp="Mail.Read User.Read"),
    "m365-app-only.jwt": app_only(),
    "m365-app-only-no-role.jwt": app_only(roles=["Mail.Send"]),
    "m365-other-user.jwt": delegated(upn="someone.else@contoso.test",
                                     unique_name="someone.else@contoso.test",
                                     sub="someone-else-subject"),
    "m365-not-yet-valid.jwt": delegated(nbf=FOREVER - 86400, iat=FOREVER - 86400),
}


def main() -> None:
    for name, claims in TOKENS.items():
        (HERE / name).write_text(jwt(claims, name) + "\n")
    # Google's access tokens are opaque: "ya29." and random characters (made up here).
    (HERE / "google-opaque.txt").write_text(
        "ya29.a0AfB_smtpprobe-test-token-not-real-" + "Xq7Lm2Pz9Rt4Vw8Ky3Hb6Nc1Dj5Fg0Sa" + "\n")


if __name__ == "__main__":
    main()
