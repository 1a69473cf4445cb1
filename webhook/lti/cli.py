"""``grade-server lti``: the tool's keys, platforms, deployments, passback and roster.

Errors are ``grade-server``'s (:mod:`webhook.cli.errors`): one line, an exit code of their own
(3 not found, 5 database not ready, 6 already exists, 8 bad value).
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import click
from flask import current_app
from sqlalchemy import func, select

from webhook.cli.errors import AlreadyExists, BadValue, NotFound, database_command
from webhook.database import get_db
from webhook.lti import keys, passback, roster
from webhook.lti.framing import origin
from webhook.lti.models import LtiDeployment, LtiPassback, LtiRegistration
from webhook.storage.models import Course

FRAME_ORIGIN_HELP = (
    "An origin (https://host[:port]) that may frame the tool's pages besides the issuer's and "
    "the login URL's: where the LMS serves its course pages (hosted Canvas: "
    "https://SCHOOL.instructure.com). Repeatable"
)
TRUST_EMAIL_HELP = (
    "The platform vouches for its users' emails: a learner's first launch may bind them to "
    "the roster student with that email (off: only the SIS id binds)"
)


@click.group("lti", help="LTI 1.3: the tool's keys, the platforms (LMSs), grade passback.")
def lti_group() -> None:
    pass


@lti_group.group("key", help="The tool's signing keys.")
def key_group() -> None:
    pass


@database_command(key_group, "generate")
def key_generate() -> None:
    """Make a new RSA key pair; it signs from now on."""
    with get_db().session() as session:
        row = keys.generate(session)
        session.commit()
        click.echo(f"tool key {row.kid} generated; its public half is served at /lti/jwks.json")


@lti_group.group("platform", help="Platforms (LMS registrations of the tool).")
def platform_group() -> None:
    pass


def _url(value: str, option: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise BadValue(f"{option}: {value!r} is not an http(s) URL")
    return value


@database_command(platform_group, "add")
@click.argument("name")
@click.option(
    "--issuer",
    required=True,
    help="The platform's issuer (iss), e.g. https://canvas.instructure.com",
)
@click.option("--client-id", required=True, help="The client id the platform gave the tool")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token URL")
@click.option("--key-set-url", required=True, help="The platform's public JWKS URL")
@click.option("--audience", default="", help="The token URL's audience, if not the token URL")
@click.option("--trust-email", is_flag=True, help=TRUST_EMAIL_HELP)
@click.option("--frame-origin", "frame_origins", multiple=True, help=FRAME_ORIGIN_HELP)
def platform_add(
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    audience: str,
    trust_email: bool,
    frame_origins: tuple[str, ...],
) -> None:
    """Register a platform: its issuer, our client id there, its URLs."""
    with get_db().session() as session:
        taken = session.scalar(
            select(LtiRegistration).where(
                (LtiRegistration.name == name)
                | ((LtiRegistration.issuer == issuer) & (LtiRegistration.client_id == client_id))
            )
        )
        if taken is not None:
            raise AlreadyExists(
                f"platform {taken.name!r} is registered with that name or client id"
            )
        session.add(
            LtiRegistration(
                name=name,
                issuer=issuer,
                client_id=client_id,
                auth_login_url=_url(auth_login_url, "--auth-login-url"),
                auth_token_url=_url(auth_token_url, "--auth-token-url"),
                key_set_url=_url(key_set_url, "--key-set-url"),
                auth_audience=audience,
                trust_email=trust_email,
                frame_origins=_origins(frame_origins),
            )
        )
        session.commit()
    click.echo(f"platform {name} registered ({issuer}, client id {client_id})")


@database_command(platform_group, "set")
@click.argument("name")
@click.option("--trust-email/--no-trust-email", default=None, help=TRUST_EMAIL_HELP)
@click.option(
    "--frame-origin",
    "frame_origins",
    multiple=True,
    help=FRAME_ORIGIN_HELP + "; replaces the ones set before ('none' clears them)",
)
def platform_set(name: str, trust_email: bool | None, frame_origins: tuple[str, ...]) -> None:
    """Change a registered platform's settings."""
    with get_db().session() as session:
        row = session.scalar(select(LtiRegistration).where(LtiRegistration.name == name))
        if row is None:
            raise NotFound(f"no platform named {name!r} (see `grade-server lti platform list`)")
        if trust_email is not None:
            row.trust_email = trust_email
        if frame_origins:
            row.frame_origins = "" if frame_origins == ("none",) else _origins(frame_origins)
        session.commit()
        click.echo(f"platform {name}: {_trust(row)}")


def _origins(values: tuple[str, ...]) -> str:
    """``--frame-origin`` values as stored: each an origin, nothing CSP could misread."""
    found = []
    for value in values:
        said = origin(value)
        if said is None or said != value.rstrip("/"):
            raise BadValue(f"--frame-origin: {value!r} is not an origin like https://host[:port]")
        found.append(said)
    return " ".join(dict.fromkeys(found))


def _trust(row: LtiRegistration) -> str:
    """The platform's settings in a few words: emails, and who else may frame the tool."""
    said = "trusts emails" if row.trust_email else "matches by SIS id only"
    return said + (f"; also framed from {row.frame_origins}" if row.frame_origins else "")


@database_command(platform_group, "list")
def platform_list() -> None:
    """The registered platforms and their deployments."""
    with get_db().session() as session:
        for row in session.scalars(select(LtiRegistration).order_by(LtiRegistration.name)):
            click.echo(f"{row.name}\t{row.issuer}\tclient id {row.client_id}\t{_trust(row)}")
            for deployment in row.deployments:
                click.echo(
                    f"  deployment {deployment.deployment_id} -> course {deployment.course.slug}"
                )


@lti_group.group("deployment", help="Deployments of the tool in a platform.")
def deployment_group() -> None:
    pass


@database_command(deployment_group, "add")
@click.argument("platform")
@click.argument("deployment_id")
@click.option("--course", "course_slug", required=True, help="The course its launches belong to")
def deployment_add(platform: str, deployment_id: str, course_slug: str) -> None:
    """Accept launches of a deployment, for a course."""
    with get_db().session() as session:
        registration = session.scalar(
            select(LtiRegistration).where(LtiRegistration.name == platform)
        )
        if registration is None:
            raise NotFound(f"no platform named {platform!r} (see `grade-server lti platform list`)")
        course = session.scalar(select(Course).where(Course.slug == course_slug))
        if course is None:
            raise NotFound(f"no course {course_slug!r}")
        taken = session.scalar(
            select(LtiDeployment).where(
                LtiDeployment.registration_id == registration.id,
                LtiDeployment.deployment_id == deployment_id,
            )
        )
        if taken is not None:
            raise AlreadyExists(f"deployment {deployment_id!r} of {platform} is registered already")
        session.add(
            LtiDeployment(
                registration_id=registration.id, deployment_id=deployment_id, course_id=course.id
            )
        )
        session.commit()
    click.echo(f"deployment {deployment_id} of {platform} -> course {course_slug}")


@database_command(lti_group, "passback")
@click.option("--loop", is_flag=True, help="Keep going, every --interval seconds")
@click.option("--interval", default=1.0, show_default=True, type=float)
def passback_command(loop: bool, interval: float) -> None:
    """Send the grades that changed to the LMSs (once, or --loop)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    while True:
        outcomes = passback.run_for_app(app)
        for outcome in outcomes:
            if outcome.sent is not None:
                click.echo(f"student {outcome.student_pk}: sent {outcome.sent}")
            elif outcome.error:
                click.echo(f"student {outcome.student_pk}: {outcome.error}", err=True)
        if not loop:
            with get_db().session() as session:
                waiting = session.scalar(
                    select(func.count())
                    .select_from(LtiPassback)
                    .where(LtiPassback.status == "error")
                )
            click.echo(
                f"{sum(o.sent is not None for o in outcomes)} sent, {waiting} waiting to retry"
            )
            return
        time.sleep(interval)


@database_command(lti_group, "roster-sync")
@click.argument("course_slug")
def roster_sync(course_slug: str) -> None:
    """Enrol a course's learners from the LMS (NRPS)."""
    with get_db().session() as session:
        course = session.scalar(select(Course).where(Course.slug == course_slug))
        if course is None:
            raise NotFound(f"no course {course_slug!r}")
        done = roster.sync_course(session, course, str(current_app.config["SECRET_KEY"]))
    click.echo(f"{done.members} learners from {done.contexts} LMS courses, {done.enrolled} new")
