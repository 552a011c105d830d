#!/usr/bin/env bash
# Issue 15's figures, A/B against a baseline tree, one bench after another (run it on an
# otherwise idle machine). BASE is a commit laid out as installed (see bench/RESULTS.md,
# "Issue 15"); NAME names it in the tables. Each bench writes its own section of
# bench/RESULTS.md.
#   bash bench/ab_issue15.sh /tmp/base/pkg main_542edfa
set -eu
BASE=$1
NAME=${2:-baseline}
cd "$(dirname "$0")/.."
B=(--baseline "$BASE" --baseline-name "$NAME")
# both trees compiled first: where PYTHONDONTWRITEBYTECODE is set, a tree without its
# .pyc files pays compile() in every process
for tree in compiler grammar runtime search lsp stdlib rolegraph "$BASE"; do
    PYTHONDONTWRITEBYTECODE= python -m compileall -q "$tree" >/dev/null || true
done
uptime
python bench/bench_firing_ab.py "${B[@]}" --rounds 7
uptime
python bench/bench_runtime.py --rounds 9
uptime
python bench/profile_search.py "${B[@]}" --rounds 6 --repeat 4
uptime
# the same as a user runs it: `main()`'s path (rolegraph/cli/fast.py), not typer's runner
python bench/profile_search.py "${B[@]}" --main --rounds 6 --repeat 4
uptime
python bench/bench_edits.py --baseline "$BASE" --baseline-name "$NAME"
uptime
python bench/bench_startup.py "${B[@]}" --rounds 9
uptime
