#!/usr/bin/env bash
# How often the model agrees with a real server when three or four orders
# buy two or three items each (every second order lists them in reverse), for
# every strategy and isolation level: one `stockrace diff` per configuration,
# printed as a Markdown table of agreeing / compared runs, with the runs that
# agreed only when replayed again on the server (and their seeds) in
# parentheses and the first disagreeing seed after them.
#
#   pg_virtualenv -t -v 15 benches/diff-agreement.sh [SEEDS] [STRATEGY...]
#   DATABASE=mariadb-10.11 STOCKRACE_MARIADB=mysql://root@localhost/?socket=D/sock \
#     benches/diff-agreement.sh [SEEDS] [STRATEGY...]
#
# DATABASE (postgres-15 or mariadb-10.11, default postgres-15) is the
# scenario's database, and so the server's: PostgreSQL as the PG* variables
# name it, MariaDB as STOCKRACE_MARIADB or the MARIADB_* / MYSQL_* variables
# do. SEEDS defaults to 1000; the strategies to every built-in one that runs
# on the database (advisory-lock is PostgreSQL's only). JOBS configurations
# run at once, each on its own schemas (databases) of the same server:
# PostgreSQL's default is 2 (advisory-lock's one at a time); MariaDB's is 1,
# as InnoDB serves every client the same copy of its lock tables for 100 ms
# after any read, so a second process reading them would see stale waits.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:-1000}
shift || true
strategies=("$@")
export database=${DATABASE:-postgres-15}
case $database in
  postgres-15) jobs=${JOBS:-2} ;;
  mariadb-10.11) jobs=${JOBS:-1} ;;
  *) echo "DATABASE=$database: postgres-15 or mariadb-10.11" >&2; exit 2 ;;
esac
cargo build --release --quiet --bin stockrace
export bin=${CARGO_TARGET_DIR:-target}/release/stockrace seeds
if [ ${#strategies[@]} -eq 0 ]; then
  mapfile -t strategies < <("$bin" strategies | awk '{print $1}')
  if [ "$database" != postgres-15 ]; then
    mapfile -t strategies < <(printf '%s\n' "${strategies[@]}" | grep -vx advisory-lock)
  fi
fi
export out
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

one() {
  local strategy=$1 isolation=$2 orders=$3 items=$4
  "$bin" diff --database "$database" --strategy "$strategy" --isolation "$isolation" \
    --orders "$orders" --items "$items" --stock 2 --seeds "$seeds" --json \
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
configurations | { grep -v '^advisory-lock ' || true; } | xargs -r -P "$jobs" -L 1 bash -c 'one "$@"' _
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

echo "$database, $seeds seeds per cell"
echo
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
