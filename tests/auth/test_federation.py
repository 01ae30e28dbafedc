"""Federation rules as plain functions: metadata policies and statement checks."""

import time

import pytest

from portal.auth.federation import FederationError, PolicyError, apply_policy, decode_statement
from tests.auth.fakes import new_key, public, sign

METADATA = {
    "grant_types": ["authorization_code", "implicit"],
    "scope": ["openid", "profile"],
    "token_endpoint_auth_method": "private_key_jwt",
}


def test_policy_value_add_default_and_subset():
    policy = {
        "token_endpoint_auth_method": {"value": "private_key_jwt"},
        "contacts": {"add": ["ops@ta.example"]},
        "application_type": {"default": "web"},
        "grant_types": {"subset_of": ["authorization_code", "refresh_token"]},
    }
    result = apply_policy(METADATA, policy)
    assert result["grant_types"] == ["authorization_code"]
    assert result["contacts"] == ["ops@ta.example"]
    assert result["application_type"] == "web"


@pytest.mark.parametrize(
    "policy",
    [
        {"token_endpoint_auth_method": {"one_of": ["client_secret_basic"]}},
        {"scope": {"superset_of": ["openid", "offline_access"]}},
        {"grant_types": {"subset_of": ["refresh_token"]}},
        {"logo_uri": {"essential": True}},
    ],
)
def test_metadata_that_breaks_the_policy_is_refused(policy):
    with pytest.raises(PolicyError):
        apply_policy(METADATA, policy)


def test_statement_checks():
    key, other = new_key(), new_key()
    now = int(time.time())
    claims = {"iss": "https://a.test/", "sub": "https://a.test/", "iat": now, "exp": now + 60}
    claims["jwks"] = public(key)
    good = sign(claims, key)
    assert decode_statement(good, None, issuer=claims["iss"], subject=claims["sub"], now=now)
    cases = {
        "bad_signature": (sign(dict(claims, jwks=public(other)), key), None),
        "expired": (sign(dict(claims, exp=now - 3600), key), None),
        "bad_typ": (sign(claims, key, typ="JWT"), None),
        "wrong_party": (sign(dict(claims, sub="https://b.test/"), key), None),
        "malformed": ("not.a.jws.at.all", None),
    }
    for reason, (token, keys) in cases.items():
        with pytest.raises(FederationError) as raised:
            decode_statement(token, keys, issuer=claims["iss"], subject=claims["sub"], now=now)
        assert raised.value.reason == reason, reason
