#!/usr/bin/env bash
# Runs Magpie's benchmarks on this host: builds the binaries with
# 'make build', then runs bench/cmd/magpie-bench with the given flags. It
# prints a Markdown table and writes it to bench/out/results.md.
#
# Usage: make bench, or bench/run.sh [flags]; for a quick run:
#   bench/run.sh --tree-size 64MiB --runs 1 --calls 100
# Run bench/run.sh -h for every flag.
set -euo pipefail

cd "$(dirname "$0")/.."

missing=()
for tool in tar zstd; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
	echo "bench: missing tools: ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]}) and run again" >&2
	exit 1
fi

make build
exec go run ./bench/cmd/magpie-bench "$@"
