"""The workshop: the machinery that makes a lab machine and the servers around it.

A real Docker engine with local stand-ins for the lab's images (``engine``, ``standins``),
a model student who types the lab (``model_student``), hosts in known states (``host``,
``lived_in``), remote lab machines reached over SSH (``remote``), a Podman beside Docker
(``podman``), headless Chromium (``browser``), and on the instructor's side PostgreSQL and
gunicorn, valid reports, seeded classes and a simulated LMS (``server``). ``demo`` is the
README's main job, end to end.

The tests (``tests/``), the benchmarks (``bench/``) and ``scripts/`` use it; no product
package (``grader``, ``checks``, ``submissions``, ``webhook``) imports it (an import
contract in pyproject.toml), and it is not in the wheel.
"""
