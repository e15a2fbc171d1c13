#!/usr/bin/env bash
# Create one virtual environment per competitor under bench/.venvs/ (gitignored).
# mlpilot itself runs from the project's own venv (.venv at the repository root).
#
#   bash bench/setup.sh            # create or update both venvs
#   PYTHON=python3.12 bash bench/setup.sh
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3.11}"
mkdir -p .venvs

make_venv() {  # name, then pip requirements
    local name="$1"; shift
    if [ ! -x ".venvs/$name/bin/python" ]; then
        "$PY" -m venv ".venvs/$name"
    fi
    ".venvs/$name/bin/python" -m pip install --quiet --upgrade pip
    ".venvs/$name/bin/python" -m pip install "$@"
}

# Evidently 0.7.x needs pandas < 3.
make_venv evidently "evidently>=0.7,<0.8" "pandas<3" pyarrow
# NannyML 0.13.x; statsmodels is imported by some of its calculators but not always pulled in.
make_venv nannyml "nannyml>=0.13,<0.14" statsmodels pyarrow

for name in evidently nannyml; do
    printf '%s: ' "$name"
    ".venvs/$name/bin/python" -m pip list 2>/dev/null | grep -iE "^($name|pandas|numpy|scipy|pyarrow) " | tr -s ' ' | paste -sd' '
done

# gbstats 0.8.0 (GrowthBook's stats engine) for bench/experiments.py; it pins numpy < 2.
make_venv gbstats "gbstats==0.8.0"
printf 'gbstats: '
.venvs/gbstats/bin/python -m pip list 2>/dev/null | grep -iE "^(gbstats|numpy|scipy|pandas) " | tr -s ' ' | paste -sd' '

# MLflow 3.x for bench/ingest.py: `mlflow server` (SQLite backend) against mlpilot's ingest,
# and its client's log_batch. Its own venv: MLflow pins versions the project does not want.
make_venv mlflow "mlflow>=3,<4"
printf 'mlflow: '
.venvs/mlflow/bin/python -m pip list 2>/dev/null | grep -iE "^(mlflow|mlflow-skinny|sqlalchemy|gunicorn|uvicorn) " | tr -s ' ' | paste -sd' '
