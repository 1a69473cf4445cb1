"""A platform simulator: what Canvas and Moodle do on the wire, on loopback.

Its protocol side is the third-party ``lti1p3platform`` library (OIDC login initiation,
the signed id_token launch, deep linking claims, the client-credentials token endpoint
and its check of the tool's JWT client assertion against the tool's JWKS, the check of
the access tokens it issued); the endpoints around it (line items, scores, paged
memberships) are small Flask views that record what they receive. Failure injection goes
around the library: :meth:`Simulator.fail_scores` (answer 500, 409, 422, slowly, hang, or
record the score and answer too late) and :meth:`Simulator.stop` / :meth:`Simulator.start`
(not answering at all).

The platform also checks what Moodle and Canvas check of a score: an equal or older
timestamp for the same user and line item is answered 409, as Moodle does (the AGS rule:
a platform does not take a score whose timestamp is not later than the one it holds).
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from jwcrypto.jwk import JWK
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from werkzeug.serving import BaseWSGIServer, make_server

ISSUER = "https://lms.example.edu"
CLIENT_ID = "10000000000001"
DEPLOYMENT_ID = "1:deployment-of-the-lab"
CONTEXT_ID = "course-ctx-101"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
HANG_SECONDS = 4.0  # "hang": longer than the tool's time limit in the tests
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    SCORE_SCOPE,
]


def rsa_pem() -> tuple[str, str]:
    key = JWK.generate(kty="RSA", size=2048)
    private = key.export_to_pem(private_key=True, password=None).decode()
    public = key.export_to_pem(private_key=False).decode()
    return private, public


@dataclass
class User:
    sub: str
    name: str
    email: str
    roles: list[str]
    sourcedid: str = ""


@dataclass
class Score:
    line_item: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class _FlaskRequest(Request):
    def build_metadata(self, request: Any) -> TRequest:
        return {
            "method": request.method,
            "form_data": dict(request.form),
            "get_data": dict(request.args),
            "headers": request.headers,
            "content_type": request.content_type,
            "path": request.path,
            "json": None,
        }


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> Any:
        return redirect(url)


class _Launch(LTIAdvantageMessageLaunchAbstract):
    """lti1p3platform's launch, signed by the simulator (or spoiled, when a test says so)."""

    simulator: Simulator

    def generate_launch_request(self) -> Any:
        spoil = self.simulator.spoil
        if spoil is None:
            return super().generate_launch_request()
        message, state = self.get_launch_data()
        if self._dl is not None:
            message["https://purl.imsglobal.org/spec/lti/claim/message_type"] = (
                "LtiDeepLinkingRequest"
            )
            message.update(self._deep_linking_launch_data or {})
        now = int(time.time())
        message.update(iat=now, exp=now + 300)
        key = self.simulator.private_pem
        spoil(message)
        if message.pop("_rogue_key", False):
            key = rsa_pem()[0]
        kid = self._registration.get_kid() if self._registration else None
        token = Registration.encode_and_sign(message, key, {"kid": kid} if kid else None)
        return {"state": state, "id_token": token}

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> Response:
        self.simulator.launches.append(dict(launch_data))
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(str(launch_data[name]))}">'
            for name in ("id_token", "state")
        )
        page = (
            "<!doctype html><html><body><p>Opening the tool...</p>"
            f'<form id="launch" method="post" action="{html.escape(launch_data["launch_url"])}">'
            f"{fields}</form>"
            '<script>document.getElementById("launch").submit();</script></body></html>'
        )
        return Response(page, mimetype="text/html")


class Simulator:
    """The platform, served on 127.0.0.1 in a thread. ``tool`` is the tool's base URL."""

    def __init__(self, tool: str, *, page_size: int = 50) -> None:
        self.tool = tool.rstrip("/")
        self.private_pem, self.public_pem = rsa_pem()
        self.page_size = page_size
        self.users: dict[str, User] = {}
        self.members: list[User] = []
        self.line_items: list[dict[str, Any]] = []
        self.scores: list[Score] = []  # accepted (answered 2xx)
        self.received: list[Score] = []  # every score request that reached the handler
        self.token_requests = 0
        self.token_lifetime = 3600  # the expires_in its tokens are issued with
        self.launches: list[dict[str, Any]] = []
        self.score_modes: deque[str] = deque()
        self.spoil: Any = None  # a function that spoils the next launch's claims
        self.deep_link_responses: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.app = self._make_app()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- serving ---

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Simulator:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Not answering at all: the port refuses connections until :meth:`start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_scores(self, *modes: str) -> None:
        """The next score requests answer so: ``500``, ``409``, ``422``, ``slow`` (2 s,
        then accepted), ``hang`` (no answer for :data:`HANG_SECONDS`, then 504), or
        ``late`` (recorded as usual, but answered after :data:`HANG_SECONDS`: the tool's
        request times out although the LMS took the score)."""
        self.score_modes.extend(modes)

    # --- what the tool registers ---

    def registration(self) -> Registration:
        return (
            Registration()
            .set_iss(ISSUER)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_launch_url(f"{self.tool}/lti/launch")
            .set_deeplink_launch_url(f"{self.tool}/lti/launch")
            .set_oidc_login_url(f"{self.tool}/lti/login")
            .set_tool_key_set_url(f"{self.tool}/lti/jwks.json")
            .set_platform_public_key(self.public_pem)
            .set_platform_private_key(self.private_pem)
        )

    def platform_add_args(self, name: str = "sim") -> list[str]:
        return [
            "lti", "platform", "add", name,
            "--issuer", ISSUER,
            "--client-id", CLIENT_ID,
            "--auth-login-url", f"{self.url}/auth",
            "--auth-token-url", f"{self.url}/token",
            "--key-set-url", f"{self.url}/jwks",
        ]  # fmt: skip

    def add_user(self, sub: str, *, role: str = ROLE_LEARNER, **fields: str) -> User:
        user = User(
            sub=sub,
            name=fields.get("name", sub.title()),
            email=fields.get("email", f"{sub}@lms.example.edu"),
            roles=[role],
            sourcedid=fields.get("sourcedid", ""),
        )
        self.users[sub] = user
        return user

    def launch_url(self, sub: str, *, kind: str = "resource", link: int | None = None) -> str:
        """Where ``sub`` clicks the tool: the course's link, or the ``link``-th one a deep
        linking made (its resource link id and custom parameters in the launch)."""
        query = {"user": sub, "kind": kind, **({"link": str(link)} if link is not None else {})}
        return f"{self.url}/launch?{urlencode(query)}"

    def links(self) -> list[dict[str, Any]]:
        """The resource links deep linking made, in order."""
        return [item for answer in self.deep_link_responses for item in answer["content_items"]]

    # --- the app ---

    def _conf(self) -> _Conf:
        return _Conf(registration=self.registration())

    def _make_app(self) -> Flask:
        app = Flask("lti-platform-simulator")
        sim = self

        @app.get("/_recorded")
        def recorded() -> Any:
            """What the platform saw, for a simulator served in another process (bench)."""
            with sim.lock:
                return jsonify(
                    scores=len(sim.scores),
                    received=len(sim.received),
                    users=len({score.body["userId"] for score in sim.scores}),
                    token_requests=sim.token_requests,
                    line_items=len(sim.line_items),
                )

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify({"keys": sim.registration().get_jwks()})

        @app.get("/launch")
        def start_launch() -> Any:
            """The user clicks the tool's link in a course: third-party initiated login."""
            login = _Login(_FlaskRequest(request), sim._conf())
            hint = json.dumps(
                {
                    "user": request.args["user"],
                    "kind": request.args["kind"],
                    "link": request.args.get("link"),
                }
            )
            login.set_lti_message_hint(hint=hint)
            return login.initiate_login(request.args["user"])

        @app.get("/auth")
        def authorize() -> Any:
            """The tool's authentication request: answer with the signed launch (form_post)."""
            hint = json.loads(request.args.get("lti_message_hint", "{}"))
            user = sim.users.get(request.args.get("login_hint", ""))
            if user is None or hint.get("user") != user.sub:
                return Response("unknown user", status=400)
            launch = _Launch(_FlaskRequest(request), sim._conf())
            launch.simulator = sim
            launch.set_user_data(user.sub, user.roles, user.name, user.email)
            launch.set_launch_context_claim(CONTEXT_ID, context_title="Docker 101 (LMS)")
            extra: dict[str, Any] = {}
            if hint.get("link") is not None:  # a link deep linking made: its id and custom
                number = int(hint["link"])
                item = sim.links()[number]
                launch.set_resource_link_claim(f"link-{number + 1}", title=item.get("title"))
                extra[CUSTOM] = dict(item.get("custom") or {})
            else:
                launch.set_resource_link_claim("resource-link-1", title="Docker lab")
            if user.sourcedid:
                extra["https://purl.imsglobal.org/spec/lti/claim/lis"] = {
                    "person_sourcedid": user.sourcedid
                }
            launch.set_extra_claims(extra)
            launch.set_ags(f"{sim.url}/lineitems")
            launch.set_extra_claims(
                {
                    "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                        "scope": AGS_SCOPES,
                        "lineitems": f"{sim.url}/lineitems",
                    }
                }
            )
            launch.set_nrps(f"{sim.url}/memberships")
            if hint.get("kind") == "deeplink":
                launch.set_dl(f"{sim.url}/deep-link-return", title="Docker lab")
            return launch.lti_launch()

        @app.post("/deep-link-return")
        def deep_link_return() -> Any:
            items = sim._conf().validate_deeplinking_resp(dict(request.form))
            sim.deep_link_responses.append({"content_items": items})
            for item in items:
                line_item = item.get("lineItem")
                if line_item:
                    sim._create_line_item(dict(line_item))
            return Response("<p>The lab was added.</p>", mimetype="text/html")

        @app.post("/token")
        def token() -> Any:
            with sim.lock:
                sim.token_requests += 1
            conf = sim._conf()
            conf.get_registration()
            try:
                answer = dict(conf.get_access_token(dict(request.form)))
                answer["expires_in"] = sim.token_lifetime
                return jsonify(answer)
            except Exception as exc:
                return jsonify(error="invalid_client", error_description=str(exc)), 401

        def authorized(scopes: list[str]) -> bool:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return False
            conf = sim._conf()
            conf.get_registration()
            try:
                return conf.validate_token(header[7:], allowed_scopes=scopes)
            except Exception:
                return False

        @app.get("/lineitems")
        def line_items() -> Any:
            if not authorized(AGS_SCOPES):
                return Response(status=401)
            found = list(sim.line_items)
            return Response(
                json.dumps(found), mimetype="application/vnd.ims.lis.v2.lineitemcontainer+json"
            )

        @app.post("/lineitems")
        def create_line_item() -> Any:
            if not authorized(AGS_SCOPES):
                return Response(status=401)
            item = sim._create_line_item(json.loads(request.data))
            return Response(json.dumps(item), mimetype="application/vnd.ims.lis.v2.lineitem+json")

        @app.post("/lineitems/<int:number>/scores")
        def scores(number: int) -> Any:
            if not authorized([SCORE_SCOPE]):
                return Response(status=401)
            body = json.loads(request.data)
            url = f"{sim.url}/lineitems/{number}"
            mode = ""
            with sim.lock:
                if sim.score_modes:
                    mode = sim.score_modes.popleft()
                sim.received.append(Score(url, body))
            if mode == "hang":
                time.sleep(HANG_SECONDS)
                return Response(status=504)
            if mode == "slow":
                time.sleep(2)
            elif mode in ("500", "409", "422"):
                return jsonify(error=f"told to answer {mode}"), int(mode)
            with sim.lock:
                earlier = [
                    s
                    for s in sim.scores
                    if s.line_item == url and s.body["userId"] == body["userId"]
                ]
                if earlier and _when(body["timestamp"]) <= _when(earlier[-1].body["timestamp"]):
                    return jsonify(error="timestamp not later than the last score's"), 409
                sim.scores.append(Score(url, body))
            if mode == "late":
                time.sleep(HANG_SECONDS)
            return Response(status=204)

        @app.get("/memberships")
        def memberships() -> Any:
            if not authorized(
                ["https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"]
            ):
                return Response(status=401)
            page = int(request.args.get("page", "1"))
            start = (page - 1) * sim.page_size
            chunk = sim.members[start : start + sim.page_size]
            body = {
                "id": f"{sim.url}/memberships",
                "context": {"id": CONTEXT_ID},
                "members": [
                    {
                        "user_id": m.sub,
                        "name": m.name,
                        "email": m.email,
                        "roles": m.roles,
                        "status": "Active",
                        **({"lis_person_sourcedid": m.sourcedid} if m.sourcedid else {}),
                    }
                    for m in chunk
                ],
            }
            response = Response(
                json.dumps(body),
                mimetype="application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
            )
            if start + sim.page_size < len(sim.members):
                response.headers["Link"] = f'<{sim.url}/memberships?page={page + 1}>; rel="next"'
            return response

        return app

    def _create_line_item(self, item: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            item["id"] = f"{self.url}/lineitems/{len(self.line_items) + 1}"
            self.line_items.append(item)
        return item


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)
