#!/usr/bin/env bash
# How often the model agrees with a real PostgreSQL when three or four orders
# buy two or three items each (every second order lists them in reverse), for
# every strategy and isolation level: one `stockrace diff` per configuration,
# printed as a Markdown table of agreeing / compared runs, with the runs that
# agreed only when replayed again on the server (and their seeds) in
# parentheses and the first disagreeing seed after them.
#
#   pg_virtualenv -t -v 15 benches/diff-agreement.sh [SEEDS] [STRATEGY...]
#
# SEEDS defaults to 1000; the strategies to every built-in one. JOBS (default
# 2) configurations run at once, each on its own schemas of the same server
# (advisory-lock's one at a time).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:-1000}
shift || true
strategies=("$@")
cargo build --release --quiet --bin stockrace
export bin=${CARGO_TARGET_DIR:-target}/release/stockrace seeds
if [ ${#strategies[@]} -eq 0 ]; then
  mapfile -t strategies < <("$bin" strategies | awk '{print $1}')
fi
export out
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

one() {
  local strategy=$1 isolation=$2 orders=$3 items=$4
  "$bin" diff --strategy "$strategy" --isolation "$isolation" --orders "$orders" \
    --items "$items" --stock 2 --seeds "$seeds" --json \
    > "$out/$strategy.$isolation.$orders.$items.json" 2> "$out/$strategy.$isolation.$orders.$items.err" || true
}
export -f one

configurations() {
  for strategy in "${strategies[@]}"; do
    for isolation in read-committed repeatable-read serializable; do
      for orders in 3 4; do
        for items in 2 3; do
          echo "$strategy $isolation $orders $items"
        done
      done
    done
  done
}
# Advisory locks belong to the database, not to a run's schema: two runs at
# once would wait for each other's keys. Those configurations go one at a time.
configurations | { grep -v '^advisory-lock ' || true; } | xargs -r -P "${JOBS:-2}" -L 1 bash -c 'one "$@"' _
configurations | { grep '^advisory-lock ' || true; } | xargs -r -P 1 -L 1 bash -c 'one "$@"' _

# One cell: agreeing/compared, "(n on a retry)", and the first disagreeing seed.
cell() {
  local file=$out/$1.json
  if [ ! -s "$file" ]; then
    echo "failed: $(head -c 120 "$out/$1.err" | tr '\n' ' ')"
    return
  fi
  python3 - "$file" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
text = f"{r['agreeing']}/{r['compared']}"
if r["agreed_on_retry"]:
    seeds = ", ".join(str(s) for s in r.get("agreed_on_retry_seeds", []))
    text += f" ({r['agreed_on_retry']} on a retry: seed {seeds})"
if r["first_disagreement"]:
    text += f" first: seed {r['first_disagreement']['seed']}"
print(text)
EOF
}

echo "| strategy | isolation | 3 orders, 2 items | 3 orders, 3 items | 4 orders, 2 items | 4 orders, 3 items |"
echo "|---|---|---|---|---|---|"
for strategy in "${strategies[@]}"; do
  for isolation in read-committed repeatable-read serializable; do
    row="| $strategy | $isolation |"
    for orders in 3 4; do
      for items in 2 3; do
        row+=" $(cell "$strategy.$isolation.$orders.$items") |"
      done
    done
    echo "$row"
  done
done
