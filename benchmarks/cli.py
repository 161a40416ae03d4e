"""`dispatch-bench`: the benchmarks' own command (the product never imports benchmarks; `dispatch bench` runs this in
a subprocess). Each benchmark keeps its own argparse options: everything after its name is handed to it."""

from __future__ import annotations

import importlib

import typer

BENCHMARKS = {
    "response-times": "simulated weeks on the real service: production vs the bound vs broadcast",
    "intake": "HTTP load on a real server, SQLite and PostGIS",
    "matching": "index vs numpy brute force vs PostGIS KNN",
    "city-scale": "memory and matching latency with 1M vanguards",
}

app = typer.Typer(help="Vanguard Dispatch benchmarks (results under benchmarks/results/).", no_args_is_help=True)
_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def _register(name: str, help_text: str) -> None:
    @app.command(name, help=f"{help_text} (options: `dispatch-bench {name} --help`)", context_settings=_PASS_THROUGH)
    def command(ctx: typer.Context) -> None:
        module = importlib.import_module(f"benchmarks.{name.replace('-', '_')}")
        raise typer.Exit(code=int(module.main(list(ctx.args)) or 0))


for _name, _help in BENCHMARKS.items():
    _register(_name, _help)
