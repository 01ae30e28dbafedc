"""Our place in the federation: the signed entity configuration and the resolve endpoint."""

import time

from flask import current_app

from portal.auth import federation
from portal.auth.services import runtime


def entity_configuration_claims(now: int | None = None) -> dict:
    config = current_app.config
    rt = runtime()
    now = int(now or time.time())
    base = rt.entity_id
    contacts = list(config["FEDERATION_CONTACTS"])
    claims = {
        "iss": base,
        "sub": base,
        "iat": now,
        "exp": now + config["FEDERATION_STATEMENT_LIFETIME"],
        "jwks": rt.keys.federation_public(),
        "authority_hints": [config["FEDERATION_TRUST_ANCHOR"]]
        if config["FEDERATION_TRUST_ANCHOR"]
        else [],
        "metadata": {
            "federation_entity": {
                "organization_name": config["PORTAL_NAME"],
                "homepage_uri": base,
                "policy_uri": base + "it/privacy",
                "logo_uri": base + "static/img/logo.svg",
                "contacts": contacts,
                "federation_resolve_endpoint": base + "resolve",
            },
            "openid_relying_party": {
                "application_type": "web",
                "client_id": base,
                "client_registration_types": ["automatic"],
                "client_name": config["PORTAL_NAME"],
                "organization_name": config["PORTAL_NAME"],
                "contacts": contacts,
                "jwks": rt.keys.core_public(),
                "redirect_uris": [rt.rp.redirect_uri],
                "response_types": ["code"],
                "grant_types": ["authorization_code"],
                "id_token_signed_response_alg": "RS256",
                "userinfo_signed_response_alg": "RS256",
                "userinfo_encrypted_response_alg": "RSA-OAEP",
                "userinfo_encrypted_response_enc": "A256CBC-HS512",
                "token_endpoint_auth_method": "private_key_jwt",
                "subject_type": "pairwise",
            },
        },
    }
    marks = rt.own_trust_marks()
    if marks:
        claims["trust_marks"] = marks
    return claims


def entity_configuration_jwt() -> str:
    return federation.sign_statement(entity_configuration_claims(), runtime().keys.federation_key)


def resolve_response(subject: str, anchor: str) -> str:
    """A signed resolve response for ``subject``: ourselves, or a provider of our federation.
    Any other subject is unknown: nothing outside the federation is ever fetched for it."""
    rt = runtime()
    if anchor != current_app.config["FEDERATION_TRUST_ANCHOR"] or rt.federation is None:
        raise federation.FederationError("unknown_anchor", "not our Trust Anchor")
    now = int(time.time())
    if subject == rt.entity_id:
        own = entity_configuration_claims(now)
        metadata, chain, exp = own["metadata"], [entity_configuration_jwt()], own["exp"]
        statement, statement_jwt = rt.federation.subordinate_statement(subject)
        chain.append(statement_jwt)
        exp = min(exp, statement["exp"])
        marks = own.get("trust_marks", [])
    else:
        resolved = rt.federation.resolve(subject, "openid_provider")
        metadata = {
            "openid_provider": resolved.metadata,
            "federation_entity": resolved.federation_entity,
        }
        chain, exp, marks = list(resolved.statements), resolved.expires_at, resolved.trust_marks
    claims = {
        "iss": rt.entity_id,
        "sub": subject,
        "iat": now,
        "exp": exp,
        "metadata": metadata,
        "trust_marks": list(marks),
        "trust_chain": chain,
    }
    return federation.sign_statement(claims, rt.keys.federation_key, typ="resolve-response+jwt")
