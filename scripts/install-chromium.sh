#!/usr/bin/env bash
# Install Debian's Chromium if no Chromium/Chrome is found. Idempotent; says what to do when it cannot.
set -euo pipefail
for c in "${A11YCRAWL_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
  if [ -n "$c" ] && [ -x "$c" ]; then echo "Chromium: $c"; exit 0; fi
done
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "Chromium is missing and this user cannot run apt-get: run 'sudo apt-get install -y chromium' as root, or set A11YCRAWL_CHROMIUM=/path/to/chrome" >&2; exit 1
    fi
  fi
  echo "Installing Chromium with apt-get (Debian's package)..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  echo "Chromium: $(command -v chromium)"
  exit 0
fi
echo "No Chromium found and no apt-get here: install Chromium or Chrome with your package manager, then set A11YCRAWL_CHROMIUM=/path/to/chrome if it is not on PATH" >&2
exit 1
