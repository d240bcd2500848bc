# The two commands of the README: `make book` and `make test`. Each creates or reuses the
# virtual environment in .venv, installs what it needs, and does its job.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch where one is available (pip's find-links here, or set
# TORCH_INDEX to a CPU-only index elsewhere); installed before everything else, so the
# package's `torch>=2.2` is already satisfied and no CUDA build is ever pulled in.
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
WIDGETS_JS := book/_widgets_js
NPM_PREFIX := $(VENV)/npm-widgets

.PHONY: book test lint lab widgets-js mathjax-js clean-book browser-test book-redraw book-rerun

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.torch: | $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || \
	  $(BIN)/pip install --quiet torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	touch $@

$(VENV)/.installed-%: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet -e ".[$*]"
	touch $@

# SpliceAI's trained weights (CC BY-NC 4.0), read with h5py by genotutor.splicing. The
# package is installed without its dependencies: they would pull in TensorFlow.
$(VENV)/.spliceai: | $(BIN)/python
	$(BIN)/pip install --quiet h5py && $(BIN)/pip install --quiet --no-deps spliceai
	touch $@

# janggu's sample ChIP-seq peaks (GPL-3.0 data, read from the installed files by
# genotutor.datasets.load_tf_peaks, never copied): the exact version, without its
# dependencies (they would pull in TensorFlow and an old Biopython).
JANGGU_VERSION ?= 0.10.2
$(VENV)/.janggu: | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps janggu==$(JANGGU_VERSION)
	touch $@

# ipywidgets' and MathJax's JavaScript, served from the built book so that widgets and
# math render offline. Needs npm; without it the book falls back to the CDN.
widgets-js:
	@if command -v npm >/dev/null 2>&1; then \
	  if [ ! -d $(WIDGETS_JS)/@jupyter-widgets ]; then \
	    mkdir -p $(NPM_PREFIX) $(WIDGETS_JS) && \
	    npm install --silent --no-audit --no-fund --prefix $(NPM_PREFIX) \
	      @jupyter-widgets/html-manager@1 requirejs@2 mathjax@3 && \
	    cp $(NPM_PREFIX)/node_modules/requirejs/require.js $(WIDGETS_JS)/require.min.js && \
	    cp $(NPM_PREFIX)/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js $(WIDGETS_JS)/ && \
	    mkdir -p $(WIDGETS_JS)/@jupyter-widgets/html-manager/dist && \
	    cp $(NPM_PREFIX)/node_modules/@jupyter-widgets/html-manager/dist/*.woff* \
	       $(NPM_PREFIX)/node_modules/@jupyter-widgets/html-manager/dist/*.ttf \
	       $(NPM_PREFIX)/node_modules/@jupyter-widgets/html-manager/dist/*.eot \
	       $(NPM_PREFIX)/node_modules/@jupyter-widgets/html-manager/dist/*.svg \
	       $(WIDGETS_JS)/@jupyter-widgets/html-manager/dist/ && \
	    cp $(WIDGETS_JS)/@jupyter-widgets/html-manager/dist/* $(WIDGETS_JS)/@jupyter-widgets/ && \
	    $(MAKE) --no-print-directory mathjax-js; \
	  fi; \
	else echo "npm not found: widgets and math will load from the CDN"; fi

# MathJax's CommonHTML build and what it loads on demand (TeX extensions, fonts, the menu
# and its accessibility modules), not the whole es5 folder (24 MB, the other outputs too):
# the site must stay within 60 MB.
MATHJAX_ES5 := $(NPM_PREFIX)/node_modules/mathjax/es5
mathjax-js:
	rm -rf $(WIDGETS_JS)/mathjax && mkdir -p $(WIDGETS_JS)/mathjax/output
	cp $(MATHJAX_ES5)/tex-chtml.js $(WIDGETS_JS)/mathjax/
	cp -r $(MATHJAX_ES5)/input $(MATHJAX_ES5)/ui $(MATHJAX_ES5)/a11y $(MATHJAX_ES5)/adaptors \
	  $(MATHJAX_ES5)/sre $(WIDGETS_JS)/mathjax/
	cp -r $(MATHJAX_ES5)/output/chtml $(MATHJAX_ES5)/output/chtml.js $(WIDGETS_JS)/mathjax/output/

book: $(VENV)/.installed-test,book,bench,lab,motifs $(VENV)/.spliceai $(VENV)/.janggu widgets-js
	$(BIN)/jupyter-book build book -W --keep-going
	$(BIN)/python benchmarks/book_timing.py book/_build

test: $(VENV)/.installed-test,book,bench,lab,motifs $(VENV)/.spliceai $(VENV)/.janggu
	$(BIN)/python -m pytest -q

# Re-draws: every chapter executed from an empty model cache with every seed of the studies
# shifted (GENOTUTOR_SEED_OFFSET=k, for each k in REDRAWS), then once more with torch on one
# thread (ONE_THREAD=no skips it). Every assertion of the book must hold in each: a chapter
# that fails fails the run, after its pass. CI runs `make book-redraw REDRAWS=1 ONE_THREAD=no`.
CHAPTERS := $(sort $(wildcard book/[0-9][0-9]_*.md))
REDRAWS ?= 1 2
ONE_THREAD ?= yes
book-redraw: $(VENV)/.installed-test,book,bench,lab,motifs $(VENV)/.spliceai $(VENV)/.janggu
	@for k in $(REDRAWS); do \
	  echo "== re-draw $$k (GENOTUTOR_SEED_OFFSET=$$k), cold"; \
	  $(BIN)/python benchmarks/run_chapter.py $(CHAPTERS) --cold --seed-offset $$k || exit 1; \
	done
	@if [ "$(ONE_THREAD)" = yes ]; then \
	  echo "== one thread (GENOTUTOR_THREADS=1), cold"; \
	  $(BIN)/python benchmarks/run_chapter.py $(CHAPTERS) --cold --threads 1 || exit 1; \
	fi

# The chapters executed again, each in a fresh kernel, in reverse order, on the model cache
# the last `make book` filled: they must print what the book build printed
# (benchmarks/compare_outputs.py), whatever ran before each chapter.
RERUN_DIR ?= book/_build/rerun
book-rerun: $(VENV)/.installed-test,book,bench,lab,motifs $(VENV)/.spliceai $(VENV)/.janggu
	rm -rf $(RERUN_DIR)
	$(BIN)/python benchmarks/run_chapter.py $(shell printf '%s\n' $(CHAPTERS) | sort -r) \
	  --save $(RERUN_DIR)
	$(BIN)/python benchmarks/compare_outputs.py book/_build/jupyter_execute $(RERUN_DIR)

# The chapters as notebooks in JupyterLab, explorers live: a double-click on a chapter
# opens it as a notebook (jupyter/overrides.json sets jupytext's viewer as the default for
# Markdown), and saving writes the MyST Markdown back.
LAB_OPTIONS ?=
lab: $(VENV)/.installed-test,book,bench,lab,motifs $(VENV)/.spliceai $(VENV)/.janggu
	$(BIN)/jupyter lab --notebook-dir=book --LabApp.app_settings_dir=$(CURDIR)/jupyter \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_OPTIONS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean-book:
	rm -rf book/_build

# Open every built chapter in headless Chromium, offline (after `make book`).
browser-test: $(VENV)/.installed-test,book,bench,lab,motifs $(VENV)/.spliceai $(VENV)/.janggu
	$(BIN)/python -m pytest -q -m browser tests/test_browser.py
