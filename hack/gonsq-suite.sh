#!/usr/bin/env bash
# Runs go-nsq v1.1.0's own test suite against bin/queued, started the way
# go-nsq's test.sh starts nsqd. The suite hardcodes 127.0.0.1:4150 and :4151,
# so only one run per machine at a time.
#
#   hack/gonsq-suite.sh [go test args...]    e.g. -run 'TestProducer'
#   QUEUED=/path/to/nsqd hack/gonsq-suite.sh  skip the build; baseline against
#                                             any nsqd-compatible binary
#   GONSQ_TIMEOUT=60s                         go test -timeout (test.sh uses 60s)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module=github.com/nsqio/go-nsq@v1.1.0
timeout=${GONSQ_TIMEOUT:-60s}
die() { echo "gonsq-suite: $*" >&2; exit 1; }

queued=${QUEUED:-}
if [[ -z $queued ]]; then
	queued=$root/bin/queued
	(cd "$root" && go build -o bin/queued ./cmd/queued) ||
		die "building bin/queued from ./cmd/queued failed; nothing to test"
fi
[[ -x $queued ]] || die "$queued is not an executable"
queued=$(cd "$(dirname "$queued")" && pwd)/$(basename "$queued")

# A daemon already on the fixed ports would silently be tested instead of ours.
for port in 4150 4151; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		die "127.0.0.1:$port is already in use; stop whatever listens there"
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/gonsq-suite.XXXXXX")
pid=
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	status=$?
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		# queued drains on SIGTERM and the suite leaves messages behind, so
		# give it a bounded grace period; the data path is thrown away anyway.
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if ((status != 0)) && [[ -s $work/queued.log ]]; then
		echo "gonsq-suite: last lines of the daemon's log:" >&2
		tail -n 40 "$work/queued.log" >&2
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Outside any module (GOWORK=off, cwd=$work) so our go.mod and go.sum stay untouched.
dir=$(cd "$work" && GOWORK=off go mod download -json "$module" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || dir=
[[ -n $dir ]] || die "cannot download $module through the module proxy"
cp -R "$dir" "$work/go-nsq"
chmod -R u+w "$work/go-nsq"
cd "$work/go-nsq"

# Exactly test.sh's nsqd flags, cert paths relative to the go-nsq tree as there;
# nothing listens on 4160 (no test uses a real nsqlookupd), as nsqd tolerates.
mkdir "$work/data"
"$queued" --data-path="$work/data" --lookupd-tcp-address=127.0.0.1:4160 \
	--tls-cert=./test/server.pem --tls-key=./test/server.key \
	--tls-root-ca-file=./test/ca.pem >"$work/queued.log" 2>&1 &
pid=$!

# Ready means /ping says OK and the TCP port accepts, since the tests dial it at once.
deadline=$((SECONDS + 30))
until [[ $(curl -fsS --max-time 1 http://127.0.0.1:4151/ping 2>/dev/null) == OK ]] &&
	(exec 3<>/dev/tcp/127.0.0.1/4150) 2>/dev/null; do
	kill -0 "$pid" 2>/dev/null || die "$queued exited before it was ready"
	((SECONDS <= deadline)) || die "$queued not ready on 127.0.0.1:4150/4151 within 30s"
	sleep 0.1
done

status=0
GOWORK=off go test -count=1 -v -timeout "$timeout" ./... "$@" || status=$?
exit "$status"
