# lambdalens — every target creates .venv and installs what it needs by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv lint test demo bench opensearch synth clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "lambdalens needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,infra]'
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check functions infra tests
	$(BIN)/ruff format --check functions infra tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/lambdalens demo $(DEMO_ARGS)

# The parser against its decode floor, then the handler end to end into a real local OpenSearch
# node against the bulk floor (Java 17+). E.g. make bench BENCH_E2E_ARGS="--sweep"
bench: $(STAMP)
	$(BIN)/lambdalens bench $(BENCH_ARGS)
	$(BIN)/lambdalens bench --e2e $(BENCH_E2E_ARGS)

# A real single-node OpenSearch 2.19 on 127.0.0.1:9200 in the foreground (Java 17+, Maven on first use).
opensearch: $(STAMP)
	$(BIN)/lambdalens opensearch $(OPENSEARCH_ARGS)

# The CloudFormation templates in cdk.out/ (cdk-nag AWS Solutions checks included), without AWS
# credentials or Docker; the Lambda asset is built from build/wheelhouse (downloaded once).
# Context overrides: make synth SYNTH_ARGS="-c logGroupPrefixes=/aws/lambda/orders- -c alertEmails=me@example.com"
synth: $(STAMP)
	rm -rf cdk.out
	$(BIN)/python infra/app.py $(SYNTH_ARGS)

clean:
	rm -rf $(VENV) cdk.out .mypy_cache .pytest_cache .ruff_cache
