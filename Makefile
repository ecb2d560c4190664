# The AMNL book: two commands do all set-up on a fresh machine.
#   make book   -> builds the book into _build/html (creates .venv and installs the pins first)
#   make test   -> unit tests, nbval over chapters/, the -W book build and the browser tests
# Data: set CMAPSS_DIR to a folder with the NASA files; unset, amnl_utils downloads them to a cache.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test venv clean experiments constraints

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# -W: warnings are errors; -n: nitpicky references; --all: every page is re-read, so a change in
# amnl_utils alone still re-executes every notebook (execute_notebooks: force).
# npm ci: MathJax from the npm registry (pinned in package-lock.json), served by the book itself.
book: $(STAMP) node_modules/.package-lock.json
	$(BIN)/jupyter-book build . --all -W -n --keep-going

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

test: book
	$(BIN)/python -m pytest

# The final grids, in the order the book needs them (resumable: finished runs are skipped), each
# aggregated into results/<grid>/ when it completes. Hours on 2 CPU cores; see the Methods page.
GRIDS ?= headline schedules wmax verdict
experiments: $(STAMP)
	for g in $(GRIDS); do $(BIN)/python -m amnl_utils.engine run --grid $$g --jobs 2 --aggregate || exit 1; done

clean:
	rm -rf _build

# Re-pin every transitive package after a change to requirements.txt, for a stock Linux x86-64
# machine with Python 3.11 (any 3.11.x; torch's CUDA packages included). Needs uv (`pip install uv`).
# The versions already in constraints.txt are kept where they still fit.
constraints: requirements.txt
	uv pip compile requirements.txt --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  --annotation-style line --custom-compile-command "make constraints" -o constraints.txt
