"""Benchmarks are their own installed package with their own command; the product runs it, never imports it."""

from __future__ import annotations

import ast
import subprocess
import sys

from dispatch.settings import REPO_ROOT


def test_dispatch_bench_hands_its_arguments_to_the_benchmarks_own_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dispatch", "bench", "response-times", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",  # the installed package, not the checkout on the path
    )
    assert done.returncode == 0, done.stderr
    assert "usage: dispatch-bench response-times" in done.stdout and "--calls" in done.stdout


def test_an_unknown_benchmark_is_refused_by_name() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "no-such-bench"], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and "no-such-bench" in done.stderr


def test_no_module_of_the_product_imports_the_benchmarks() -> None:
    offenders = []
    for path in sorted((REPO_ROOT / "dispatch").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n == "benchmarks" or n.startswith("benchmarks.")]
    assert offenders == []
