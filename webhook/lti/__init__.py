"""LTI 1.3 Advantage: the grading server as a tool in Canvas, Moodle and other LMSs.

:func:`init_app` registers the feature: its routes, ``grade-server lti``, and its passback
as a listener of :mod:`webhook.grade_events` (:func:`webhook.lti.passback.register`). The
package itself is kept free of module-level imports, so that importing one LTI module
costs no other. The LTI tables are declared in :mod:`webhook.lti.models` on storage's
``Base`` (storage's models know no feature); the migrations' ``env.py`` imports them
beside storage's. ``docs/lti.md`` is the instructor's manual.

* :mod:`webhook.lti.models`: registrations, deployments, contexts, members, line items,
  the shared launch cache and the passback outbox;
* :mod:`webhook.lti.keys`: the tool's RSA keys and its public JWKS;
* :mod:`webhook.lti.toolconf` / :mod:`webhook.lti.launch_cache`: pylti1p3's tool
  configuration and launch storage, read from the database;
* :mod:`webhook.lti.views`: the blueprint (OIDC login, launch, JWKS, deep linking,
  launch pages and refusals, the roster button);
* :mod:`webhook.lti.people`: who a launch (or an NRPS member) is on the roster;
* :mod:`webhook.lti.grades`: one student's course grade, as the export decides it;
* :mod:`webhook.lti.passback`: the durable outbox that sends grades through AGS, and
  :mod:`webhook.lti.services`, its token cache and time limits;
* :mod:`webhook.lti.status`: the gradebook's LMS column;
* :mod:`webhook.lti.roster`: NRPS roster sync;
* :mod:`webhook.lti.cli`: ``grade-server lti``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """The launch routes (OIDC login, launch, JWKS, deep linking), ``grade-server lti``, and
    the passback told of every grade that may have changed."""
    from webhook.lti import passback
    from webhook.lti.cli import lti_group
    from webhook.lti.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(lti_group)
    passback.register(app)
