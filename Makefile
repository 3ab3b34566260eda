# make install: build tools/venv (idempotent).  make demo: mini recipe end to end.  make test: all tests.
SHELL := /bin/bash
VENV := tools/venv
STAMP := $(VENV)/.installed-test
PYTEST_ARGS ?=

.PHONY: install demo test test-unit test-recipes bench clean

install: $(STAMP)

$(STAMP): setup.py tools/install.sh
	tools/install.sh test

demo: install
	cd egs/mini_synth/asr1 && ./run.sh --corpus_size ci

test: install
	$(VENV)/bin/python -m pytest -q test/unit test/recipes $(PYTEST_ARGS)

test-unit: install
	$(VENV)/bin/python -m pytest -q test/unit $(PYTEST_ARGS)

test-recipes: install
	$(VENV)/bin/python -m pytest -q test/recipes $(PYTEST_ARGS)

clean:
	rm -rf egs/*/*/data egs/*/*/dump egs/*/*/exp
