# The AMNL book: two commands do all set-up on a fresh machine.
#   make book   -> builds the book into _build/html (creates .venv and installs the pins first)
#   make test   -> unit tests, nbval over chapters/, the browser tests; builds the book first
#                  unless _build/html is newer than every source of it
# Data: set CMAPSS_DIR to a folder with the NASA files; unset, amnl_utils downloads them to a cache.
# No NVIDIA GPU: add TORCH_INDEX=https://download.pytorch.org/whl/cpu (the CPU build of the pinned
# torch is installed first, so the multi-GB CUDA build is never fetched).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH_INDEX ?=
#: The Python the pins (constraints.txt) are resolved for and the tests run on.
SUPPORTED_PYTHON := 3.11

.PHONY: book test venv clean experiments constraints colab-bundle

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])') || exit 1; \
	  [ "$$v" = "$(SUPPORTED_PYTHON)" ] || { echo "make: $(PYTHON) is Python $$v; the pins are for Python $(SUPPORTED_PYTHON): run make PYTHON=python$(SUPPORTED_PYTHON) ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install -q --no-deps $$(grep -m1 '^torch==' requirements.txt) --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(BIN)/python tools/quiet_kernel.py
	touch $(STAMP)

# The book's sources: a change to any of them makes _build/html stale (make test then rebuilds it).
BOOK_SOURCES := _config.yml _toc.yml references.bib $(wildcard *.md) $(wildcard chapters/*.ipynb) \
  $(shell find amnl_utils _ext _static results -type f -not -path '*/__pycache__/*' 2>/dev/null)
BUILT := _build/html/.built

# -W: warnings are errors; -n: nitpicky references; --all: every page is re-read, so a change in
# amnl_utils alone still re-executes every notebook (execute_notebooks: force).
# npm ci: MathJax from the npm registry (pinned in package-lock.json), served by the book itself.
book: $(STAMP) node_modules/.package-lock.json
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	touch $(BUILT)

$(BUILT): $(STAMP) node_modules/.package-lock.json $(BOOK_SOURCES)
	@echo "make test: the built book is missing or older than its sources; building it first (make book, ~2 min)"
	$(MAKE) --no-print-directory book

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# The browser tests read _build/html; nbval re-executes every notebook itself.
test: $(BUILT)
	@echo "make test: the book in _build/html is current; running unit, nbval and browser tests"
	$(BIN)/python -m pytest

# The final grids, in the order the book needs them (resumable: finished runs are skipped), each
# aggregated into results/<grid>/ when it completes. Hours on 2 CPU cores; see the Methods page.
GRIDS ?= headline schedules wmax verdict decisions
experiments: $(STAMP)
	for g in $(GRIDS); do $(BIN)/python -m amnl_utils.engine run --grid $$g --jobs 2 --aggregate || exit 1; done
	$(BIN)/python -m amnl_utils.analysis.decisions

clean:
	rm -rf _build

# The archive a Colab reader uploads while the book has no public address (the notebooks' first
# cell installs it): the committed tree at HEAD, results/ included; written to a temp file, then renamed.
colab-bundle:
	git archive --format=zip -o amnl-book.zip.tmp HEAD && mv amnl-book.zip.tmp amnl-book.zip
	@echo "wrote amnl-book.zip ($$(du -h amnl-book.zip | cut -f1)): upload it to Colab's Files panel (/content) and run a notebook's first cell"

# Re-pin every transitive package after a change to requirements.txt, for a stock Linux x86-64
# machine with Python 3.11 (any 3.11.x; torch's CUDA packages included). Needs uv (`pip install uv`).
# The versions already in constraints.txt are kept where they still fit.
constraints: requirements.txt
	uv pip compile requirements.txt --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  --annotation-style line --custom-compile-command "make constraints" -o constraints.txt
