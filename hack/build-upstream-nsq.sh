#!/usr/bin/env bash
# Builds upstream NSQ v1.3.0 (nsqd, nsqlookupd, nsqadmin, and the tools
# nsq_tail and to_nsq) into bin/upstream/, the reference that `make bench` and the interop tests measure queued against.
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
# shellcheck source=hack/heartbeat.sh
source "$root/hack/heartbeat.sh"

mkdir -p "$out"
cd "$root/test/bench"
# nsq_tail and to_nsq are the NSQ tools the README's "Try it" uses; a plain
# `go install github.com/nsqio/nsq/apps/nsq_tail@v1.3.0` fails, because nsq's
# go.mod needs a replace (go-svc) that go install ignores.
for app in nsqd nsqlookupd nsqadmin nsq_tail to_nsq; do
	bin="$out/$app"
	if [[ -x "$bin" && "$bin" -nt "$gomod" ]]; then
		echo "upstream $app: up to date ($bin)"
		continue
	fi
	echo "upstream $app: building $bin (about 15s, a minute or more cold)"
	heartbeat_start "$app"
	"$go" build -o "$bin" "github.com/nsqio/nsq/apps/$app"
	heartbeat_stop
done
