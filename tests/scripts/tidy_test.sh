#!/usr/bin/env bash
# scripts/tidy fails on a finding and passes once it is fixed (issue 22: it used to exit 0 on
# anything). Runs it on tests/data/tidy/planted.cpp (modernize-use-nullptr) and fixed.cpp with
# their own flags, so no compile database is needed, and a private result cache: the finding
# fails again on a second run (findings are never cached), the fixed file is then a cache hit.
# Last, library_report.cpp: a report located in a library header is ignored, and counted.
# ctest runs it; exit 77 (skip) without clang-tidy.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v clang-tidy >/dev/null || ! command -v clang++ >/dev/null; then
  echo "tidy_test: no clang-tidy or clang++: skipped"
  exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export LINKPILOT_TIDY_CACHE="$scratch/cache"

tidy() {
  rc=0
  out=$(scripts/tidy "$1" -- -std=c++20 -isystem "$scratch/include" 2>&1) || rc=$?
  printf '%s\n' "$out"
}
expect() {
  if ! grep -qE -- "$1" <<<"$out"; then
    echo "tidy_test: FAILED: no line matching '$1' in the output above"
    exit 1
  fi
}

for run in first second; do
  tidy tests/data/tidy/planted.cpp
  if ((rc != 1)); then
    echo "tidy_test: FAILED: $run run on the planted finding exited $rc, not 1"
    exit 1
  fi
  expect 'planted\.cpp:6:[0-9]+: error: use nullptr \[modernize-use-nullptr'
  expect '^tidy: FAILED: findings in 1 of 1 sources \(0 cached.*: modernize-use-nullptr \(1\)$'
done

tidy tests/data/tidy/fixed.cpp
if ((rc != 0)); then
  echo "tidy_test: FAILED: the fixed file exited $rc, not 0"
  exit 1
fi
expect '^tidy: clean: 1 sources \(0 cached, 1 checked\)'
tidy tests/data/tidy/fixed.cpp
expect '^tidy: clean: 1 sources \(1 cached, 0 checked\)'

mkdir "$scratch/include"
echo 'inline int read_through(const int* p) { return *p; }' >"$scratch/include/tidy_library.hpp"
tidy tests/data/tidy/library_report.cpp
if ((rc != 0)); then
  echo "tidy_test: FAILED: a report located in a library header exited $rc, not 0"
  exit 1
fi
expect '^tidy: clean: 1 sources .*\(1 reports located in library headers ignored\)$'
echo "tidy_test: planted finding fails (twice), fixed file passes, then from the cache;" \
  "a report in a library header is ignored"
