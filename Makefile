# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQS := requirements/base.txt requirements/nodeps.txt pyproject.toml

.PHONY: demo test test-slow lint venv bench clean docs

venv: $(STAMP)

$(STAMP): $(REQS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -r requirements/base.txt
	$(PY) -m pip install --quiet --no-deps -r requirements/nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@# `import escnn` works in this environment with no call (orbitspace.interop.enable_escnn)
	$(PY) -m orbitspace.interop._escnn_compat "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/orbitspace demo $(DEMO_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# two test workers on two cores: one BLAS / torch thread each, or they oversubscribe.
# ORBITSPACE_TEST_INSTALL=1: tests/test_install.py builds the wheel and installs it into a
# fresh venv (about 1.5 min with a warm pip cache).
test: lint docs
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 ORBITSPACE_TEST_INSTALL=1 \
		$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

# the documentation site (site/); --strict: a broken reference or docstring fails the build
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# the full-size studies (minutes each; not part of make test)
test-slow: $(STAMP)
	$(PY) -m pytest -m slow -p no:cacheprovider tests/test_studies_full.py $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build site src/*.egg-info
