#!/usr/bin/env bash
# Runs Magpie's main job on this host with the embedded defaults. It starts a
# console in a temporary data directory and enrolls a responder on this host.
# It creates a trigger, calls its URL with this host's name and waits for the
# task. Then it downloads and verifies the evidence package, prints a summary
# and stops what it started. Usage: make demo (or deploy/demo.sh after make
# build).
#
# Environment:
#   MAGPIE_DEMO_PROFILE  acquisition profile (default "Quick Triage")
#   MAGPIE_DEMO_ROOT     directory the responder collects from (default /)
#   MAGPIE_DEMO_KEEP     1 keeps the data directory after the demo
set -euo pipefail

cd "$(dirname "$0")/.."
bin=$PWD/bin
profile=${MAGPIE_DEMO_PROFILE:-Quick Triage}
root=${MAGPIE_DEMO_ROOT:-/}

need=()
for tool in curl jq tar zstd sha256sum; do
	command -v "$tool" >/dev/null || need+=("$tool")
done
if ((${#need[@]})); then
	pkgs=${need[*]}
	pkgs=${pkgs//sha256sum/coreutils}
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "demo: installing ${pkgs}"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
	else
		echo "demo: missing tools: ${need[*]}; install them (sudo apt-get install ${pkgs}) and run again" >&2
		exit 1
	fi
fi
for b in magpie-console magpie-responder magpie; do
	[[ -x $bin/$b ]] || { echo "demo: $bin/$b is missing: run 'make build' first" >&2; exit 1; }
done

work=$(mktemp -d /tmp/magpie-demo.XXXXXX)
data=$work/console
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ ${MAGPIE_DEMO_KEEP:-0} != 1 && ${demo_ok:-0} == 1 ]]; then
		rm -rf "$data" "$work/responder"
	fi
}
trap cleanup EXIT

wait_for() { # wait_for FILE SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.1
	done
	echo "demo: $1 did not appear within $2s; logs are in $work" >&2
	exit 1
}

echo "==> starting console (data dir $data)"
"$bin/magpie-console" serve --data-dir "$data" --http-listen 127.0.0.1:0 --grpc-listen 127.0.0.1:0 \
	>"$work/console.out" 2>"$work/console.log" &
pids+=($!)
wait_for "$data/addresses.json" 30
http=$(jq -r .http "$data/addresses.json")
grpc=$(jq -r .grpc "$data/addresses.json")

export MAGPIE_CONSOLE=https://$http
export MAGPIE_CA=$data/ca.pem
MAGPIE_API_KEY=$(cat "$data/admin-api-key")
export MAGPIE_API_KEY

echo "==> enrolling a responder on this host (collecting from $root)"
token=$("$bin/magpie" enroll-token create --single-use)
"$bin/magpie-responder" run --console "$grpc" --ca "$data/ca.pem" --enroll-token "$token" \
	--state-dir "$work/responder" --root "$root" 2>"$work/responder.log" &
pids+=($!)
host=$(hostname)
for ((i = 0; i < 300; i++)); do
	"$bin/magpie" responders list --json | jq -e '.responders[] | select(.online)' >/dev/null && break
	sleep 0.1
done
"$bin/magpie" responders list

echo "==> creating trigger 'demo' for profile '$profile'"
url=$("$bin/magpie" triggers create --name demo --profile "$profile" --json | jq -r .url)
call=${url//\{endpoint\}/$host}

echo "==> calling the trigger URL for endpoint '$host' (token redacted: ${call%%\?*}?token=...)"
reply=$(curl -sS --cacert "$data/ca.pem" "$call")
echo "$reply" | jq .
task=$(echo "$reply" | jq -r '.data.taskId // empty')
[[ -n $task ]] || { echo "demo: the trigger call created no task" >&2; exit 1; }

echo "==> waiting for task $task"
"$bin/magpie" tasks wait "$task" --timeout 10m

pkg=$work/evidence-$task.tar.zst
echo "==> downloading and verifying the evidence package"
"$bin/magpie" evidence download "$task" -o "$pkg"
"$bin/magpie" evidence verify "$pkg"

echo "==> independent check with tar, sha256sum and jq"
check=$work/extracted
mkdir -p "$check"
(cd "$(dirname "$pkg")" && sha256sum -c "$(basename "$pkg").sha256")
tar --zstd -xf "$pkg" -C "$check"
(cd "$check" && jq -r '.files[] | select(.sha256 and .archive_path) | "\(.sha256)  \(.archive_path)"' manifest.json | sha256sum -c --quiet)
echo "all $(jq '[.files[] | select(.sha256 and .archive_path)] | length' "$check/manifest.json") archived files match the manifest"

echo
echo "Evidence package: $pkg"
echo "Summary:"
jq '{task_id, profile, responder: .responder.hostname, started_at, finished_at, summary, live: [.live[] | {collector, records, error}]}' "$check/manifest.json"
if [[ ${MAGPIE_DEMO_KEEP:-0} == 1 ]]; then
	echo "Logs, console data and responder state: $work"
else
	echo "Logs: $work (console data and responder state are removed on exit; MAGPIE_DEMO_KEEP=1 keeps them)"
fi
demo_ok=1
