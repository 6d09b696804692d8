#!/bin/sh
# collect-runtime.sh SRC OUT: copies what the image runs out of a built workspace SRC into OUT, in the same layout:
# for each workspace package and each role's app, its package.json, dist/ and data files (the engine's lua/).
# TypeScript sources, build info, declarations and source maps stay behind (no sources in the image, so the maps
# would point nowhere). node_modules come from the production install, not from here.
# Used by docker/Dockerfile and by apps/deploy-check/src/bundle.int.test.ts, so both build the same tree.
set -eu

ROLES="api worker cli data-abstractor ai-abstractor exec-agent"
src="$1"
out="$2"

copy_package() {
  mkdir -p "$out/$1"
  (cd "$src/$1" && tar -cf - \
    --exclude=./node_modules --exclude=./src --exclude=./examples --exclude='./tsconfig*.json' --exclude='*.tsbuildinfo' \
    --exclude='*.d.ts' --exclude='*.map' --exclude='*.test.js' --exclude='test-*.js' --exclude='*.md' .) |
    (cd "$out/$1" && tar -xf -)
}

for dir in "$src"/packages/*/; do
  copy_package "packages/$(basename "$dir")"
done
for role in $ROLES; do
  if [ ! -f "$src/apps/$role/dist/main.js" ]; then
    echo "collect-runtime: $src/apps/$role/dist/main.js is missing; build first (pnpm build)" >&2
    exit 1
  fi
  copy_package "apps/$role"
done
