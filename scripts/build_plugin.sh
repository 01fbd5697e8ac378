#!/bin/sh
# Builds the installable Lightroom Classic plug-in: dist/AutoCull.lrplugin.zip, holding one folder
# AutoCull.lrplugin/ (unzip it somewhere permanent, then File > Plug-in Manager > Add; see docs/plugin.md).
# Usage: scripts/build_plugin.sh [output.zip]   (run from anywhere; `make plugin` calls it)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
src="$repo/plugin.lrplugin"
out=${1:-"$repo/dist/AutoCull.lrplugin.zip"}
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac

test -f "$src/Info.lua" || { echo "build_plugin: no $src/Info.lua" >&2; exit 1; }

# Every file must at least compile under Lua 5.1 (Lightroom's Lua).
luac=$(command -v luac5.1 || command -v luac || true)
if [ -n "$luac" ]; then
  for f in "$src"/*.lua; do "$luac" -p "$f" || { echo "build_plugin: $f does not compile" >&2; exit 1; }; done
else
  echo "build_plugin: luac5.1 not found, skipping the syntax check" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/AutoCull.lrplugin"
cp "$src"/*.lua "$stage/AutoCull.lrplugin/"
mkdir -p "$(dirname "$out")"
rm -f "$out"
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && zip -q -r -X "$out" AutoCull.lrplugin)
else
  (cd "$stage" && python3 -m zipfile -c "$out" AutoCull.lrplugin)
fi
n=$(ls "$stage/AutoCull.lrplugin" | wc -l)
echo "built $out ($n files)"
