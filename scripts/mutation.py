"""Mutation testing of the pure logic, scored module by module (run by ``scripts/mutation``).

mutmut makes one-node changes inside the functions of the modules ``[tool.mutmut]`` names in
``only_mutate`` (a comparison flipped, ``and`` for ``or``, ``True`` for ``False``, a number
off by one, a string or an argument changed or dropped) and runs, for each, the fast tests
that reach the mutated function (``tests/unit``); a change no test notices survives.

This runs mutmut on a copy of the work tree in a scratch folder, so nothing is written here
and nobody's ruff or pytest run sees the mutants. It then prints each module's score, caught /
(mutants - equivalent), against the target, and every survivor with its change. A survivor
in ``[tool.mutmut.equivalent]`` behaves exactly as the original does and is left out of the
score; an entry that no longer names that surviving change is reported, so the list stays
true as the code moves. Only the functions ``[tool.mutmut.scored_functions]`` lists are
scored in a module that also holds checks (those need an engine: tests/engine).

Exit status: 0 every module at or above the target; 1 a module below it or a stale
equivalent entry; 2 mutmut could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What the tests need besides the mutated packages; mutmut copies the rest into mutants/.
COPIED = ("pyproject.toml", "grader", "checks", "submissions", "tests", "devlab")
CAUGHT = frozenset({"killed", "timeout", "caught by type check", "segfault"})
MISSED = frozenset({"survived", "no tests", "suspicious"})
DIFF_HELPER = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in json.load(sys.stdin)}))
"""


@dataclass(frozen=True)
class Config:
    modules: tuple[str, ...]
    scored_functions: dict[str, list[str]]
    equivalent: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Mutant:
    name: str
    module: str
    function: str
    status: str


def load_config(pyproject: Path) -> Config:
    section = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    modules = tuple(path.removesuffix(".py").replace("/", ".") for path in section["only_mutate"])
    equivalent = section.get("equivalent", {})
    for name, entry in equivalent.items():
        if set(entry) != {"line", "why"} or not all(entry.values()):
            raise SystemExit(f"mutation: [tool.mutmut.equivalent] {name}: needs line and why")
    return Config(modules, section.get("scored_functions", {}), equivalent)


def parse_mutant(name: str, status: str, modules: tuple[str, ...]) -> Mutant | None:
    """``grader.imageref.x__split_tag__mutmut_3`` → module, function ``_split_tag``."""
    module = next((m for m in modules if name.startswith(m + ".x")), None)
    if module is None:
        return None
    mangled = name[len(module) + 2 :].rsplit("__mutmut_", 1)[0]
    # functions are x_<name>; methods xǁ<Class>ǁ<name>
    function = mangled[1:] if mangled.startswith("_") else mangled.strip("ǁ").replace("ǁ", ".")
    return Mutant(name, module, function, status)


def copy_work_tree(dest: Path) -> None:
    """The tracked and untracked (not ignored) files the run needs, as they are now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *COPIED],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:  # not a git clone: copy the folders whole
        for part in COPIED:
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, dest / part)
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a deleted file not yet committed is still listed
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def run_mutmut(work: Path, jobs: int, globs: list[str], log: Path) -> None:
    command = [str(BIN / "mutmut"), "run", "--max-children", str(jobs), *globs]
    print(f"mutation: {' '.join(command[1:])} in {work} (log: {log})", flush=True)
    with log.open("w") as out:
        done = subprocess.run(command, cwd=work, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        print(tail, file=sys.stderr)
        raise SystemExit(f"mutation: mutmut run failed (exit {done.returncode}); log: {log}")


def read_results(work: Path, config: Config) -> list[Mutant]:
    done = subprocess.run(
        [str(BIN / "mutmut"), "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    mutants = []
    for line in done.stdout.splitlines():
        name, colon, status = line.strip().partition(": ")
        mutant = parse_mutant(name, status, config.modules) if colon else None
        if mutant is None:
            continue
        wanted = config.scored_functions.get(mutant.module)
        if wanted is None or mutant.function in wanted:
            mutants.append(mutant)
    return mutants


def changes(work: Path, names: list[str]) -> dict[str, list[str]]:
    """Each mutant's changed lines (``-`` original, ``+`` mutant), from mutmut's diffs."""
    if not names:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", DIFF_HELPER],
        cwd=work,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        diffs: dict[str, str] = json.loads(done.stdout)
    else:  # mutmut's internals moved: ask its command line, one mutant at a time
        diffs = {
            name: subprocess.run(
                [str(BIN / "mutmut"), "show", name],
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            for name in names
        }
    return {
        name: [
            line
            for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        for name, diff in diffs.items()
    }


def mutated_line(changed: list[str]) -> str:
    """The mutant's side of the change, as ``[tool.mutmut.equivalent]`` names it."""
    return " / ".join(line[1:].strip() for line in changed if line.startswith("+")) or "(deleted)"


def report(
    mutants: list[Mutant], config: Config, modules: list[str], work: Path, target: float
) -> int:
    shown = [m for m in mutants if m.status not in CAUGHT]
    changed = changes(work, [m.name for m in shown])
    by_name = {m.name: m for m in mutants}
    stale: list[str] = []
    equivalent: set[str] = set()
    for name, entry in config.equivalent.items():
        mutant = by_name.get(name)
        if mutant is None:
            if any(name.startswith(module + ".x") for module in modules):
                stale.append(f"{name}: no such mutant any more; remove it")
        elif mutant.status in CAUGHT:
            stale.append(f"{name}: now caught ({mutant.status}); remove it")
        elif (line := mutated_line(changed[name])) != entry["line"]:
            stale.append(f"{name}: is now `{line}`, not `{entry['line']}`; judge it again")
        else:
            equivalent.add(name)

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for mutant in mutants:
        kind = (
            "equivalent"
            if mutant.name in equivalent
            else "caught"
            if mutant.status in CAUGHT
            else "missed"
            if mutant.status in MISSED
            else "not run"
        )
        counts[mutant.module][kind] += 1

    below = []
    print()
    print(f"{'module':<46}{'mutants':>8}{'caught':>8}{'equiv.':>8}{'missed':>8}  score")
    for module in modules:
        count = counts[module]
        total = sum(count.values())
        scored = count["caught"] + count["missed"]
        if not scored:
            print(f"{module:<46}{total:>8}  no mutants mutmut can make in its functions")
            continue
        score = 100 * count["caught"] / scored
        mark = "ok" if score >= target else f"below {target:g} %"
        if score < target:
            below.append(module)
        print(
            f"{module:<46}{total:>8}{count['caught']:>8}{count['equivalent']:>8}"
            f"{count['missed']:>8}  {score:5.1f} % {mark}"
            + (f" ({count['not run']} not run)" if count["not run"] else "")
        )

    missed = [m for m in shown if m.name not in equivalent and m.status in MISSED]
    if missed:
        print("\nSurvivors (no test noticed these changes):")
    for mutant in missed:
        print(f"\n  {mutant.name}  [{mutant.function}: {mutant.status}]")
        for line in changed.get(mutant.name, []):
            print(f"    {line}")
    if stale:
        print("\nStale [tool.mutmut.equivalent] entries:")
        for line in stale:
            print(f"  {line}")
    return 1 if below or stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/mutation", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help="only these (grader.imageref or its path)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (2)")
    parser.add_argument("--target", type=float, default=90.0, help="percent caught (90)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch copy (for `mutmut browse` there)"
    )
    args = parser.parse_args(argv)

    os.nice(max(0, 19 - os.nice(0)))  # the machine is shared: lowest priority
    config = load_config(ROOT / "pyproject.toml")
    modules = list(config.modules)
    if args.modules:
        asked = [m.removesuffix(".py").replace("/", ".") for m in args.modules]
        unknown = sorted(set(asked) - set(modules))
        if unknown:
            parser.error(f"not in [tool.mutmut] only_mutate: {', '.join(unknown)}")
        modules = asked
    globs = [f"{module}.*" for module in modules] if args.modules else []

    work = Path(tempfile.mkdtemp(prefix="mutation-"))
    started = time.monotonic()
    try:
        copy_work_tree(work)
        run_mutmut(work, args.jobs, globs, work / "mutmut.log")
        mutants = [m for m in read_results(work, config) if m.module in modules]
        status = report(mutants, config, modules, work, args.target)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        status = 2
    finally:
        minutes = (time.monotonic() - started) / 60
        if args.keep:
            print(f"\nmutation: {minutes:.1f} min; kept {work} (cd there, then mutmut browse)")
        else:
            print(f"\nmutation: {minutes:.1f} min")
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
