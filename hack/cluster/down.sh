#!/usr/bin/env bash
# Stops the dev cluster up.sh started and removes everything it made: the
# processes it recorded (by PID, never by name), the pods' containers and
# their shims, the mounts under CLUSTER_DIR, the cni0 bridge, the CNI- and
# KUBE- iptables chains, the kubepods cgroups; restores the kernel settings
# it changed and removes CLUSTER_DIR. Idempotent: safe when nothing runs,
# and after a down that was interrupted.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/cluster/lib.sh
source "$here/lib.sh"

[[ "$(id -u)" == 0 ]] || { echo "cluster: down.sh runs as root" >&2; exit 1; }
if [[ ! -d "$CLUSTER_DIR" ]]; then
	log "nothing to do: no $CLUSTER_DIR"
	exit 0
fi
start_time=$SECONDS
# When another cluster owns the machine's network and cgroups (this one
# never got that far), only this one's processes and directory go.
owner=1
if other="$(other_cluster)"; then
	log "another dev cluster runs from $other: leaving the network, cgroups and kernel settings to it"
	owner=""
fi

# alive PID: the process exists and is not a zombie (one whose parent has
# not reaped it yet is gone as far as we are concerned).
alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z ]]
}

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after a deadline (15 s by
# default), until it is gone.
stop_pid() {
	local pid="$1" deadline=$((SECONDS + ${2:-15}))
	kill -TERM "$pid" 2>/dev/null || return 0
	while alive "$pid"; do
		if ((SECONDS >= deadline)); then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.2
	done
}
stop() { # NAME: the process up.sh recorded as NAME
	local t=$SECONDS
	if running "$1"; then
		stop_pid "$(cat "$pids/$1.pid")"
		log "$1: stopped (pid $(cat "$pids/$1.pid"), $((SECONDS - t))s)"
	fi
	rm -f "$pids/$1.pid" "$pids/$1.exe"
}

# The kubelet first, so it restarts no container while they are stopped.
for c in kubelet kube-proxy coredns provisioner kube-scheduler kube-controller-manager; do stop "$c"; done

# The pods, through containerd while it runs: crictl stops and removes
# each sandbox as the kubelet would (the CNI plugins then release its
# address, its iptables rules and their cache in /var/lib/cni); whatever
# is left is killed and deleted with ctr, which ends the shims.
if running containerd; then
	if [[ -x "$clbin/crictl" ]]; then
		n="$(crictl_ pods -q 2>/dev/null | wc -l)" || n=0
		if ((n > 0)); then
			log "removing $n pods"
			timeout 60 "$clbin/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" --timeout 30s rmp --all --force >/dev/null 2>&1 || true
		fi
	fi
	mapfile -t tasks < <(ctr_ tasks ls -q 2>/dev/null || true)
	if ((${#tasks[@]} > 0)); then
		log "killing ${#tasks[@]} containers"
		for t in "${tasks[@]}"; do ctr_ tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
		for t in "${tasks[@]}"; do
			for _ in $(seq 50); do
				ctr_ tasks delete "$t" >/dev/null 2>&1 && break
				ctr_ tasks ls -q 2>/dev/null | grep -qx "$t" || break
				sleep 0.2
			done
		done
	fi
fi
stop containerd

# Whatever is left of the pods: processes still in their cgroups (when
# containerd died first, or a task would not delete), then the shims,
# which name our containerd's socket on their command line and, without
# containerd, are of no more use: SIGKILL at once.
for procs in /sys/fs/cgroup/*/kubepods; do
	[[ -n "$owner" && -d "$procs" ]] || continue
	while read -r pid; do
		if [[ -n "$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
	done < <(find "$procs" -name cgroup.procs -exec cat {} + 2>/dev/null)
done
# One grep over every command line (a process per /proc entry takes seconds).
while read -r f; do
	pid="${f#/proc/}"
	pid="${pid%/cmdline}"
	[[ "$({ tr '\0' ' ' <"$f"; } 2>/dev/null)" == *"-address $CONTAINERD_SOCK "* ]] || continue
	log "containerd-shim $pid: killing"
	kill -KILL "$pid" 2>/dev/null || true
	stop_pid "$pid" 5
done < <(grep -lasF -- "$CONTAINERD_SOCK" /proc/[0-9]*/cmdline || true)

for c in kube-apiserver etcd; do stop "$c"; done

# Mounts under the state dir, deepest first (kubelet volumes, the pods'
# network namespaces, containerd's overlay and shm mounts).
mapfile -t mounts < <(awk -v d="$CLUSTER_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
if ((${#mounts[@]} > 0)); then
	log "unmounting ${#mounts[@]} mounts"
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
fi

if [[ -n "$owner" ]]; then
	# Network: the bridge (the veths went with the namespaces) and the chains
	# the kubelet, kube-proxy and the CNI plugins made, after the rules in the
	# built-in chains that jump to them.
	if ip link show cni0 >/dev/null 2>&1; then
		log "removing cni0"
		ip link del cni0
	fi
	for ipt in iptables ip6tables; do
		command -v "$ipt" >/dev/null || continue
		for table in filter nat mangle raw; do
			rules="$("$ipt" -w -t "$table" -S 2>/dev/null)" || continue
			# (grep finds nothing in a table the cluster did not touch: || true)
			{ grep -E '^-A [A-Z]+ .*-j (KUBE|CNI)-' <<<"$rules" | grep -vE '^-A (KUBE|CNI)-' || true; } | while read -r rule; do
				# The rule's words as iptables -S quoted them (comments have spaces).
				eval "$ipt" -w -t "$table" "-D${rule#-A}" 2>/dev/null || true
			done
			chains="$(sed -nE 's/^-N ((KUBE|CNI)-[^ ]*)$/\1/p' <<<"$rules")"
			for ch in $chains; do "$ipt" -w -t "$table" -F "$ch" 2>/dev/null || true; done
			for ch in $chains; do "$ipt" -w -t "$table" -X "$ch" 2>/dev/null || true; done
		done
	done

	# The kubelet's cgroups (kubepods, its QoS classes, one per pod), empty now.
	for cg in /sys/fs/cgroup/*/kubepods; do
		if [[ -d "$cg" ]]; then find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true; fi
	done

	if [[ -f "$CLUSTER_DIR/sysctl.saved" ]]; then
		log "restoring kernel settings"
		while IFS= read -r kv; do sysctl -q -w "$kv" 2>/dev/null || true; done <"$CLUSTER_DIR/sysctl.saved"
	fi

	# What the kubelet and the CNI library keep at fixed paths outside the
	# state dir: the logs' symlinks into it, the device-plugin directory, and
	# the cached results of pods killed rather than removed (our network's and
	# those pods' loopback's).
	find /var/log/containers -maxdepth 1 -type l -lname "$CLUSTER_DIR/*" -delete 2>/dev/null || true
	for f in /var/lib/cni/results/sidequeue-dev-*; do
		[[ -e "$f" ]] || continue
		id="${f#/var/lib/cni/results/sidequeue-dev-}"
		rm -f "$f" "/var/lib/cni/results/cni-loopback-${id%-eth0}-lo"
	done
	# Sockets at fixed paths whose process is gone (none has them bound, as
	# /proc/net/unix shows): the kubelet's device-plugin socket, and the shims'
	# in /run/containerd/s (containerd 1.6 puts them there whatever its state
	# dir; a killed shim leaves its socket).
	bound="$(awk 'NR > 1 && $8 != "" { print $8 }' /proc/net/unix)"
	for f in /var/lib/kubelet/device-plugins/kubelet.sock /run/containerd/s/*; do
		if [[ -S "$f" ]] && ! grep -qxF -- "$f" <<<"$bound"; then rm -f "$f"; fi
	done
	rmdir /var/log/containers /var/lib/kubelet/device-plugins /var/lib/kubelet /var/lib/cni/results /var/lib/cni 2>/dev/null || true
fi
rm -rf --one-file-system "$CLUSTER_DIR"
if [[ -n "$owner" ]]; then
	rmdir /run/containerd/s /run/containerd 2>/dev/null || true
	rm -f "$OWNER_FILE"
	"$here/leftovers.sh"
fi
log "down in $((SECONDS - start_time))s"
