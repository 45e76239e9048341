#!/bin/sh
# The Python the e2e plugins run on: forked from the preloaded interpreter of forkserver.py
# when DATABRICKS_AZUREML_FORKSERVER names its socket, else started as usual.
PYTHON="${DATABRICKS_AZUREML_PYTHON:-python3}"
if [ -n "${DATABRICKS_AZUREML_FORKSERVER:-}" ]; then
  exec "$PYTHON" -I -S "$(dirname "$0")/forkserver.py" run "$@"
fi
exec "$PYTHON" "$@"
