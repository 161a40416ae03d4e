# The two commands of the README. Each installs what it needs first.
.PHONY: run test check demo-data

run:
	scripts/setup
	.venv/bin/dispatch serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test:
	scripts/setup --test
	scripts/check

demo-data:
	scripts/setup
	.venv/bin/dispatch demo-data
