#!/usr/bin/env bash
# Package the VS Code extension as dist/rolegraph-VERSION.vsix, from the committed
# package-lock.json (npm ci: the same dependency tree every time). Nothing is published.
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund
mkdir -p syntaxes dist
# the grammar has one source, shared with other editors
cp ../textmate/rolegraph.tmLanguage.json syntaxes/rolegraph.tmLanguage.json
version=$(node -p "require('./package.json').version")
# file times in the archive: the last commit's, so two builds of a commit are alike
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
touch -d "@$SOURCE_DATE_EPOCH" package.json extension.js language-configuration.json README.md syntaxes/*
npx --no-install vsce package --skip-license --allow-missing-repository --out "dist/rolegraph-$version.vsix"
echo "wrote dist/rolegraph-$version.vsix"
