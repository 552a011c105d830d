#!/usr/bin/env bash
# The seeded searches of this tree against a baseline tree: the same behaviour, byte for
# byte. 16 searches (the optimizers random, evolve, swarm and mcts over the examples
# self_refine, debate, plan_execute and step_back), `--seed 3`, 30 candidates, on the
# mock, each in a fresh interpreter, in this tree and then in BASE (a tree laid out as the
# installed package, on PYTHONPATH). Compared: stdout, stderr, the exit status, the front's
# files, search.json, and the store's rows (runs, candidates, tests) without their
# timestamps. Each search runs in a folder of its own with relative paths, the same in
# both trees, so that what it prints does not differ by where it ran.
#   bash bench/seeded_searches.sh /tmp/base/pkg [main|typer]
# `main` (the default): `python -m rolegraph search ...` (rolegraph/cli/fast.py's path);
# `typer`: the same command through typer's app. Prints one line a search and a count;
# exits 1 when any differs.
set -u
BASE=$1
WAY=${2:-main}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
case $WAY in
    main) COMMAND=(python -m rolegraph) ;;
    typer) COMMAND=(python -c 'from rolegraph.cli import app; app(prog_name="rolegraph")') ;;
    *) echo "WAY: main or typer" >&2; exit 2 ;;
esac

# the store's rows without timestamps, one a line, in the order they were written
dump_store() {
    python - "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for table, columns in (
    ("runs", "fingerprint, agent, example, seed, model, result, error, calls, tokens, dollars"),
    ("candidates", "fingerprint, source, parent, edit"),
    ("tests", "fingerprint, passed, failure"),
):
    for row in db.execute(f"SELECT {columns} FROM {table} ORDER BY rowid"):
        print(table, repr(row))
EOF
}

# one search in folder $1 (made here), of tree $2 ("" for this one)
search() {
    local folder=$1 tree=$2 example=$3 optimizer=$4 input=$5
    mkdir -p "$folder"
    cp "$HERE/examples/$example.agent" "$folder/"
    for i in 0 1 2; do
        echo "{\"inputs\": {\"$input\": \"task $i\"}, \"expected\": \"fjord\"}"
    done >"$folder/data.jsonl"
    (
        cd "$folder" || exit 2
        if [ -n "$tree" ]; then export PYTHONPATH=$tree; fi
        "${COMMAND[@]}" search "$example.agent" --data data.jsonl --model mock --seeds 2 \
            --seed 3 --evaluations 30 --optimizer "$optimizer" --store s.sqlite -o out \
            --quiet >stdout 2>stderr
        echo $? >status
    )
    if [ -f "$folder/s.sqlite" ]; then dump_store "$folder/s.sqlite" >"$folder/rows"; fi
    rm -f "$folder"/s.sqlite*
}

same=0
differ=0
for example in self_refine:task debate:question plan_execute:task step_back:question; do
    name=${example%%:*}
    input=${example##*:}
    for optimizer in random evolve swarm mcts; do
        search "$WORK/this/$name-$optimizer" "" "$name" "$optimizer" "$input"
        search "$WORK/base/$name-$optimizer" "$BASE" "$name" "$optimizer" "$input"
        if diff -r "$WORK/this/$name-$optimizer" "$WORK/base/$name-$optimizer" >"$WORK/diff"; then
            same=$((same + 1))
            echo "same: $name $optimizer (exit $(cat "$WORK/this/$name-$optimizer/status"))"
        else
            differ=$((differ + 1))
            echo "DIFFERENT: $name $optimizer"
            head -20 "$WORK/diff" | cut -c1-300
        fi
    done
done
echo "$same of $((same + differ)) the same as $BASE ($WAY)"
[ "$differ" -eq 0 ]
