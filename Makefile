# The two commands of the README:
#   make run    install everything and run the whole pipeline on data/
#   make test   install everything, run the tests and build the guide (docs/) strictly
# and one more:
#   make docs   the guide -> build/site/ (MkDocs, strict: a broken link or anchor fails)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Debian packages: Pango for WeasyPrint, Noto fonts for the report, HarfBuzz subsetting,
# poppler (pdftoppm) to look at the PDF, Chromium and its driver for the browser tests,
# pandoc for Word notes and the report's editable editions, rsvg-convert (librsvg2-bin) for their
# charts, LibreOffice (headless) with its Python bridge (python3-uno) to lay out the editable
# editions' contents and, in tests, to open the spreadsheet and the editable report,
# hunspell with its Italian dictionary to tell a surname that is also a word (privacy checks).
DEBIAN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core \
                   poppler-utils pandoc librsvg2-bin chromium chromium-driver \
                   libreoffice-calc-nogui libreoffice-writer-nogui python3-uno hunspell hunspell-it
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test docs install system-deps clean

run: install
	$(BIN)/cotour all

test: install
	$(BIN)/pytest -q -rs
	$(BIN)/mkdocs build --strict --quiet

docs: install
	$(BIN)/mkdocs build --strict

install: system-deps $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,docs]'
	touch $@

system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf build $(VENV)
