"""The relying party's private keys: federation keys apart from the OpenID Connect ones.

One JSON file holds three lists of private JWKs: ``federation`` (signs the entity
configuration), ``signing`` (request objects, client assertions) and ``encryption`` (userinfo
arrives encrypted to it). The first key of each list is the one in use; the others are still
published so that a rotation does not break what was signed or encrypted before it.
Development and tests generate the file on first use; production refuses to start without it.
"""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

PURPOSES = {"federation": "sig", "signing": "sig", "encryption": "enc"}


class KeyFileError(RuntimeError):
    """The key file is missing or unusable; the message says what to do."""


@dataclass(frozen=True)
class RelyingPartyKeys:
    federation: KeySet
    signing: KeySet
    encryption: KeySet

    @staticmethod
    def _public(key_set: KeySet) -> dict:
        return {"keys": [key.as_dict(private=False) for key in key_set.keys]}

    def federation_public(self) -> dict:
        return self._public(self.federation)

    def core_public(self) -> dict:
        return {"keys": self._public(self.signing)["keys"] + self._public(self.encryption)["keys"]}

    @property
    def federation_key(self) -> RSAKey:
        return self.federation.keys[0]

    @property
    def signing_key(self) -> RSAKey:
        return self.signing.keys[0]


def generate_key(use: str) -> dict:
    key = RSAKey.generate_key(2048, parameters={"use": use}, private=True)
    data = key.as_dict(private=True)
    data["kid"] = key.thumbprint()
    return data


def generate_file(path: Path) -> None:
    """Write a new key file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {purpose: [generate_key(use)] for purpose, use in PURPOSES.items()}
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
    os.replace(tmp, path)


def rotate_file(path: Path, purpose: str) -> None:
    """Put a new key first in ``purpose``, keeping the old ones published after it."""
    content = json.loads(path.read_text())
    content[purpose].insert(0, generate_key(PURPOSES[purpose]))
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
    os.replace(tmp, path)


def load(path: Path, *, create: bool) -> RelyingPartyKeys:
    if not path.exists():
        if not create:
            raise KeyFileError(
                f"The relying party key file {path} does not exist: create it with "
                "`flask --app portal auth keys generate` and set AUTH_KEYS_FILE"
            )
        generate_file(path)
    try:
        content = json.loads(path.read_text())
        sets = {}
        for purpose, use in PURPOSES.items():
            entries = content[purpose]
            if not entries:
                raise KeyFileError(f"{path}: no {purpose} key")
            for entry in entries:
                if "d" not in entry or entry.get("use") != use or not entry.get("kid"):
                    raise KeyFileError(f"{path}: each {purpose} key needs d, kid and use={use}")
            sets[purpose] = KeySet.import_key_set({"keys": entries})
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise KeyFileError(f"{path} is not a usable key file: {error}") from error
    kids = [key.kid for key_set in sets.values() for key in key_set.keys]
    if len(kids) != len(set(kids)):
        raise KeyFileError(f"{path}: every key needs its own kid")
    return RelyingPartyKeys(**sets)
