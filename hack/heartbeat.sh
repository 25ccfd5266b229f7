# Sourced by the long build scripts: `heartbeat_start WHAT` prints a line
# every HEARTBEAT_SECONDS (default 30) while a build runs, so that a silent
# `go build` of many minutes does not look hung; heartbeat_stop ends it.
# The loop stops by itself when the script that started it is gone, and
# when its output is closed (an echo into a closed pipe ends the subshell),
# so it never outlives a Ctrl-C'd or piped make.

heartbeat_pid=""

heartbeat_start() {
	local what="$1" parent=$$ start=$SECONDS
	(
		while sleep "${HEARTBEAT_SECONDS:-30}"; do
			kill -0 "$parent" 2>/dev/null || exit 0
			echo "  ... still building $what, $((SECONDS - start))s so far" || exit 0
		done
	) &
	heartbeat_pid=$!
}

heartbeat_stop() {
	if [[ -n "$heartbeat_pid" ]]; then
		kill "$heartbeat_pid" 2>/dev/null || true
		wait "$heartbeat_pid" 2>/dev/null || true
		heartbeat_pid=""
	fi
}

# Whatever way the script ends, the loop goes with it.
trap heartbeat_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
