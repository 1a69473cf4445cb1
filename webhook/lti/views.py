"""The LTI blueprint: OIDC login, launch, JWKS, deep linking, launch pages and refusals.

Every launch is validated by pylti1p3 in full (state, the id_token's format, nonce,
registration and audience, signature against the platform's JWKS, expiry, deployment,
message), with nonces and state in the database (:mod:`webhook.lti.launch_cache`), so
any worker can take any step. A launch that fails is refused with a page that says why
and what the instructor can do (:func:`refusal`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException, OIDCException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webhook.access import require_course
from webhook.auth import current_instructor, login_session
from webhook.board.own import ago, own_progress
from webhook.database import get_db, get_session
from webhook.i18n import N_
from webhook.i18n import reason as translated
from webhook.lti import deeplink, framing, keys, passback, status
from webhook.lti.grades import assignment_grade
from webhook.lti.launch_cache import DatabaseLaunchStorage, DatabaseSessionService
from webhook.lti.models import LtiContext, LtiDeployment, LtiRegistration
from webhook.lti.people import Person, bind_instructor, bind_student, launch_token
from webhook.lti.roles import CourseRole
from webhook.lti.toolconf import DatabaseToolConf
from webhook.storage.assignments import newest_rubric
from webhook.storage.models import Course, utcnow
from webhook.storage.tokens import hash_token

log = logging.getLogger(__name__)
T = TypeVar("T")

bp = Blueprint("lti", __name__, url_prefix="/lti", template_folder="templates")

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
#: ``{frame_ancestors}``: the registered platforms' origins (:mod:`webhook.lti.framing`).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "form-action *; frame-ancestors {frame_ancestors}; base-uri 'none'"
)

#: What pylti1p3's refusals mean, said for the instructor who can act on them.
REASONS = (
    ("signature has expired", "expired",
     N_("The launch has expired: open the lab from the LMS again.")),
    ("signature verification failed", "bad_signature",
     N_("The launch's signature does not match the platform's keys (its JWKS URL): the launch "
     "was not signed by the registered platform.")),
    ("unable to find public key", "bad_signature",
     N_("The launch was signed with a key the platform's JWKS does not list.")),
    ("invalid nonce", "replayed",
     N_("This launch was already used (its nonce is spent), or it is unknown: open the lab "
     "from the LMS again.")),
    ("registration not found", "unknown_platform",
     N_("No platform is registered with this issuer and client id (the token's audience): "
     "register it with `grade-server lti platform add`.")),
    ("could not find registration", "unknown_platform",
     N_("No platform is registered with this issuer and client id: register it with "
     "`grade-server lti platform add`.")),
    ("client id not registered", "unknown_platform",
     N_("The launch's audience is not the client id registered for this platform.")),
    ("unable to find deployment", "unknown_deployment",
     N_("This deployment of the tool is not registered: add it with "
     "`grade-server lti deployment add`.")),
    ("state not found", "no_state",
     N_("The launch does not belong to a login this browser started (blocked cookies, or a "
     "copied link): open the lab from the LMS again, in a new window if it is in a frame.")),
    ("missing state", "no_state", N_("The launch has no state: it did not come from a login.")),
    ("cookie session-id", "no_state",
     N_("The browser did not send the cookie of the login it started (blocked cookies, or a "
     "copied link): open the lab from the LMS again, in a new window if it is in a frame.")),
    ("missing id_token", "malformed", N_("The launch has no id_token.")),
    ("jwt must contain 3 parts", "malformed", N_("The launch's id_token is not a JWT.")),
    ("can't be decoded", "malformed", N_("The launch's id_token cannot be read.")),
)  # fmt: skip


def init_app(app: Flask) -> None:
    """Start the passback worker in each serving process (``LTI_PASSBACK_WORKER``)."""
    app.config.setdefault("LTI_PASSBACK_WORKER", not app.testing)
    app.config.setdefault("LTI_PASSBACK_INTERVAL", 1.0)


@bp.record_once
def _setup(state: Any) -> None:
    init_app(state.app)


_WORKERS: dict[tuple[int, int], passback.Worker] = {}
_WORKERS_LOCK = threading.Lock()


@bp.before_app_request
def _start_worker() -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("LTI_PASSBACK_WORKER"):
        return
    key = (id(app), os.getpid())  # gunicorn forks: one worker thread per process
    worker = _WORKERS.get(key)
    if worker is None:
        with _WORKERS_LOCK:
            worker = _WORKERS.get(key)
            if worker is None:
                worker = passback.Worker(app, float(app.config["LTI_PASSBACK_INTERVAL"]))
                _WORKERS[key] = worker
                worker.start()
    worker.requests.begin()
    g.lti_request_counted = worker


@bp.teardown_app_request
def _request_done(_exc: BaseException | None = None) -> None:
    worker = g.pop("lti_request_counted", None)
    if worker is not None:
        worker.requests.end()


def wake_worker() -> None:
    worker = _WORKERS.get((id(current_app._get_current_object()), os.getpid()))  # type: ignore[attr-defined]
    if worker is not None:
        worker.wake.set()


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    """``lms_status(course)`` for the gradebook's LMS column (empty for a course no LMS
    launched into)."""
    return {"lms_status": lambda course: status.lms_status(get_session(), course)}


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        CONTENT_SECURITY_POLICY.format(frame_ancestors=framing.frame_ancestors(get_session())),
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _tool_conf() -> DatabaseToolConf:
    return DatabaseToolConf(get_session())


def _storage() -> DatabaseLaunchStorage:
    return DatabaseLaunchStorage(get_db().engine)


@bp.route("/jwks.json")
def jwks() -> Any:
    """The tool's public keys (platforms verify its signatures with them)."""
    return jsonify(keys.public_jwks(get_session()))


@bp.route("/login", methods=("GET", "POST"))
def login() -> Any:
    """OIDC third-party initiated login: back to the platform with state and a nonce."""
    flask_request = FlaskRequest()
    storage = _storage()
    try:
        oidc = FlaskOIDCLogin(
            flask_request,
            _tool_conf(),
            session_service=DatabaseSessionService(flask_request, storage),
            launch_data_storage=storage,
        )
        return oidc.redirect(url_for("lti.launch", _external=True))
    except (OIDCException, LtiException) as exc:
        return refusal(str(exc))


@bp.route("/launch", methods=("POST",))
def launch() -> Any:
    """A resource link or deep linking launch, validated in full, then its page."""
    flask_request = FlaskRequest()
    storage = _storage()
    try:
        message = FlaskMessageLaunch(
            flask_request,
            _tool_conf(),
            session_service=DatabaseSessionService(flask_request, storage),
            launch_data_storage=storage,
        )
        claims = message.get_launch_data()
    except LtiException as exc:
        return refusal(str(exc))
    session = get_session()
    context = _bound(session, lambda: _context(session, claims))
    if context is None:
        return refusal("unable to find deployment")
    person = Person.from_launch(claims)
    role = person.course_role
    if message.is_deep_link_launch():
        if role is not CourseRole.INSTRUCTOR:
            return refusal("", reason=N_("Only an instructor can add the lab to a course."))
        return _deep_link_page(message, context, storage)
    if not message.is_resource_launch():
        return refusal("", reason=N_("This kind of LTI message is not supported."))
    course = session.get(Course, context.course_id)
    assert course is not None
    registration = context.deployment.registration
    if role is CourseRole.NONE:
        return refusal(
            "",
            kind="no_course_role",
            reason=N_(
                "Your roles in this LMS course are neither a learner's nor an instructor's "
                "(institution and system roles grant nothing here): ask the course's instructor."
            ),
        )
    if role is CourseRole.INSTRUCTOR:
        instructor = _bound(
            session, lambda: bind_instructor(session, context, person, registration.name)
        )
        login_session(instructor)
        linked = deeplink.named(session, course, claims)  # the link's assignment, if it names one
        if linked is not None:
            return redirect(url_for("gradebook.assignment", course=course.slug, slug=linked.slug))
        return redirect(url_for("gradebook.overview", course=course.slug))
    secret = str(current_app.config["SECRET_KEY"])
    student = _bound(session, lambda: bind_student(session, context, person, secret))
    token = launch_token(secret, student, person.sub)
    shown = token if hash_token(token) == student.token_hash else None
    wake_worker()
    assignment = deeplink.launched(session, course, claims)
    if assignment is None:
        return refusal("", reason=N_("This course has no assignment yet: ask its instructor."))
    return render_template(
        "lti/student.html",
        course=course,
        student=student,
        assignment=assignment,
        flag=assignment.slug if deeplink.needs_flag(session, assignment) else None,
        max_score=newest_rubric(session, assignment.id).max_score,
        grade=assignment_grade(session, student, assignment),
        progress=own_progress(session, assignment.id, student.id),  # the launch's student only
        now=utcnow(),
        ago=ago,
        token=shown,
        server=current_app.config.get("PUBLIC_URL") or request.url_root.rstrip("/"),
    )


def _bound(session: Session, bind: Callable[[], T]) -> T:
    """``bind()`` committed; once more if a simultaneous first launch of the same user (a
    double click) bound them first."""
    try:
        found = bind()
        session.commit()
    except IntegrityError:
        session.rollback()
        found = bind()
        session.commit()
    return found


def _context(session: Session, claims: Mapping[str, Any]) -> LtiContext | None:
    """The launch's context, made or brought up to date with its service endpoints."""
    deployment = session.scalar(
        select(LtiDeployment)
        .join(LtiRegistration, LtiRegistration.id == LtiDeployment.registration_id)
        .where(
            LtiDeployment.deployment_id == str(claims.get(DEPLOYMENT)),
            LtiRegistration.issuer == str(claims.get("iss")),
            LtiRegistration.client_id == _audience(claims),
        )
    )
    if deployment is None:
        return None
    context_claim = claims.get(CONTEXT) or {}
    context_id = str(context_claim.get("id") or "")
    context = session.scalar(
        select(LtiContext).where(
            LtiContext.deployment_pk == deployment.id, LtiContext.context_id == context_id
        )
    )
    if context is None:
        context = LtiContext(
            deployment_pk=deployment.id, context_id=context_id, course_id=deployment.course_id
        )
        session.add(context)
    context.title = str(context_claim.get("title") or "")[:255]
    ags = claims.get(AGS) or {}
    if ags.get("lineitems"):
        context.lineitems_url = str(ags["lineitems"])
        context.ags_scopes = " ".join(str(scope) for scope in ags.get("scope") or ())
    nrps = claims.get(NRPS) or {}
    if nrps.get("context_memberships_url"):
        context.memberships_url = str(nrps["context_memberships_url"])
    session.flush()
    return context


def _audience(claims: Mapping[str, Any]) -> str:
    aud = claims.get("aud")
    return str(aud[0] if isinstance(aud, list) and aud else aud)


def _deep_link_page(
    message: FlaskMessageLaunch, context: LtiContext, storage: DatabaseLaunchStorage
) -> Any:
    session = get_session()
    course = session.get(Course, context.course_id)
    assert course is not None
    launch_id = message.get_launch_id()
    secret = str(current_app.config["SECRET_KEY"])
    return render_template(
        "lti/deep_link.html",
        launch_id=launch_id,
        token=deeplink.form_token(secret, launch_id, storage.get_session_id() or ""),
        choices=deeplink.choices(session, course),
        title=context.title,
    )


@bp.route("/deep-link/<launch_id>", methods=("POST",))
def deep_link(launch_id: str) -> Any:
    """The instructor picked a lab (and an assignment of it, or a new one): answer the
    platform with a resource link for that assignment, whose line item (its column, points
    and tag) the platform creates."""
    flask_request = FlaskRequest()
    storage = _storage()
    try:
        message = FlaskMessageLaunch.from_cache(
            launch_id,
            flask_request,
            _tool_conf(),
            session_service=DatabaseSessionService(flask_request, storage),
            launch_data_storage=storage,
        )
    except LtiException as exc:
        return refusal(str(exc))
    sent = request.form.get(deeplink.TOKEN_FIELD, "")
    secret = str(current_app.config["SECRET_KEY"])
    if not deeplink.token_matches(secret, launch_id, storage.get_session_id() or "", sent):
        return refusal(
            "",
            kind="bad_form_token",
            reason="The form was not this launch's page (its token is missing or another's): "
            "open the lab's deep linking from the LMS again.",
        )
    if not message.is_deep_link_launch():
        abort(400)
    session = get_session()
    context = _context(session, message.get_launch_data())
    if context is None:
        return refusal("unable to find deployment")
    course = session.get(Course, context.course_id)
    assert course is not None
    try:
        assignment = deeplink.linked(
            session,
            course,
            request.form.get("lab", ""),
            request.form.get("assignment") or None,
            who=f"lti:{context.deployment.registration.name}",
        )
    except deeplink.BadChoice as exc:
        session.rollback()
        return Response(f"{exc}\n", status=400, mimetype="text/plain")
    session.commit()
    link = deeplink.resource(session, assignment, url_for("lti.launch", _external=True))
    html = message.get_deep_link().output_response_form([link])
    return Response(html, mimetype="text/html")


def refusal(said: str, *, reason: str | None = None, kind: str = "refused") -> Any:
    """A refused launch: a page saying why (403), and the reason in a header for tools."""
    if reason is None:
        lowered = said.lower()
        for needle, found_kind, sentence in REASONS:
            if needle in lowered:
                kind, reason = found_kind, sentence
                break
        else:
            reason = N_("The launch was refused: {said}").format(said=said)
    log.info("LTI launch refused (%s): %s", kind, said)
    response = Response(
        render_template("lti/refused.html", reason=translated(reason), kind=kind, detail=said),
        status=403,
        mimetype="text/html",
    )
    response.headers["X-LTI-Refused"] = kind
    return response


@bp.route("/config.json")
def canvas_config() -> Any:
    """Canvas's developer key JSON ("Enter URL"): the tool's URLs, scopes and placements."""
    launch_url = url_for("lti.launch", _external=True)
    document = {
        "title": "Docker lab grader",
        "description": "Grades the Docker for beginners lab; grades return by themselves.",
        "oidc_initiation_url": url_for("lti.login", _external=True),
        "target_link_uri": launch_url,
        "public_jwk_url": url_for("lti.jwks", _external=True),
        "scopes": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        ],
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {"placement": "link_selection", "message_type": "LtiDeepLinkingRequest",
                         "target_link_uri": launch_url},
                        {"placement": "assignment_selection",
                         "message_type": "LtiDeepLinkingRequest", "target_link_uri": launch_url},
                        {"placement": "course_navigation", "message_type": "LtiResourceLinkRequest",
                         "target_link_uri": launch_url},
                    ]
                },
            }
        ],
        "custom_fields": {},
    }  # fmt: skip
    return Response(json.dumps(document, indent=2), mimetype="application/json")


@bp.route("/roster/<course>", methods=("POST",))
def roster_sync(course: str) -> Any:
    """The gradebook's "Sync roster from the LMS" button (an instructor's session)."""
    from webhook.gradebook import csrf
    from webhook.lti import roster

    if current_instructor() is None:
        return redirect(url_for("gradebook.login"))
    csrf.protect()
    session = get_session()
    found = require_course(course)  # a course this instructor teaches, else 404
    roster.sync_course(session, found, str(current_app.config["SECRET_KEY"]))
    return redirect(url_for("gradebook.overview", course=found.slug))
