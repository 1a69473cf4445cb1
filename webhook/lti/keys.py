"""The tool's RSA keys: made by ``grade-server lti key generate``, kept in the database.

Platforms check the tool's signatures (the client assertion of its OAuth2 token
requests, its deep linking responses) against the public JWKS the tool serves.
:func:`public_jwks` holds only public members: the private key is read by
:func:`signing_key` for signing, and never leaves the server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.lti.models import LtiToolKey

KEY_BITS = 2048
#: The members of an RSA JWK that may be public (RFC 7518 §6.3.1), and the JWK's own.
PUBLIC_MEMBERS = frozenset({"kty", "n", "e", "kid", "alg", "use"})


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    public_pem: str


def generate(session: Session) -> LtiToolKey:
    """A new 2048-bit RSA key pair, stored active; its ``kid`` is its JWK thumbprint."""
    key = JWK.generate(kty="RSA", size=KEY_BITS)
    kid = key.thumbprint()
    public = _public_members(json.loads(key.export_public()))
    public.update(kid=kid, alg="RS256", use="sig")
    row = LtiToolKey(
        kid=kid,
        private_pem=key.export_to_pem(private_key=True, password=None).decode("ascii"),
        public_jwk=json.dumps(public, sort_keys=True),
        active=True,
    )
    session.add(row)
    return row


def public_jwks(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every active key's public half, as a JWKS document."""
    rows = session.scalars(select(LtiToolKey).where(LtiToolKey.active).order_by(LtiToolKey.id))
    return {"keys": [_public_members(json.loads(row.public_jwk)) for row in rows]}


def signing_key(session: Session) -> SigningKey | None:
    """The newest active key, to sign with; ``None`` before the first is generated."""
    row = session.scalar(
        select(LtiToolKey).where(LtiToolKey.active).order_by(LtiToolKey.id.desc()).limit(1)
    )
    if row is None:
        return None
    # From the stored public JWK: loading the private PEM costs ~80 ms (key checks).
    public = JWK.from_json(row.public_jwk).export_to_pem(private_key=False)
    return SigningKey(row.kid, row.private_pem, public.decode("ascii"))


def _public_members(jwk: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in jwk.items() if name in PUBLIC_MEMBERS}
