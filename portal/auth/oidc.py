"""The OpenID Connect exchange with a SPID or CIE provider, by the SPID/CIE OIDC rules.

Plain functions over plain data: the view passes the relying party, the provider's resolved
metadata and what was stored when the login began; every check that fails raises LoginError
with a short reason for the audit trail. Nothing here touches the database.
"""

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from joserfc import jwe, jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal.auth.keys import RelyingPartyKeys

ACR_LEVELS = (
    "https://www.spid.gov.it/SpidL1",
    "https://www.spid.gov.it/SpidL2",
    "https://www.spid.gov.it/SpidL3",
)
DEFAULT_ACR = ACR_LEVELS[1]
# Asymmetric signatures only; "none" and HS* are refused whatever the provider says.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES512"]
USERINFO_ENCRYPTION = ["RSA-OAEP", "RSA-OAEP-256", "A128CBC-HS256", "A256CBC-HS512"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW = 60
ASSERTION_LIFETIME = 60
REQUEST_LIFETIME = 180

SPID_FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number"
# What the portal asks for: the fiscal number is the key of a person; names and contacts
# prefill forms so that nobody retypes them.
REQUESTED_CLAIMS = {
    "spid": {
        "userinfo": {
            "given_name": {"essential": True},
            "family_name": {"essential": True},
            SPID_FISCAL_NUMBER: {"essential": True},
            "email": None,
            "phone_number": None,
        }
    },
    "cie": {
        "userinfo": {
            "given_name": {"essential": True},
            "family_name": {"essential": True},
            "fiscal_number": {"essential": True},
            "email": None,
            "phone_number": None,
        }
    },
}


class LoginError(Exception):
    """A login step failed. ``reason`` is a short code kept in the audit trail."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class RelyingParty:
    entity_id: str
    keys: RelyingPartyKeys

    @property
    def redirect_uri(self) -> str:
        return self.entity_id + "auth/callback"


@dataclass(frozen=True)
class Provider:
    """An identity provider as the trust chain describes it."""

    entity_id: str
    profile: str  # "spid" or "cie"
    metadata: dict  # openid_provider metadata, metadata policy applied
    organization_name: str = ""
    logo_uri: str = ""

    @property
    def issuer(self) -> str:
        return self.metadata.get("issuer") or self.entity_id

    def endpoint(self, name: str) -> str:
        url = self.metadata.get(name)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise LoginError("no_endpoint", f"{self.entity_id} publishes no {name}")
        return url

    def signing_keys(self) -> KeySet:
        try:
            return KeySet.import_key_set(self.metadata["jwks"])
        except (KeyError, TypeError, ValueError, JoseError) as error:
            raise LoginError("no_provider_keys", f"{self.entity_id}: {error}") from error


def random_secret() -> str:
    """43 URL-safe characters (256 bits): above the 32 the rules require for state and nonce."""
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def acr_rank(acr: str | None) -> int:
    return ACR_LEVELS.index(acr) if acr in ACR_LEVELS else -1


def authorization_url(
    rp: RelyingParty,
    provider: Provider,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
    acr: str,
    ui_locale: str,
    now: float | None = None,
) -> str:
    """The provider's authorization endpoint with a signed request object (PKCE S256)."""
    now = int(now or time.time())
    endpoint = provider.endpoint("authorization_endpoint")
    params = {
        "client_id": rp.entity_id,
        "response_type": "code",
        "scope": "openid",
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
        "nonce": nonce,
        "state": state,
        "prompt": "consent login",
        "redirect_uri": rp.redirect_uri,
        "acr_values": acr,
        "claims": REQUESTED_CLAIMS[provider.profile],
        "ui_locales": ui_locale,
    }
    # In the signed object the list-valued parameters are lists, as the SPID/CIE schemas want.
    request_object = dict(
        params,
        scope=["openid"],
        acr_values=[acr],
        ui_locales=[ui_locale],
        iss=rp.entity_id,
        sub=rp.entity_id,
        aud=[provider.issuer, endpoint],
        iat=now,
        exp=now + REQUEST_LIFETIME,
        jti=str(uuid.uuid4()),
    )
    key = rp.keys.signing_key
    signed = jwt.encode({"alg": "RS256", "kid": key.kid}, request_object, key, algorithms=["RS256"])
    query = dict(params, claims=json.dumps(params["claims"]), request=signed)
    return f"{endpoint}?{urlencode(query)}"


def client_assertion(rp: RelyingParty, audience: str, now: float | None = None) -> str:
    """A private_key_jwt assertion, with a fresh jti every time it is built."""
    now = int(now or time.time())
    claims = {
        "iss": rp.entity_id,
        "sub": rp.entity_id,
        "aud": audience,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
        "jti": str(uuid.uuid4()),
    }
    key = rp.keys.signing_key
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])


def _post(http: httpx.Client, url: str, data: dict) -> httpx.Response:
    try:
        return http.post(url, data=data, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise LoginError("provider_unreachable", f"{url}: {error}") from error


def exchange_code(
    http: httpx.Client, rp: RelyingParty, provider: Provider, *, code: str, code_verifier: str
) -> dict:
    endpoint = provider.endpoint("token_endpoint")
    response = _post(
        http,
        endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "client_id": rp.entity_id,
            "code_verifier": code_verifier,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(rp, endpoint),
        },
    )
    if response.status_code != 200:
        raise LoginError("token_refused", f"token endpoint answered {response.status_code}")
    try:
        tokens = response.json()
    except ValueError as error:
        raise LoginError("token_malformed", "token response is not JSON") from error
    if not isinstance(tokens, dict) or not tokens.get("access_token") or not tokens.get("id_token"):
        raise LoginError("token_malformed", "token response lacks access_token or id_token")
    if str(tokens.get("token_type", "")).lower() != "bearer":
        raise LoginError("token_malformed", "token type is not Bearer")
    return tokens


def _half_hash(value: str, alg: str) -> str:
    bits = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[-3:]]
    digest = bits(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def _verify_jws(token: str, keys: KeySet, reason: str) -> tuple[dict, dict]:
    """Verify a compact JWS against ``keys`` with an allowlisted algorithm."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise LoginError(reason, "not a compact JWS")
    try:
        header = jws.extract_compact(token.encode()).protected
    except (JoseError, ValueError) as error:
        raise LoginError(reason, str(error)) from error
    if header.get("alg") not in ID_TOKEN_ALGORITHMS:
        raise LoginError("bad_alg", f"algorithm {header.get('alg')!r} is not allowed")
    try:
        verified = jwt.decode(token, keys, algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError) as error:
        raise LoginError(reason, str(error)) from error
    return verified.header, verified.claims


def validate_id_token(
    token: str,
    provider: Provider,
    *,
    client_id: str,
    nonce: str,
    access_token: str,
    min_acr: str,
    now: float | None = None,
) -> dict:
    now = now or time.time()
    header, claims = _verify_jws(token, provider.signing_keys(), "bad_id_token_signature")
    if claims.get("iss") != provider.issuer:
        raise LoginError("wrong_issuer", f"id token iss is {claims.get('iss')!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise LoginError("wrong_audience", f"id token aud is {audience!r}")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise LoginError("wrong_audience", "several audiences and azp is not ours")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp < now - CLOCK_SKEW:
        raise LoginError("expired_id_token", "id token has expired")
    if not isinstance(iat, int | float) or iat > now + CLOCK_SKEW:
        raise LoginError("bad_iat", "id token is issued in the future")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(
        claims["nonce"], nonce
    ):
        raise LoginError("wrong_nonce", "id token nonce does not match the request")
    at_hash = claims.get("at_hash")
    if not isinstance(at_hash, str) or not secrets.compare_digest(
        at_hash, _half_hash(access_token, header["alg"])
    ):
        raise LoginError("bad_at_hash", "at_hash does not match the access token")
    if acr_rank(claims.get("acr")) < acr_rank(min_acr):
        raise LoginError("low_acr", f"acr {claims.get('acr')!r} is below {min_acr}")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise LoginError("no_subject", "id token has no sub")
    return claims


def fetch_userinfo(
    http: httpx.Client,
    rp: RelyingParty,
    provider: Provider,
    *,
    access_token: str,
    subject: str,
) -> dict:
    try:
        response = http.get(
            provider.endpoint("userinfo_endpoint"),
            headers={"Authorization": f"Bearer {access_token}"},
        )
    except httpx.HTTPError as error:
        raise LoginError("provider_unreachable", str(error)) from error
    if response.status_code != 200:
        raise LoginError("userinfo_refused", f"userinfo answered {response.status_code}")
    return read_userinfo(response.text.strip(), rp, provider, subject=subject)


def read_userinfo(body: str, rp: RelyingParty, provider: Provider, *, subject: str) -> dict:
    """Userinfo is a JWE (to our encryption key) wrapping a JWS (by the provider)."""
    if body.count(".") != 4:
        raise LoginError("userinfo_not_encrypted", "userinfo is not a compact JWE")
    try:
        decrypted = jwe.decrypt_compact(body, rp.keys.encryption, algorithms=USERINFO_ENCRYPTION)
    except (JoseError, ValueError) as error:
        raise LoginError("userinfo_undecryptable", str(error)) from error
    inner = decrypted.plaintext.decode("utf-8", "replace")
    _, claims = _verify_jws(inner, provider.signing_keys(), "bad_userinfo_signature")
    if claims.get("sub") != subject:
        raise LoginError("userinfo_sub_mismatch", "userinfo sub differs from the id token's")
    if "iss" in claims and claims["iss"] != provider.issuer:
        raise LoginError("wrong_issuer", "userinfo iss is not the provider")
    if "aud" in claims:
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if rp.entity_id not in audiences:
            raise LoginError("wrong_audience", "userinfo is meant for someone else")
    return claims


def revoke(http: httpx.Client, rp: RelyingParty, provider: Provider, token: str) -> None:
    endpoint = provider.endpoint("revocation_endpoint")
    response = _post(
        http,
        endpoint,
        {
            "token": token,
            "token_type_hint": "access_token",
            "client_id": rp.entity_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(rp, endpoint),
        },
    )
    if response.status_code != 200:
        raise LoginError("revocation_refused", f"revocation answered {response.status_code}")
