"""Compiles the message catalogs when the package is built or installed (issue 24).

Everything else is in pyproject.toml. The ``.po`` files under ``grader/locale/`` are the
source; their ``.mo`` are build outputs, never committed: written beside the package in
the build (a wheel), or into the source tree for an editable install (``pip install -e``),
which serves the package from there.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: grade's catalogs and the server's (webhook/i18n.py).
LOCALES = (Path("grader") / "locale", Path("webhook") / "locale")


class BuildPyWithCatalogs(build_py):
    """``build_py``, then each ``{grader,webhook}/locale/<lang>/LC_MESSAGES/*.po`` compiled."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(p for locale in LOCALES for p in locale.glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            target = mo if self.editable_mode else Path(self.build_lib) / mo
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parts[-3])
            with target.open("wb") as compiled:
                write_mo(compiled, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildPyWithCatalogs})
