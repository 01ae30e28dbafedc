"""An in-process SPID/CIE federation for unit tests: a Trust Anchor and two identity providers
behind httpx.MockTransport, with keys minted here. Each test may tamper with one thing
(``federation.tamper``) to check that the portal refuses it."""

import base64
import hashlib
import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwe, jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

TA = "https://ta.test/"
SPID_OP = "https://spid.test/oidc/op/"
CIE_OP = "https://cie.test/oidc/op/"
RP_TRUST_MARK = "https://www.spid.gov.it/certification/rp/public"
OP_TRUST_MARK = "https://www.spid.gov.it/certification/op"
SPID_L2 = "https://www.spid.gov.it/SpidL2"


def new_key(use="sig") -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"use": use}, private=True)
    key.ensure_kid()
    return key


def public(*keys) -> dict:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def sign(claims, key, typ="entity-statement+jwt", alg="RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims, key, algorithms=[alg])


def half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def form_of(request: httpx.Request) -> dict:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


class FakeProvider:
    def __init__(self, entity_id, profile):
        self.entity_id = entity_id
        self.profile = profile
        self.federation_key = new_key()
        self.core_key = new_key()

    def endpoint(self, name):
        return f"{self.entity_id}{name}"

    def metadata(self):
        return {
            "issuer": self.entity_id,
            "authorization_endpoint": self.endpoint("authorization"),
            "token_endpoint": self.endpoint("token"),
            "userinfo_endpoint": self.endpoint("userinfo"),
            "revocation_endpoint": self.endpoint("revocation"),
            "jwks": public(self.core_key),
            "acr_values_supported": [
                "https://www.spid.gov.it/SpidL1",
                SPID_L2,
                "https://www.spid.gov.it/SpidL3",
            ],
        }


class FakeFederation:
    def __init__(self):
        self.ta_key = new_key()
        self.stranger_key = new_key()
        self.providers = {
            SPID_OP: FakeProvider(SPID_OP, "spid"),
            CIE_OP: FakeProvider(CIE_OP, "cie"),
        }
        self.rp_entity_id = None
        self.rp_federation_jwks = None
        self.reset()

    def reset(self):
        self.tamper = set()
        self.person = {
            "given_name": "Mario",
            "family_name": "Rossi",
            "fiscal_number": "TINIT-RSSMRA80A01E897X",
            "email": "mario.rossi@example.org",
            "phone_number": "+393330000001",
        }
        self.acr = SPID_L2
        self.subject = "subject-of-mario"
        self.codes = {}
        self.access_tokens = {}
        self.revoked = []
        self.requests = []
        self.token_requests = []

    # -- statements ---------------------------------------------------------------------

    def ta_configuration(self):
        now = int(time.time())
        return sign(
            {
                "iss": TA,
                "sub": TA,
                "iat": now,
                "exp": now + 3600,
                "jwks": public(self.ta_key),
                "metadata": {
                    "federation_entity": {
                        "federation_fetch_endpoint": TA + "fetch",
                        "federation_list_endpoint": TA + "list",
                        "organization_name": "Trust Anchor di test",
                    }
                },
                "trust_mark_issuers": {RP_TRUST_MARK: [TA], OP_TRUST_MARK: [TA]},
            },
            self.ta_key,
        )

    def trust_mark(self, subject, mark_id):
        claims = {"iss": TA, "sub": subject, "id": mark_id, "iat": int(time.time())}
        return sign(claims, self.ta_key, typ="trust-mark+jwt")

    def subordinate_statement(self, subject):
        now = int(time.time())
        if subject in self.providers:
            jwks = public(self.providers[subject].federation_key)
            marks = []
        elif subject == self.rp_entity_id:
            jwks = self.rp_federation_jwks
            marks = [{"id": RP_TRUST_MARK, "trust_mark": self.trust_mark(subject, RP_TRUST_MARK)}]
        else:
            return None
        key = self.stranger_key if "statement_signed_by_stranger" in self.tamper else self.ta_key
        claims = {"iss": TA, "sub": subject, "iat": now, "exp": now + 3600, "jwks": jwks}
        if marks:
            claims["trust_marks"] = marks
        return sign(claims, key)

    def provider_configuration(self, provider: FakeProvider):
        now = int(time.time())
        hints = ["https://elsewhere.test/"] if "unknown_authority" in self.tamper else [TA]
        claims = {
            "iss": provider.entity_id,
            "sub": provider.entity_id,
            "iat": now,
            "exp": now + 3600,
            "jwks": public(provider.federation_key),
            "authority_hints": hints,
            "metadata": {
                "federation_entity": {"organization_name": f"Provider {provider.profile.upper()}"},
                "openid_provider": provider.metadata(),
            },
        }
        if "op_without_trust_mark" not in self.tamper:
            mark = self.trust_mark(provider.entity_id, OP_TRUST_MARK)
            claims["trust_marks"] = [{"id": OP_TRUST_MARK, "trust_mark": mark}]
        token = sign(claims, provider.federation_key)
        if "tampered_configuration" in self.tamper:
            head, payload, signature = token.split(".")
            changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
            changed["metadata"]["openid_provider"]["token_endpoint"] = "https://evil.test/token"
            payload = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
            token = f"{head}.{payload}.{signature}"
        return token

    # -- the identity provider's endpoints ----------------------------------------------

    def authorize(self, authorization_url):
        """What the browser would get back from the provider after login and consent."""
        query = parse_qs(urlsplit(authorization_url).query)
        request_object = jwt.decode(query["request"][0], self._rp_signing_keys())
        self.requests.append(request_object.claims)
        code = uuid.uuid4().hex
        self.codes[code] = request_object.claims
        return code, request_object.claims["state"]

    def _rp_signing_keys(self):
        from portal.auth.services import runtime

        return KeySet.import_key_set(runtime().keys.core_public())

    def token(self, provider: FakeProvider, form):
        self.token_requests.append(form)
        assertion = jwt.decode(form["client_assertion"], self._rp_signing_keys())
        assert assertion.claims["iss"] == self.rp_entity_id
        assert assertion.claims["aud"] == provider.endpoint("token")
        request = self.codes.pop(form["code"], None)
        if request is None:
            return httpx.Response(400, json={"error": "invalid_grant"})
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if challenge != request["code_challenge"]:
            return httpx.Response(400, json={"error": "invalid_grant"})
        access_token = uuid.uuid4().hex
        now = int(time.time())
        claims = {
            "iss": "https://other-op.test/" if "wrong_iss" in self.tamper else provider.entity_id,
            "sub": self.subject,
            "aud": ["https://someone-else.test/"]
            if "wrong_aud" in self.tamper
            else [self.rp_entity_id],
            "iat": now,
            "exp": now - 3600 if "expired" in self.tamper else now + 300,
            "nonce": "x" * 43 if "wrong_nonce" in self.tamper else request["nonce"],
            "at_hash": half_hash("another token" if "bad_at_hash" in self.tamper else access_token),
            "acr": "https://www.spid.gov.it/SpidL1" if "low_acr" in self.tamper else self.acr,
            "jti": uuid.uuid4().hex,
        }
        if "alg_none" in self.tamper:
            header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            id_token = f"{header}.{body}."
        elif "alg_hs256" in self.tamper:
            secret = OctKey.import_key(b"a-shared-secret-that-anyone-could-guess-0123")
            id_token = jwt.encode({"alg": "HS256"}, claims, secret, algorithms=["HS256"])
        elif "bad_signature" in self.tamper:
            id_token = sign(claims, self.stranger_key, typ="JWT")
        else:
            id_token = sign(claims, provider.core_key, typ="JWT")
        self.access_tokens[access_token] = provider.entity_id
        return httpx.Response(
            200,
            json={
                "access_token": access_token,
                "id_token": id_token,
                "token_type": "Bearer",
                "expires_in": 1800,
            },
        )

    def userinfo(self, provider: FakeProvider, request: httpx.Request):
        from portal.auth.services import runtime

        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return httpx.Response(401)
        claims = dict(self.person, iss=provider.entity_id, aud=self.rp_entity_id)
        claims["sub"] = "someone-else" if "userinfo_sub_mismatch" in self.tamper else self.subject
        if provider.profile == "spid":
            claims["https://attributes.eid.gov.it/fiscal_number"] = claims.pop("fiscal_number")
        inner = sign(claims, provider.core_key, typ="JWT")
        encryption_key = runtime().keys.encryption.keys[0]
        body = jwe.encrypt_compact(
            {"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "kid": encryption_key.kid, "cty": "JWT"},
            inner,
            KeySet.import_key_set({"keys": [encryption_key.as_dict(private=False)]}),
            algorithms=["RSA-OAEP", "A256CBC-HS512"],
        )
        return httpx.Response(200, text=body, headers={"Content-Type": "application/jose"})

    # -- routing ------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url).split("?")[0]
        if "ta_down" in self.tamper and url.startswith(TA):
            raise httpx.ConnectError("connection refused", request=request)
        if url == TA + ".well-known/openid-federation":
            return httpx.Response(200, text=self.ta_configuration())
        if url == TA + "list":
            return httpx.Response(200, json=list(self.providers))
        if url == TA + "fetch":
            statement = self.subordinate_statement(request.url.params.get("sub"))
            return httpx.Response(200, text=statement) if statement else httpx.Response(404)
        for provider in self.providers.values():
            if url == provider.entity_id + ".well-known/openid-federation":
                return httpx.Response(200, text=self.provider_configuration(provider))
            if url == provider.endpoint("token"):
                return self.token(provider, form_of(request))
            if url == provider.endpoint("userinfo"):
                return self.userinfo(provider, request)
            if url == provider.endpoint("revocation"):
                if "revocation_down" in self.tamper:
                    return httpx.Response(503)
                self.revoked.append(form_of(request)["token"])
                return httpx.Response(200)
        return httpx.Response(404)


def wire(app, federation: "FakeFederation") -> None:
    """Send every outgoing call of the portal to the in-process federation, never the network,
    and make the portal known to it."""
    runtime = app.extensions["auth"]
    runtime.http.close()
    runtime.http = httpx.Client(transport=httpx.MockTransport(federation.handle))
    runtime.federation.http = runtime.http
    federation.rp_entity_id = app.config["FEDERATION_ENTITY_ID"]
    federation.rp_federation_jwks = runtime.keys.federation_public()
