# bianmin-bot — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
NLU_VENV := .venv-nlu
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false

.PHONY: run test lint bench bench-pipelines train install nlu-venv browser clean

run: install nlu-venv ## the bot on localhost with embedded defaults (NLU model trained if missing)
	$(BIN)/bot serve

test: install nlu-venv browser ## everything: lint, then all tests against real services
	@scripts/services.sh
	$(BIN)/ruff check bot integrations tests bench
	$(BIN)/mypy
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check bot integrations tests bench
	$(BIN)/mypy

bench: install nlu-venv ## speed, memory and accuracy figures (NLU, then /wechat end to end)
	@scripts/services.sh
	$(BIN)/python -m bench.nlu
	$(BIN)/python -m bench.understanding
	$(BIN)/python -m bench.wechat
	$(BIN)/python -m bench.cases
	$(BIN)/python -m bench.case_search
	$(BIN)/python -m bench.bookings
	$(BIN)/python -m bench.notices
	$(BIN)/python -m bench.console
	$(BIN)/python -m bench.media
	$(BIN)/python -m bench.photos
	$(BIN)/python -m bench.logins

bench-pipelines: install nlu-venv ## the same figures for every pipeline in bench/pipelines/
	$(BIN)/python -m bench.nlu --pipelines

train: install nlu-venv
	$(BIN)/bot train

# Debian's Chromium for the simulator's browser test (and a CJK font for its screenshots).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else echo "chromium is not installed: the browser test will be skipped"; fi; }

install: $(VENV)/.installed
nlu-venv: $(NLU_VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Rasa in its own Python 3.10 environment: the pyproject's nlu-service group, exact versions
# from nlu_service/constraints.txt.
$(NLU_VENV)/.installed: pyproject.toml nlu_service/constraints.txt
	$$(scripts/find-python310) -m venv $(NLU_VENV)
	$(NLU_VENV)/bin/pip install -q --upgrade pip
	$(NLU_VENV)/bin/pip install -q --group nlu-service -c nlu_service/constraints.txt
	touch $@

clean:
	rm -rf $(VENV) $(NLU_VENV) .nlu models
