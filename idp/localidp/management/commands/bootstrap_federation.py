"""Create or update the federation of the local test identity provider (idempotent).

Run it once per role (``IDP_ROLE``), CIE first, then the Trust Anchor:

- role ``cie``: migrates ``cie.sqlite3``, creates/updates the CIE OpenID Provider and the test
  users, forgets the trust chains it cached for the ``--rp`` entities, and writes the OP's
  public federation keys to ``$IDP_DATA_DIR/cie-op.jwks.json``;
- role ``ta-spid``: migrates ``ta-spid.sqlite3``, creates/updates the Trust Anchor, the SPID
  OpenID Provider and the test users, registers both OPs as subordinates of the Trust Anchor
  (the CIE one from the file above), registers every ``--rp ENTITY_ID=JWKS_FILE`` as a
  relying party holding the trust mark ``https://www.spid.gov.it/certification/rp/public``,
  and writes the Trust Anchor's public federation keys to
  ``$IDP_DATA_DIR/trust-anchor.jwks.json``.

Keys are generated once and kept; metadata, users and relying-party keys are rewritten on
every run.
"""

import json
import logging
from pathlib import Path

from cryptojwt.jwk.rsa import new_rsa_key
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from spid_cie_oidc.authority.models import (
    FederationDescendant,
    FederationEntityAssignedProfile,
    FederationEntityProfile,
)
from spid_cie_oidc.entity.jwks import create_jwk, public_jwk_from_private_jwk
from spid_cie_oidc.entity.models import (
    FederationEntityConfiguration,
    FetchedEntityStatement,
    TrustChain,
)
from spid_cie_oidc.entity.validators import validate_public_jwks

logger = logging.getLogger("localidp")

SPID_ACR = [
    "https://www.spid.gov.it/SpidL1",
    "https://www.spid.gov.it/SpidL2",
    "https://www.spid.gov.it/SpidL3",
]
SIGNING_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
# What the package's OP really produces: RS256 signatures, RSA-OAEP + A256CBC-HS512 JWEs.
OWN_SIGNING_ALGS = ["RS256"]
ENCRYPTION_ALGS = ["RSA-OAEP", "RSA-OAEP-256"]
ENCRYPTION_ENCS = ["A128CBC-HS256", "A256CBC-HS512"]
CIE_CLAIMS = [
    "given_name",
    "family_name",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "phone_number",
    "phone_number_verified",
    "https://attributes.eid.gov.it/fiscal_number",
]
CIE_OP_JWKS_FILE = "cie-op.jwks.json"
TA_JWKS_FILE = "trust-anchor.jwks.json"


def _rsa_jwk(use: str) -> dict:
    key = new_rsa_key(key_size=2048, use=use)
    jwk = key.serialize(private=True)
    jwk["kid"] = key.thumbprint("SHA-256").decode()
    jwk["use"] = use
    return jwk


def _public(jwks: list) -> list:
    return [public_jwk_from_private_jwk(k) for k in jwks]


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _read_jwks(path: Path) -> list:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read a JWKS from {path}: {exc}") from exc
    keys = data.get("keys") if isinstance(data, dict) else data
    if not isinstance(keys, list) or not keys:
        raise CommandError(f'{path} holds no keys (expected {{"keys": [...]}})')
    for key in keys:
        if not isinstance(key, dict) or not key.get("kid"):
            raise CommandError(f"{path}: every key needs a kid")
        if any(part in key for part in ("d", "p", "q", "dp", "dq", "qi")):
            raise CommandError(f"{path}: key {key['kid']} is private; pass the public keys only")
    try:
        validate_public_jwks(keys)
    except ValidationError as exc:
        raise CommandError(f"{path}: not a valid public JWKS") from exc
    return keys


def _parse_rp(value: str) -> tuple:
    entity_id, sep, path = value.partition("=")
    if not sep or not entity_id.startswith(("http://", "https://")) or not path:
        raise CommandError(f"--rp wants ENTITY_ID=PATH_TO_PUBLIC_FEDERATION_JWKS, not {value!r}")
    if not entity_id.endswith("/"):
        raise CommandError(f"--rp entity id must end with '/': {entity_id}")
    return entity_id, Path(path).expanduser().resolve()


class Command(BaseCommand):
    help = "Create or update the local Trust Anchor / OpenID Providers / users / relying parties."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rp",
            action="append",
            default=[],
            metavar="ENTITY_ID=JWKS_FILE",
            help="relying party to register with the Trust Anchor (role ta-spid only)",
        )
        parser.add_argument("--skip-migrate", action="store_true")

    def handle(self, *args, **options):
        rps = [_parse_rp(v) for v in options["rp"]]
        data_dir = Path(settings.IDP_DATA_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        if not options["skip_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)

        with transaction.atomic():
            # Forget what this OP cached about the relying parties (trust chains, fetched
            # statements), so new keys or trust marks count from the next request.
            self._forget_cached(rps)
            if settings.IDP_ROLE == "cie":
                # The CIE OP has no Trust Anchor of its own: --rp only clears its caches.
                op = self._op(settings.CIE_OP_ENTITY_ID, "cie", settings.IDP_CIE_PORT)
                self._users("cie")
                _write_json(data_dir / CIE_OP_JWKS_FILE, {"keys": op.public_jwks})
            else:
                ta = self._trust_anchor()
                spid_op = self._op(settings.SPID_OP_ENTITY_ID, "spid", settings.IDP_TA_PORT)
                self._fix_order(ta, spid_op)
                self._users("spid")
                self._subordinates(ta, spid_op, rps, data_dir)
                _write_json(data_dir / TA_JWKS_FILE, {"keys": ta.public_jwks})
        self.stdout.write(f"bootstrap {settings.IDP_ROLE}: ok")

    # --- entities ---------------------------------------------------------------------------

    def _base(self, port: int) -> str:
        return f"http://{settings.IDP_HOST}:{port}/"

    def _trust_anchor(self) -> FederationEntityConfiguration:
        sub = settings.TA_ENTITY_ID
        metadata = {
            "federation_entity": {
                "organization_name": "Trust Anchor di test (locale)",
                "homepage_uri": sub,
                "policy_uri": sub,
                "logo_uri": f"{sub}static/svg/spid-logo-c-lb.svg",
                "contacts": ["federation@example.invalid"],
                "federation_fetch_endpoint": f"{sub}fetch",
                "federation_list_endpoint": f"{sub}list",
                "federation_resolve_endpoint": f"{sub}resolve",
                "federation_trust_mark_status_endpoint": f"{sub}trust_mark_status",
            }
        }
        ta = FederationEntityConfiguration.objects.filter(sub=sub).first()
        if ta is None:
            ta = FederationEntityConfiguration(sub=sub, jwks_fed=[create_jwk()], jwks_core=[])
        ta.entity_type = "federation_entity"
        ta.default_signature_alg = "RS256"
        ta.authority_hints = []
        ta.metadata = metadata
        ta.trust_mark_issuers = {settings.RP_TRUST_MARK_ID: [sub], settings.OP_PROFILE_ID: [sub]}
        ta.constraints = {"max_path_length": 1}
        ta.is_active = True
        ta.save()
        return ta

    def _op(self, sub: str, profile: str, port: int) -> FederationEntityConfiguration:
        base = self._base(port)
        op = FederationEntityConfiguration.objects.filter(sub=sub).first()
        if op is None:
            op = FederationEntityConfiguration(
                sub=sub, jwks_fed=[create_jwk()], jwks_core=[_rsa_jwk("sig"), _rsa_jwk("enc")]
            )
        label = "SPID" if profile == "spid" else "CIE"
        org = f"Provider {label} di test (locale)"
        logo = "svg/spid-logo-c-lb.svg" if profile == "spid" else "svg/logo-cie.svg"
        op_md = {
            "organization_name": org,
            "issuer": sub,
            "authorization_endpoint": f"{sub}authorization",
            "token_endpoint": f"{sub}token",
            "userinfo_endpoint": f"{sub}userinfo",
            "introspection_endpoint": f"{sub}introspection",
            "revocation_endpoint": f"{sub}revocation",
            "jwks": {"keys": _public(op.jwks_core)},
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
            "id_token_signing_alg_values_supported": OWN_SIGNING_ALGS,
            "id_token_encryption_alg_values_supported": ENCRYPTION_ALGS,
            "id_token_encryption_enc_values_supported": ENCRYPTION_ENCS,
            "userinfo_signing_alg_values_supported": OWN_SIGNING_ALGS,
            "userinfo_encryption_alg_values_supported": ENCRYPTION_ALGS,
            "userinfo_encryption_enc_values_supported": ENCRYPTION_ENCS,
            "request_object_signing_alg_values_supported": SIGNING_ALGS,
            "request_object_encryption_alg_values_supported": ENCRYPTION_ALGS,
            "request_object_encryption_enc_values_supported": ENCRYPTION_ENCS,
            "subject_types_supported": ["pairwise"],
            "request_parameter_supported": True,
            "acr_values_supported": SPID_ACR,
            "scopes_supported": ["openid", "offline_access"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "claims_parameter_supported": True,
            "authorization_response_iss_parameter_supported": True,
        }
        if profile == "spid":
            op_md["op_name"] = org
            op_md["op_uri"] = base
        else:
            op_md["scopes_supported"] = ["openid", "offline_access", "profile", "email"]
            op_md["claims_supported"] = CIE_CLAIMS
            op_md["tls_client_certificate_bound_access_tokens"] = False
        op.entity_type = "openid_provider"
        op.default_signature_alg = "RS256"
        op.authority_hints = [settings.TA_ENTITY_ID]
        op.metadata = {
            "federation_entity": {
                "organization_name": org,
                "homepage_uri": base,
                "policy_uri": base,
                "logo_uri": f"{base}static/{logo}",
                "contacts": [f"{profile}-op@example.invalid"],
                "federation_resolve_endpoint": f"{base}resolve",
            },
            "openid_provider": op_md,
        }
        op.is_active = True
        try:
            op.full_clean()
        except ValidationError as exc:
            raise CommandError(f"{label} OP configuration is not valid: {exc}") from exc
        op.save()
        return op

    def _fix_order(self, ta, op) -> None:
        """The package takes the first active entity with federation_entity metadata as the
        Trust Anchor of this database: the TA row must come before the OP's."""
        for stale in FederationEntityConfiguration.objects.exclude(pk__in=[ta.pk, op.pk]):
            stale.delete()
        if op.pk < ta.pk:
            fields = {
                f.name: getattr(op, f.name) for f in op._meta.fields if f.name not in ("id", "uuid")
            }
            op.delete()
            op.pk = None
            for name, value in fields.items():
                setattr(op, name, value)
            op.save()

    def _forget_cached(self, rps) -> None:
        subs = [entity_id for entity_id, _ in rps]
        if subs:
            TrustChain.objects.filter(sub__in=subs).delete()
            FetchedEntityStatement.objects.filter(sub__in=subs).delete()

    # --- subordinates -----------------------------------------------------------------------

    def _profile(self, profile_id: str, category: str, name: str, template: dict):
        profile, _ = FederationEntityProfile.objects.update_or_create(
            profile_id=profile_id,
            defaults={"name": name, "profile_category": category, "trust_mark_template": template},
        )
        return profile

    def _descendant(self, ta, sub: str, name: str, typ: str, jwks: list, profile) -> None:
        desc, _ = FederationDescendant.objects.update_or_create(
            sub=sub,
            defaults={
                "name": name[:33],
                "type": typ,
                "jwks": jwks,
                "is_active": True,
                "status": "valid",
            },
        )
        FederationEntityAssignedProfile.objects.filter(descendant=desc).exclude(
            profile=profile
        ).delete()
        FederationEntityAssignedProfile.objects.update_or_create(
            descendant=desc, profile=profile, defaults={"issuer": ta}
        )

    def _subordinates(self, ta, spid_op, rps, data_dir: Path) -> None:
        op_profile = self._profile(
            settings.OP_PROFILE_ID, "openid_provider", "OP di test", {"organization_type": "public"}
        )
        rp_profile = self._profile(
            settings.RP_TRUST_MARK_ID,
            "openid_relying_party",
            "RP pubblico di test",
            {"organization_type": "public"},
        )
        self._descendant(
            ta,
            spid_op.sub,
            "Provider SPID di test",
            "openid_provider",
            spid_op.public_jwks,
            op_profile,
        )
        cie_file = data_dir / CIE_OP_JWKS_FILE
        if cie_file.exists():
            self._descendant(
                ta,
                settings.CIE_OP_ENTITY_ID,
                "Provider CIE di test",
                "openid_provider",
                _read_jwks(cie_file),
                op_profile,
            )
        else:
            self.stderr.write(f"warning: {cie_file} missing; bootstrap the cie role first")
        for entity_id, path in rps:
            self._descendant(
                ta,
                entity_id,
                f"RP {entity_id}",
                "openid_relying_party",
                _read_jwks(path),
                rp_profile,
            )
            self.stdout.write(f"registered relying party {entity_id}")

    # --- users ------------------------------------------------------------------------------

    def _users(self, profile: str) -> None:
        data = json.loads(Path(settings.IDP_IDENTITIES_FILE).read_text(encoding="utf-8"))
        password = data["password"]
        User = get_user_model()
        for ident in data["identities"]:
            tin = f"TINIT-{ident['fiscal_number']}"
            attributes = {
                "given_name": ident["given_name"],
                "family_name": ident["family_name"],
                "email": ident["email"],
                "phone_number": ident["mobile_phone"],
                "birthdate": ident["birthdate"],
                "gender": ident["gender"],
                "https://attributes.eid.gov.it/fiscal_number": tin,
            }
            if profile == "cie":
                attributes["fiscal_number"] = tin
                attributes["email_verified"] = True
                attributes["phone_number_verified"] = True
            user = User.objects.filter(username=ident["username"]).first() or User(
                username=ident["username"]
            )
            user.first_name = ident["given_name"]
            user.last_name = ident["family_name"]
            user.email = ident["email"]
            user.is_active = True
            user.is_staff = False
            user.is_superuser = False
            user.origin = "idp/identities.json"
            user.attributes = attributes
            if not user.pk or not user.check_password(password):
                user.set_password(password)
            user.save()
