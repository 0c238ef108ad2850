# The two commands a fresh machine needs (see README):
#   make demo   installs everything (Chromium included, where the machine allows) and runs the demo
#   make test   installs the test dependencies and runs the tests
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: demo test install install-test chromium grid

chromium:
	@bash scripts/install-chromium.sh

# what the Selenium Grid tests start: chromedriver, Java and the Selenium server jar (not needed to audit)
grid:
	@bash scripts/install-grid.sh

install: chromium
	$(PIP) install --quiet --disable-pip-version-check -e .

install-test: chromium grid
	$(PIP) install --quiet --disable-pip-version-check -e '.[test]'

demo: install
	a11ycrawl demo

test: install-test
	$(PYTHON) -m pytest -q
