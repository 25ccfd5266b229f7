#!/usr/bin/env bash
# Builds upstream NSQ v1.3.0 (nsqd, nsqlookupd, nsqadmin) into bin/upstream/,
# the reference that `make bench` and the interop tests measure queued against.
#
# It builds from inside test/bench so the versions come from that module's
# go.mod (nsq v1.3.0 plus the go-svc replace it needs), never from the
# product's go.mod. A binary newer than test/bench/go.mod is kept: rebuilding
# costs ~15s per binary and changes nothing unless the pinned versions do.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bin/upstream"
gomod="$root/test/bench/go.mod"
go="${GO:-go}"

mkdir -p "$out"
cd "$root/test/bench"
for app in nsqd nsqlookupd nsqadmin; do
	bin="$out/$app"
	if [[ -x "$bin" && "$bin" -nt "$gomod" ]]; then
		echo "upstream $app: up to date ($bin)"
		continue
	fi
	echo "upstream $app: building $bin"
	"$go" build -o "$bin" "github.com/nsqio/nsq/apps/$app"
done
