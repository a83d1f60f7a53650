#!/bin/sh
# ctest driver: installs the pinned npm `scalingo` client into the BUILD directory, starts
# linkpilot simulate-scalingo on port 0 and runs conformance.js against it.
# Exit 77 (ctest SKIP_RETURN_CODE) when node/npm are missing or the registry is unreachable.
# Usage: run.sh LINKPILOT_BINARY SOURCE_DIR WORK_DIR
set -u
bin=$1
src=$2
work=$3

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIPPED: node/npm not installed (apt-get install -y nodejs npm)"
    exit 77
fi

mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src/conformance.js" "$work/"
if [ ! -d "$work/node_modules/scalingo" ] || [ "$src/package-lock.json" -nt "$work/node_modules" ]; then
    if ! timeout 300 npm ci --prefix "$work" --no-audit --no-fund >"$work/npm.log" 2>&1; then
        cat "$work/npm.log"
        echo "SKIPPED: npm ci failed (registry unreachable?)"
        exit 77
    fi
fi

log="$work/simulator.log"
"$bin" simulate-scalingo --listen 127.0.0.1:0 --token tk-conformance 2>"$log" &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null' EXIT

url=""
i=0
while [ $i -lt 200 ]; do
    url=$(sed -n 's/.*listening on \(https*:\/\/[^ ]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$url" ] && break
    kill -0 "$sim" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
if [ -z "$url" ]; then
    echo "simulator did not start:"
    cat "$log"
    exit 1
fi

LINKPILOT_SIM_URL=$url LINKPILOT_SIM_TOKEN=tk-conformance node "$work/conformance.js"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- simulator log ---"
    cat "$log"
fi
exit $rc
