"""OpenID Connect Federation: our entity configuration, and trust in the identity providers.

Trust runs top-down from one pinned Trust Anchor (its entity id and public keys come from the
configuration, never from the network). The portal only ever fetches:

* the Trust Anchor's own entity configuration, checked against the pinned keys;
* the Trust Anchor's list and fetch endpoints, named in that checked configuration;
* the entity configuration of an entity the Trust Anchor lists as its subordinate.

So no URL that an outsider chose is ever fetched: an identity provider that the Trust Anchor
does not list simply does not exist for the portal. A provider's trust chain is its own entity
configuration plus the Trust Anchor's statement about it; the statement's keys must have signed
the configuration, its metadata policy is applied, and required trust marks must be present and
issued by the Trust Anchor. Results are cached until the earliest expiry in the chain.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

WELL_KNOWN = ".well-known/openid-federation"
STATEMENT_TYPE = "entity-statement+jwt"
TRUST_MARK_TYPES = {"trust-mark+jwt", "JWT", "jwt", None}
# Asymmetric algorithms only: "none" and the HMAC family are never accepted.
SIGNING_ALGORITHMS = [
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
]
CLOCK_SKEW = 60
FAILURE_CACHE_SECONDS = 30
MAX_STATEMENT_BYTES = 256 * 1024


class FederationError(Exception):
    """A statement could not be fetched or trusted. ``reason`` is a short code for the audit."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TrustChain:
    """A verified chain from a subject to the Trust Anchor, with its resolved metadata."""

    subject: str
    entity_type: str
    metadata: dict
    federation_entity: dict
    federation_jwks: dict
    trust_marks: tuple[dict, ...]
    expires_at: int
    statements: tuple[str, ...] = field(repr=False)


def decode_statement(
    token: str,
    keys: KeySet | None,
    *,
    issuer: str,
    subject: str,
    now: float,
    expected_types=(STATEMENT_TYPE,),
    require_exp: bool = True,
) -> dict:
    """Verify a signed statement and return its claims.

    With ``keys`` None the statement must be self-signed (an entity configuration): it is
    verified with the keys it carries, and the caller must then check those keys against a
    statement from a superior. Raises FederationError on any problem."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > MAX_STATEMENT_BYTES:
        raise FederationError("malformed", f"statement about {subject} is not a compact JWS")
    try:
        unverified = jws.extract_compact(token.encode())
        header = unverified.protected
        claims = json.loads(unverified.payload)
    except (JoseError, ValueError) as error:
        raise FederationError("malformed", f"statement about {subject}: {error}") from error
    if header.get("alg") not in SIGNING_ALGORITHMS:
        raise FederationError("bad_alg", f"statement about {subject} uses alg {header.get('alg')}")
    if header.get("typ") not in expected_types:
        raise FederationError("bad_typ", f"statement about {subject} has typ {header.get('typ')}")
    if keys is None:
        try:
            keys = KeySet.import_key_set(claims["jwks"])
        except (KeyError, TypeError, ValueError, JoseError) as error:
            raise FederationError("bad_jwks", f"{subject} publishes no usable jwks") from error
    try:
        verified = jwt.decode(token, keys, algorithms=SIGNING_ALGORITHMS)
    except (JoseError, ValueError) as error:
        raise FederationError("bad_signature", f"statement about {subject}: {error}") from error
    claims = verified.claims
    if claims.get("iss") != issuer or claims.get("sub") != subject:
        raise FederationError(
            "wrong_party",
            f"expected iss={issuer} sub={subject}, got iss={claims.get('iss')} "
            f"sub={claims.get('sub')}",
        )
    check_times(claims, now, subject, require_exp)
    return claims


def check_times(claims: dict, now: float, subject: str, require_exp: bool = True) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    if exp is None and not require_exp:
        pass
    elif not isinstance(exp, int | float) or exp <= now - CLOCK_SKEW:
        raise FederationError("expired", f"statement about {subject} has expired")
    if iat is not None and (not isinstance(iat, int | float) or iat > now + CLOCK_SKEW):
        raise FederationError("not_yet_valid", f"statement about {subject} is issued in the future")


class PolicyError(FederationError):
    def __init__(self, message: str):
        super().__init__("policy", message)


def apply_policy(metadata: dict, policy: dict) -> dict:
    """Apply a metadata policy (OpenID Federation 1.0, section 6.1) to one entity type's
    metadata; raise PolicyError when the metadata violates it."""
    result = dict(metadata)
    for name, operators in (policy or {}).items():
        if not isinstance(operators, dict):
            raise PolicyError(f"policy for {name} is not an object")
        present = name in result
        value = result.get(name)
        if "value" in operators:
            value, present = operators["value"], operators["value"] is not None
        if "add" in operators:
            additions = _as_list(operators["add"])
            current = _as_list(value) if present else []
            value = current + [item for item in additions if item not in current]
            present = True
        if "default" in operators and not present:
            value, present = operators["default"], True
        if present and "one_of" in operators and value not in operators["one_of"]:
            raise PolicyError(f"{name}={value!r} is not one of {operators['one_of']}")
        if present and "subset_of" in operators:
            allowed = operators["subset_of"]
            value = [item for item in _as_list(value) if item in allowed]
            if not value:
                raise PolicyError(f"{name} has no value allowed by {allowed}")
        if present and "superset_of" in operators:
            missing = [item for item in operators["superset_of"] if item not in _as_list(value)]
            if missing:
                raise PolicyError(f"{name} lacks {missing}")
        if operators.get("essential") and not present:
            raise PolicyError(f"{name} is essential and missing")
        if present:
            result[name] = value
        else:
            result.pop(name, None)
    return result


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class FederationClient:
    """Resolves trust from the pinned Trust Anchor. Thread-safe; caches until expiry."""

    def __init__(
        self,
        trust_anchor: str,
        anchor_keys: dict,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        required_trust_marks: dict[str, tuple[str, ...]] | None = None,
    ):
        self.trust_anchor = trust_anchor
        self.anchor_keys = KeySet.import_key_set(anchor_keys)
        self.http = http or httpx.Client(timeout=5.0, follow_redirects=False)
        self.clock = clock
        # entity type -> trust mark ids that an entity of that type must carry
        self.required_trust_marks = required_trust_marks or {}
        self._cache: dict[tuple, tuple[float, object]] = {}
        self._lock = threading.Lock()

    # -- fetching ---------------------------------------------------------------------------

    def _get(self, url: str, params: dict | None = None) -> str:
        target = f"{url}?{urlencode(params)}" if params else url
        try:
            response = self.http.get(target)
        except httpx.HTTPError as error:
            raise FederationError("unreachable", f"{url}: {error}") from error
        if response.status_code != 200:
            raise FederationError("http_error", f"{url} answered {response.status_code}")
        if len(response.content) > MAX_STATEMENT_BYTES:
            raise FederationError("too_large", f"{url} answered with an oversized body")
        return response.text.strip()

    def _cached(self, key: tuple, produce: Callable[[], tuple[float, object]]):
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit and hit[0] > now:
                if isinstance(hit[1], FederationError):
                    raise hit[1]
                return hit[1]
        try:
            expires_at, value = produce()
        except FederationError as error:
            with self._lock:
                self._cache[key] = (now + FAILURE_CACHE_SECONDS, error)
            raise
        with self._lock:
            self._cache[key] = (expires_at, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- the Trust Anchor -------------------------------------------------------------------

    def anchor_configuration(self) -> dict:
        def produce():
            token = self._get(self.trust_anchor + WELL_KNOWN)
            claims = decode_statement(
                token,
                self.anchor_keys,
                issuer=self.trust_anchor,
                subject=self.trust_anchor,
                now=self.clock(),
            )
            return claims["exp"], (claims, token)

        return self._cached(("anchor",), produce)[0]

    def _anchor_endpoint(self, name: str) -> str:
        endpoint = (
            self.anchor_configuration().get("metadata", {}).get("federation_entity", {}).get(name)
        )
        if not endpoint:
            raise FederationError("no_endpoint", f"the Trust Anchor publishes no {name}")
        return endpoint

    def subordinates(self, entity_type: str) -> list[str]:
        def produce():
            body = self._get(
                self._anchor_endpoint("federation_list_endpoint"), {"entity_type": entity_type}
            )
            try:
                listed = json.loads(body)
            except ValueError as error:
                raise FederationError("malformed", "the Trust Anchor's list is not JSON") from error
            if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
                raise FederationError("malformed", "the Trust Anchor's list is not a list of ids")
            return self.clock() + 300, listed

        return self._cached(("list", entity_type), produce)

    def subordinate_statement(self, subject: str) -> tuple[dict, str]:
        def produce():
            token = self._get(self._anchor_endpoint("federation_fetch_endpoint"), {"sub": subject})
            anchor = self.anchor_configuration()
            claims = decode_statement(
                token,
                KeySet.import_key_set(anchor["jwks"]),
                issuer=self.trust_anchor,
                subject=subject,
                now=self.clock(),
            )
            return claims["exp"], (claims, token)

        return self._cached(("fetch", subject), produce)

    # -- trust chains -----------------------------------------------------------------------

    def resolve(self, subject: str, entity_type: str) -> TrustChain:
        """The verified chain of ``subject`` as an entity of ``entity_type``."""

        def produce():
            if subject not in self.subordinates(entity_type):
                raise FederationError(
                    "unknown_entity", f"{subject} is not a {entity_type} of the Trust Anchor"
                )
            statement, statement_jwt = self.subordinate_statement(subject)
            chain = self.verify_chain(subject, entity_type, statement, statement_jwt)
            return chain.expires_at, chain

        return self._cached(("chain", subject, entity_type), produce)

    def verify_chain(
        self, subject: str, entity_type: str, statement: dict, statement_jwt: str
    ) -> TrustChain:
        try:
            subordinate_keys = KeySet.import_key_set(statement["jwks"])
        except (KeyError, TypeError, ValueError, JoseError) as error:
            raise FederationError("bad_jwks", f"no keys for {subject} in its statement") from error
        token = self._get(subject + WELL_KNOWN)
        configuration = decode_statement(
            token, subordinate_keys, issuer=subject, subject=subject, now=self.clock()
        )
        if self.trust_anchor not in configuration.get("authority_hints", []):
            raise FederationError("no_authority", f"{subject} does not name the Trust Anchor")
        metadata = configuration.get("metadata", {}).get(entity_type)
        if not isinstance(metadata, dict):
            raise FederationError("no_metadata", f"{subject} has no {entity_type} metadata")
        anchor = self.anchor_configuration()
        for policy_source in (statement, anchor):
            policy = policy_source.get("metadata_policy", {}).get(entity_type)
            if policy:
                metadata = apply_policy(metadata, policy)
        marks = self.verify_trust_marks(subject, configuration.get("trust_marks", []))
        for required in self.required_trust_marks.get(entity_type, ()):
            if not any(mark["id"] == required for mark in marks):
                raise FederationError(
                    "missing_trust_mark", f"{subject} lacks trust mark {required}"
                )
        expires_at = min(configuration["exp"], statement["exp"], anchor["exp"])
        return TrustChain(
            subject=subject,
            entity_type=entity_type,
            metadata=metadata,
            federation_entity=configuration.get("metadata", {}).get("federation_entity", {}),
            federation_jwks=statement["jwks"],
            trust_marks=tuple(marks),
            expires_at=int(expires_at),
            statements=(token, statement_jwt),
        )

    def verify_trust_marks(self, subject: str, entries) -> list[dict]:
        """The trust marks of ``subject`` that the Trust Anchor really issued; others are
        dropped with a log line (a required one missing fails the chain above)."""
        anchor = self.anchor_configuration()
        anchor_keys = KeySet.import_key_set(anchor["jwks"])
        valid = []
        for entry in entries if isinstance(entries, list) else []:
            token = entry.get("trust_mark") if isinstance(entry, dict) else None
            if not token:
                continue
            try:
                # Trust marks may carry no exp (the local provider issues them so).
                claims = decode_statement(
                    token,
                    anchor_keys,
                    issuer=self.trust_anchor,
                    subject=subject,
                    now=self.clock(),
                    expected_types=TRUST_MARK_TYPES,
                    require_exp=False,
                )
            except FederationError as error:
                log.warning("trust mark of %s rejected: %s", subject, error)
                continue
            mark_id = claims.get("trust_mark_type") or claims.get("id")
            declared = entry.get("trust_mark_type") or entry.get("id")
            if not mark_id or (declared and declared != mark_id):
                log.warning("trust mark of %s has a mismatched id", subject)
                continue
            valid.append({"id": mark_id, "trust_mark": token})
        return valid

    # -- identity providers -----------------------------------------------------------------

    def providers(self) -> list[TrustChain]:
        """Every identity provider with a valid chain; a broken one is left out and logged."""
        chains = []
        for subject in self.subordinates("openid_provider"):
            try:
                chains.append(self.resolve(subject, "openid_provider"))
            except FederationError as error:
                log.warning("identity provider %s left out: %s", subject, error)
        return chains


def sign_statement(claims: dict, key, typ: str = STATEMENT_TYPE) -> str:
    header = {"alg": "RS256", "kid": key.kid, "typ": typ}
    return jwt.encode(header, claims, key, algorithms=["RS256"])
