#!/usr/bin/env bash
# Install the browser a11ycrawl drives: Debian's Chromium headless shell (the same engine as the
# desktop Chromium without its user interface: about a third less memory and less CPU per page),
# plus the desktop Chromium where the package exists. Idempotent. A browser already present is
# kept when apt-get cannot add the headless shell (offline, no such package, no root).
set -uo pipefail

found() { echo "Chromium: $1"; exit 0; }

if [ -n "${A11YCRAWL_CHROMIUM:-}" ] && [ -x "${A11YCRAWL_CHROMIUM}" ]; then found "$A11YCRAWL_CHROMIUM (A11YCRAWL_CHROMIUM)"; fi
for c in /usr/lib/chromium/chromium-headless-shell /usr/bin/chromium-headless-shell; do
  if [ -x "$c" ]; then found "$c"; fi
done

any_browser() {
  for c in /usr/bin/chromium /usr/bin/chromium-browser /snap/bin/chromium /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
    if [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
  echo "Installing Chromium with apt-get (Debian's chromium-headless-shell and chromium)..."
  if $SUDO apt-get update -qq; then
    if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium-headless-shell chromium >/dev/null; then
      found /usr/lib/chromium/chromium-headless-shell
    fi
    echo "chromium-headless-shell could not be installed here." >&2
    if ! any_browser >/dev/null; then
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null || true
    fi
  else
    echo "apt-get update failed (offline?)." >&2
  fi
fi

if b=$(any_browser); then
  echo "Chromium: $b (for less memory per page, install Debian's chromium-headless-shell: 'sudo apt-get install -y chromium-headless-shell')"
  exit 0
fi
echo "No Chromium found and apt-get could not install one: run 'sudo apt-get install -y chromium-headless-shell chromium' (Debian), or install Chromium or Chrome with your package manager and set A11YCRAWL_CHROMIUM=/path/to/chrome if it is not on PATH" >&2
exit 1
