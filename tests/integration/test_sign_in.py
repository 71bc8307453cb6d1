"""Signing in on the local stack, and the local API's check of the tokens: what Cognito's
managed login and API Gateway's Cognito authorizer do, against the local user pool."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from photoflow_local.client import ApiError, LocalSignIn, PhotosClient, SignInFailed, sign_in
from photoflow_local.identity import LocalUserPool, add_user
from photoflow_local.stack import LocalStack

PASSWORD = "Correct-horse-7"


@pytest.fixture(scope="module")
def pool(local_stack: LocalStack) -> LocalUserPool:
    assert local_stack.user_pool is not None
    return local_stack.user_pool


@pytest.fixture(scope="module")
def ada(pool: LocalUserPool) -> str:
    """A user of the pool; returns its sub."""
    return pool.add_user("ada", PASSWORD)


def claims_of(pool: LocalUserPool, subject: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": subject,
        "iss": pool.issuer,
        "aud": pool.client_ids[0],
        "token_use": "id",
        "cognito:username": "ada",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed(claims: dict[str, Any], key: RSAKey, kid: str | None = None) -> str:
    return jwt.encode({"alg": "RS256", "kid": kid or key.kid or "forger"}, claims, key)


def status_with(local_stack: LocalStack, token: str) -> int:
    response = requests.get(
        f"{local_stack.api_url}/photos",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.status_code


def test_a_token_of_the_pool_gets_through_and_names_its_user(
    local_stack: LocalStack, pool: LocalUserPool, ada: str
) -> None:
    token = signed(claims_of(pool, ada), pool.key)
    assert status_with(local_stack, token) == HTTPStatus.OK
    assert pool.verify_id_token(token)["sub"] == ada


def test_a_wrong_other_user_pool_token_is_refused(
    local_stack: LocalStack, pool: LocalUserPool, ada: str
) -> None:
    # A second pool of the same local endpoint: its own key and issuer
    cognito = local_stack.client("cognito-idp")
    other_id = cognito.create_user_pool(PoolName="elsewhere")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=other_id, ClientName="web")
    other = LocalUserPool.of_stack(cognito, other_id, "us-east-1")
    sub = add_user(cognito, other_id, "ada", PASSWORD)
    token = other.sign_in("ada", PASSWORD, client["UserPoolClient"]["ClientId"]).id_token

    assert other.verify_id_token(token)["sub"] == sub  # a good token of its own pool
    assert status_with(local_stack, token) == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("expired", {"exp": int(time.time()) - 1}),
        ("wrong client", {"aud": "7example0other0client0id00"}),
        ("wrong issuer, right key", {"iss": "https://cognito-idp.us-east-1.amazonaws.com/x_y"}),
        ("an access token", {"token_use": "access", "aud": None}),
        ("no subject", {"sub": None}),
    ],
)
def test_a_token_the_authorizer_would_refuse_is_401(
    local_stack: LocalStack, pool: LocalUserPool, ada: str, case: str, changes: dict[str, Any]
) -> None:
    token = signed(claims_of(pool, ada, **changes), pool.key)
    assert status_with(local_stack, token) == HTTPStatus.UNAUTHORIZED, case


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_forged_token_is_refused(local_stack: LocalStack, pool: LocalUserPool, ada: str) -> None:
    claims = claims_of(pool, ada)
    # signed by another key that claims to be the pool's
    forger = RSAKey.generate_key(2048)
    assert status_with(local_stack, signed(claims, forger, kid=pool.key.kid)) == 401
    # HMAC-signed with the pool's public key as the secret (algorithm confusion)
    head = _b64(json.dumps({"alg": "HS256", "kid": pool.key.kid}).encode())
    signing_input = f"{head}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(pool.key.as_pem(private=False), signing_input.encode(), hashlib.sha256)
    assert status_with(local_stack, f"{signing_input}.{_b64(mac.digest())}") == 401
    # unsigned
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = signed(claims, pool.key).split(".")[1]
    assert status_with(local_stack, f"{header}.{body}.") == 401
    # a good token with one claim changed after signing
    good = signed(claims, pool.key).split(".")
    tampered = signed(claims_of(pool, "someone-else"), forger).split(".")[1]
    assert status_with(local_stack, f"{good[0]}.{tampered}.{good[2]}") == 401


def test_the_pool_publishes_its_public_key_only(
    local_stack: LocalStack, pool: LocalUserPool
) -> None:
    keys = requests.get(f"{local_stack.api_url}/.well-known/jwks.json", timeout=10).json()["keys"]

    assert [(k["kid"], k["kty"], k["alg"], k["use"]) for k in keys] == [
        (pool.key.kid, "RSA", "RS256", "sig")
    ]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(keys[0])


def _flow(local_stack: LocalStack, pool: LocalUserPool, verifier: str) -> dict[str, str]:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return {
        "client_id": pool.client_ids[0],
        "response_type": "code",
        "redirect_uri": f"{local_stack.api_url}/",
        "state": "s1",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }


def new_code(local_stack: LocalStack, flow: dict[str, str]) -> str:
    signed_in = requests.post(
        f"{local_stack.api_url}/login",
        data={**flow, "username": "ada", "password": PASSWORD},
        timeout=10,
        allow_redirects=False,
    )
    return parse_qs(urlsplit(signed_in.headers["Location"]).query)["code"][0]


def test_the_authorization_code_flow_with_pkce(
    local_stack: LocalStack, pool: LocalUserPool, ada: str
) -> None:
    base, verifier = local_stack.api_url, "v" * 64
    flow = _flow(local_stack, pool, verifier)
    # the sign-in form, for the page's client and callback only
    form = requests.get(f"{base}/oauth2/authorize", params=flow, timeout=10)
    assert form.status_code == 200 and 'name="password"' in form.text
    elsewhere = {**flow, "redirect_uri": "https://evil.example/"}
    assert requests.get(f"{base}/oauth2/authorize", params=elsewhere, timeout=10).status_code == 400
    plain = {**flow, "code_challenge_method": "plain"}
    assert requests.get(f"{base}/oauth2/authorize", params=plain, timeout=10).status_code == 400

    # a wrong password gets the form again, with no code
    wrong = requests.post(
        f"{base}/login",
        data={**flow, "username": "ada", "password": "nope"},
        timeout=10,
        allow_redirects=False,
    )
    assert (wrong.status_code, "Incorrect username or password." in wrong.text) == (200, True)

    # the right one, a code for the callback, with the state
    right = requests.post(
        f"{base}/login",
        data={**flow, "username": "ada", "password": PASSWORD},
        timeout=10,
        allow_redirects=False,
    )
    assert right.status_code == 302
    location = urlsplit(right.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == flow["redirect_uri"]
    returned = parse_qs(location.query)
    assert returned["state"] == ["s1"]
    exchange = {
        "grant_type": "authorization_code",
        "client_id": flow["client_id"],
        "code": returned["code"][0],
        "redirect_uri": flow["redirect_uri"],
    }

    # the code is redeemed only with the verifier of its challenge, and only once: a
    # wrong verifier uses it up too
    def redeem(code: str, code_verifier: str) -> requests.Response:
        form = {**exchange, "code": code, "code_verifier": code_verifier}
        return requests.post(f"{base}/oauth2/token", data=form, timeout=10)

    bad = redeem(exchange["code"], "w" * 64)
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid_grant"})
    assert redeem(exchange["code"], verifier).status_code == 400
    code = new_code(local_stack, flow)
    tokens, again = redeem(code, verifier), redeem(code, verifier)
    assert tokens.status_code == 200, tokens.text
    assert again.status_code == 400
    body = tokens.json()
    assert set(body) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert (body["expires_in"], body["token_type"]) == (3600, "Bearer")
    assert pool.verify_id_token(body["id_token"])["sub"] == ada
    assert status_with(local_stack, body["access_token"]) == 401  # the API takes ID tokens

    # a refresh gives a new ID token, without a new refresh token
    refreshed = requests.post(
        f"{base}/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": flow["client_id"],
            "refresh_token": body["refresh_token"],
        },
        timeout=10,
    )
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    assert status_with(local_stack, refreshed.json()["id_token"]) == 200


def test_sign_out_returns_to_the_page_only(local_stack: LocalStack, pool: LocalUserPool) -> None:
    base = local_stack.api_url
    home = {"client_id": pool.client_ids[0], "logout_uri": f"{base}/"}
    out = requests.get(f"{base}/logout", params=home, timeout=10, allow_redirects=False)
    assert (out.status_code, out.headers["Location"]) == (302, f"{base}/")
    away = {**home, "logout_uri": "https://evil.example/"}
    assert requests.get(f"{base}/logout", params=away, timeout=10).status_code == 400


def test_the_client_signs_in_as_a_user_of_the_pool(local_stack: LocalStack, ada: str) -> None:
    client = PhotosClient(local_stack.api_url, auth=LocalSignIn("ada", PASSWORD))
    assert "photos" in client.photos(limit=1)
    with pytest.raises(SignInFailed):
        sign_in(local_stack.api_url, "ada", "not-her-password")
    with pytest.raises(ApiError) as refused:
        PhotosClient(local_stack.api_url, auth=None).photos(limit=1)
    assert refused.value.status == HTTPStatus.UNAUTHORIZED
