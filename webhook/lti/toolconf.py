"""pylti1p3's tool configuration, read from the database (:mod:`webhook.lti.models`).

Every issuer may have several client ids (one per registration of the tool in that
platform), so lookups are by issuer *and* client id; a launch whose audience is not a
registered client id of its issuer finds no registration and is refused.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.request import Request
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from webhook.lti import keys
from webhook.lti.models import LtiDeployment, LtiRegistration


class DatabaseToolConf(ToolConfAbstract[Request]):
    """Registrations and deployments as ``grade-server lti`` stored them."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.issuers_relation_types = _ManyClients()

    def registration_row(self, iss: str, client_id: str | None) -> LtiRegistration | None:
        query = select(LtiRegistration).where(LtiRegistration.issuer == iss)
        if client_id:
            query = query.where(LtiRegistration.client_id == client_id)
        rows = self.session.scalars(query.order_by(LtiRegistration.id)).all()
        return rows[0] if len(rows) == 1 or (rows and client_id) else None

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Any:
        return self.find_registration_by_params(iss, "", *args, **kwargs)

    def find_registration_by_params(
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        row = self.registration_row(iss, client_id or None)
        return None if row is None else self.registration(row)

    def registration(self, row: LtiRegistration) -> Registration:
        """pylti1p3's view of a registration, with the tool's current signing key."""
        registration = (
            Registration()
            .set_issuer(row.issuer)
            .set_client_id(row.client_id)
            .set_auth_login_url(row.auth_login_url)
            .set_auth_token_url(row.auth_token_url)
            .set_key_set_url(row.key_set_url)
        )
        if row.auth_audience:
            registration.set_auth_audience(row.auth_audience)
        signing = keys.signing_key(self.session)
        if signing is not None:
            registration.set_tool_private_key(signing.private_pem)
            registration.set_tool_public_key(signing.public_pem)
        return registration

    def deployment_row(self, iss: str, deployment_id: str, client_id: str) -> LtiDeployment | None:
        return self.session.scalar(
            select(LtiDeployment)
            .join(LtiRegistration, LtiRegistration.id == LtiDeployment.registration_id)
            .where(
                LtiRegistration.issuer == iss,
                LtiRegistration.client_id == client_id,
                LtiDeployment.deployment_id == deployment_id,
            )
        )

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return None  # every issuer is looked up with its client id

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        row = self.deployment_row(iss, deployment_id, client_id)
        return None if row is None else Deployment().set_deployment_id(row.deployment_id)


class _ManyClients(dict[str, str]):
    """Every issuer is "one issuer, many client ids" (pylti1p3's relation types)."""

    def get(self, key: str, default: Any = None) -> str:
        return "one-issuer-many-client-ids"
