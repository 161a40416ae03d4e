from benchmarks.cli import app

app(prog_name="dispatch-bench")
