#!/usr/bin/env bash
# What action.yml (a11ycrawl's GitHub Action) runs, kept in a script so that it is tested here
# (tests/test_ci_integration.py runs it with the environment GitHub gives a step).
#
#  1. Python: $A11YCRAWL_ACTION_PYTHON (action.yml passes actions/setup-python's, without putting
#     it on the job's PATH), else python3; 3.11 or newer.
#  2. a11ycrawl from the action's own checkout ($GITHUB_ACTION_PATH), into a virtualenv under
#     $RUNNER_TEMP, never from a package index by name. Skipped when that Python already imports
#     the same version (A11YCRAWL_ACTION_INSTALL=auto, the default); "always" or "never" force it.
#  3. Chromium: $A11YCRAWL_CHROMIUM, else the runner's Google Chrome, else Debian's Chromium
#     (installed with scripts/install-chromium.sh unless A11YCRAWL_ACTION_BROWSER=never).
#  4. a11ycrawl check with the action's inputs (INPUT_* variables, set by action.yml), writing
#     SARIF, JUnit, the HTML report (and JSON if asked) and, under Actions, annotations and the
#     job summary ($GITHUB_STEP_SUMMARY).
#  5. Step outputs in $GITHUB_OUTPUT: result (passed | failed | error), exit-code, and the paths of
#     the files written (sarif, junit, html, json), for the SARIF upload and later steps.
# Exit code: a11ycrawl check's (0 passed, 1 the gate failed, 2 the tool could not do its job).
set -uo pipefail

ACTION_PATH="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
OUT="${GITHUB_OUTPUT:-/dev/null}"

log() { echo "a11ycrawl action: $*" >&2; }
output() { printf '%s=%s\n' "$1" "$2" >> "$OUT"; }
die() {
  echo "::error title=a11ycrawl action::$*"
  output result error
  output exit-code 2
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '## a11ycrawl check could not run\n\n%s\n' "$*" >> "$GITHUB_STEP_SUMMARY"
  fi
  exit 2
}

# -- 1. Python ---------------------------------------------------------------------------------
PY="${A11YCRAWL_ACTION_PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || die "no Python at '$PY'"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "a11ycrawl needs Python 3.11 or newer; $PY is $("$PY" --version 2>&1)"

# -- 2. a11ycrawl from this checkout -----------------------------------------------------------
want=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ACTION_PATH/pyproject.toml" | head -n 1)
# -P: never import a folder of the user's repository that happens to be called audits/ or reports/
have=$("$PY" -P -c 'import audits; print(audits.__version__)' 2>/dev/null || true)
mode="${A11YCRAWL_ACTION_INSTALL:-auto}"
if [ "$mode" = never ] || { [ "$mode" = auto ] && [ -n "$have" ] && [ "$have" = "$want" ]; }; then
  log "a11ycrawl ${have:-?} is installed for $PY; not installing"
else
  venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/a11ycrawl-venv"
  log "installing a11ycrawl $want from $ACTION_PATH into $venv"
  "$PY" -m venv "$venv" || die "could not create a virtualenv at $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$ACTION_PATH" \
    || die "pip could not install a11ycrawl from $ACTION_PATH"
  PY="$venv/bin/python"
fi

# -- 3. Chromium -------------------------------------------------------------------------------
if [ -n "${A11YCRAWL_CHROMIUM:-}" ]; then
  [ -x "$A11YCRAWL_CHROMIUM" ] || die "A11YCRAWL_CHROMIUM=$A11YCRAWL_CHROMIUM is not an executable file"
  log "Chromium: $A11YCRAWL_CHROMIUM (A11YCRAWL_CHROMIUM)"
else
  found=""
  for c in google-chrome google-chrome-stable /usr/lib/chromium/chromium-headless-shell chromium-headless-shell chromium; do
    if p=$(command -v "$c" 2>/dev/null) && [ -x "$p" ]; then found="$p"; break; fi
  done
  if [ -z "$found" ]; then
    [ "${A11YCRAWL_ACTION_BROWSER:-auto}" = never ] && die "no Chrome or Chromium on this runner (A11YCRAWL_ACTION_BROWSER=never)"
    log "no Chrome or Chromium on this runner: installing Debian's"
    bash "$ACTION_PATH/scripts/install-chromium.sh" >&2 || die "could not install Chromium (see the log above)"
    for c in /usr/lib/chromium/chromium-headless-shell chromium google-chrome; do
      if p=$(command -v "$c" 2>/dev/null) && [ -x "$p" ]; then found="$p"; break; fi
    done
  fi
  [ -n "$found" ] || die "no Chrome or Chromium found after installing"
  export A11YCRAWL_CHROMIUM="$found"
  log "Chromium: $found"
fi

# -- 4. the check ------------------------------------------------------------------------------
args=(check)
targets=0
if [ -n "${INPUT_URL:-}" ]; then args+=("$INPUT_URL"); targets=$((targets + 1)); fi
if [ -n "${INPUT_URLS:-}" ]; then args+=(--urls "$INPUT_URLS"); targets=$((targets + 1)); fi
if [ -n "${INPUT_SITEMAP:-}" ]; then args+=(--sitemap "$INPUT_SITEMAP"); targets=$((targets + 1)); fi
if [ -n "${INPUT_DIR:-}" ]; then args+=(--dir "$INPUT_DIR"); targets=$((targets + 1)); fi
[ "$targets" -eq 1 ] || die "give exactly one of the inputs url, urls, sitemap and dir (got $targets)"

opt() { if [ -n "$2" ]; then args+=("$1" "$2"); fi; }
each_line() {  # one option per non-empty line of a multi-line input
  local line
  while IFS= read -r line; do
    line="${line%$'\r'}"
    if [ -n "${line// /}" ]; then args+=("$1" "$line"); fi
  done <<< "$2"
}
opt --min-score "${INPUT_MIN_SCORE:-}"
opt --max-critical "${INPUT_MAX_CRITICAL:-}"
opt --max-serious "${INPUT_MAX_SERIOUS:-}"
opt --max-moderate "${INPUT_MAX_MODERATE:-}"
opt --max-minor "${INPUT_MAX_MINOR:-}"
opt --baseline "${INPUT_BASELINE:-}"
opt --ignore-file "${INPUT_IGNORE_FILE:-}"
opt --config "${INPUT_CONFIG:-}"
opt --max-pages "${INPUT_MAX_PAGES:-}"
opt --max-time "${INPUT_MAX_TIME:-}"
each_line --include "${INPUT_INCLUDE:-}"
each_line --exclude "${INPUT_EXCLUDE:-}"

abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
db="${INPUT_DB:-}"
[ -n "$db" ] || db="${RUNNER_TEMP:-.}/a11ycrawl.db"
args+=(--db "$db")
declare -A files=()
for kind in sarif junit html json; do
  var="INPUT_${kind^^}"
  path="${!var-}"
  if [ -n "$path" ]; then
    args+=("--$kind" "$path")
    files[$kind]="$(abspath "$path")"
  fi
done
case "${INPUT_EXIT_ZERO:-false}" in true|yes|1) args+=(--exit-zero) ;; esac
while IFS= read -r line; do  # extra arguments, one a line (no shell parsing: no quoting surprises)
  line="${line%$'\r'}"
  if [ -n "$line" ]; then args+=("$line"); fi
done <<< "${INPUT_ARGS:-}"

log "a11ycrawl ${args[*]}"
"$PY" -P -m reports.cli "${args[@]}"
code=$?

# -- 5. outputs --------------------------------------------------------------------------------
case "$code" in
  0) output result passed ;;
  1) output result failed ;;
  *) output result error
     if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
       printf '## a11ycrawl check could not run (exit code %s)\n\nThe reason is on the last line of the step'"'"'s log.\n' \
         "$code" >> "$GITHUB_STEP_SUMMARY"
     fi ;;
esac
output exit-code "$code"
for kind in sarif junit html json; do
  if [ -n "${files[$kind]:-}" ] && [ -f "${files[$kind]}" ]; then output "$kind" "${files[$kind]}"; fi
done
exit "$code"
