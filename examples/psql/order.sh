#!/bin/sh
# One order process: say it is ready, then run one psql script through the
# proxy (psql finds it through the PG* variables stockrace sets). The script
# prints the outcome line itself.
set -eu
echo "stockrace: ready"
exec psql -X -q -v ON_ERROR_STOP=1 -f "$1"
