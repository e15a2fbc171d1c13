#!/usr/bin/env bash
# Lint (ruff check, ruff format --check, mypy --strict per pyproject) then run pytest.
# Extra arguments go to pytest.  Exits with pytest's exit code, or 1 if only lint failed.
# Makes sure PostgreSQL server binaries exist (installs them when root); the tests start
# their own throwaway cluster (tests/postgres.py).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV_BIN=.venv/bin
if [[ ! -x $VENV_BIN/python ]]; then
    echo "scripts/test.sh: $VENV_BIN/python not found; run \`make test\` (or \`make venv\`)." >&2
    exit 2
fi

have_pg_ctl() {
    command -v pg_ctl >/dev/null 2>&1 && return 0
    local candidate
    for candidate in /usr/lib/postgresql/*/bin/pg_ctl; do
        [[ -x $candidate ]] && return 0
    done
    return 1
}

if ! have_pg_ctl; then
    if [[ $(id -u) -eq 0 ]]; then
        echo "scripts/test.sh: PostgreSQL not found; installing it with apt-get." >&2
        if ! { apt-get update -qq \
                && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }; then
            echo "scripts/test.sh: installing PostgreSQL failed." >&2
            exit 2
        fi
        if ! have_pg_ctl; then
            echo "scripts/test.sh: PostgreSQL installed but pg_ctl still not found." >&2
            exit 2
        fi
    else
        echo "scripts/test.sh: PostgreSQL server binaries (pg_ctl, initdb) not found in PATH" \
            "or /usr/lib/postgresql/*/bin, and not running as root so cannot install them." \
            "Install the 'postgresql' package (e.g. sudo apt-get install postgresql)," \
            "or set MLPILOT_TEST_POSTGRES_URL to an existing server." >&2
        exit 2
    fi
fi

# Debian packages the browser and Spark suites need: Chromium (driven by Playwright, never a
# downloaded browser) and a Java runtime for PySpark in local mode.
apt_missing=()
[[ -x /usr/bin/chromium ]] || apt_missing+=(chromium)
command -v java >/dev/null 2>&1 || apt_missing+=(openjdk-17-jre-headless)
if [[ ${#apt_missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "scripts/test.sh: missing ${apt_missing[*]} and not root; install them first." >&2
        exit 2
    fi
    echo "scripts/test.sh: installing ${apt_missing[*]} with apt-get." >&2
    if ! { apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}"; }; then
        echo "scripts/test.sh: installing ${apt_missing[*]} failed." >&2
        exit 2
    fi
fi

lint_status=0
step() {
    echo "==> $*"
    "$@" || lint_status=1
}
step "$VENV_BIN/ruff" check src tests
step "$VENV_BIN/ruff" format --check src tests
step "$VENV_BIN/mypy"

echo "==> pytest $*"
"$VENV_BIN/python" -m pytest "$@"
test_status=$?

if [[ $lint_status -ne 0 ]]; then
    echo "scripts/test.sh: lint FAILED (see above)." >&2
fi
if [[ $test_status -ne 0 ]]; then
    exit "$test_status"
fi
exit "$lint_status"
