# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Sourced by up.sh, down.sh, load.sh and smoke.sh: where the dev cluster
# keeps its state, its fixed addresses, and the helpers they share.
# Everything the cluster writes is under $CLUSTER_DIR (default bin/cluster/),
# so down.sh can remove it all with one rm.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Absolute, and not made here: down.sh must not create what it removes.
CLUSTER_DIR="$(realpath -m "${CLUSTER_DIR:-$root/bin/cluster}")"
k8sbin="$root/bin/k8s"
clbin="$root/bin/cluster-bin"

# The node's name, fixed rather than the host name (which differs between
# machines and may not be a valid DNS label): PVs' node affinity uses it.
NODE_NAME="${NODE_NAME:-sidequeue-dev}"
# Addresses: pods get 10.244.0.0/24 on the cni0 bridge, Services 10.96.0.0/16,
# the cluster DNS is the tenth.
POD_CIDR="10.244.0.0/24"
CLUSTER_CIDR="10.244.0.0/16"
SERVICE_CIDR="10.96.0.0/16"
API_SERVICE_IP="10.96.0.1"
DNS_SERVICE_IP="10.96.0.10"
API_PORT=6443
# The sandbox image containerd runs for each pod (build.sh writes it).
PAUSE_IMAGE="localhost/sidequeue/pause:1"

pki="$CLUSTER_DIR/pki"
logs="$CLUSTER_DIR/logs"
pids="$CLUSTER_DIR/pids"
conf="$CLUSTER_DIR/config"
KUBECONFIG_ADMIN="$CLUSTER_DIR/kubeconfig"
CONTAINERD_SOCK="$CLUSTER_DIR/containerd/run/containerd.sock"

kubectl_() {
	"$k8sbin/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --cache-dir "$CLUSTER_DIR/kubectl-cache" "$@"
}

crictl_() {
	"$clbin/crictl" --runtime-endpoint "unix://$CONTAINERD_SOCK" "$@"
}

ctr_() {
	ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"
}

log() { printf 'cluster: %s\n' "$*"; }

# node_ip: the address of the interface the default route leaves by, the
# one the API server advertises and pods reach the host (and CoreDNS) at.
node_ip() {
	local ip
	ip="$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1)"
	[[ -n "$ip" ]] || ip="$(ip -4 -o addr show scope global | awk '{sub(/\/.*/, "", $4); print $4; exit}')"
	[[ -n "$ip" ]] || { echo "cluster: no global IPv4 address on this machine" >&2; return 1; }
	echo "$ip"
}

# running NAME [PIDS_DIR]: the process up.sh recorded as NAME (in PIDS_DIR,
# default this cluster's) is alive and still runs the binary it was started
# from (a recycled PID runs something else).
running() {
	local dir="${2:-$pids}" pid exe
	[[ -f "$dir/$1.pid" ]] || return 1
	pid="$(cat "$dir/$1.pid")"
	exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
	# A binary rebuilt since it started reads as "PATH (deleted)".
	exe="${exe% (deleted)}"
	[[ -n "$exe" && "$exe" == "$(cat "$dir/$1.exe" 2>/dev/null)" ]]
}

# The bridge, the iptables chains, the kubepods cgroups and the kernel
# settings are the machine's, not the state dir's: one dev cluster at a time
# owns them, the one whose state dir this file names.
OWNER_FILE=/run/sidequeue-dev-cluster

# other_cluster: prints the state dir of another dev cluster that still has
# a process running on this machine, and fails when there is none.
other_cluster() {
	local other f
	other="$(cat "$OWNER_FILE" 2>/dev/null)" || return 1
	[[ -n "$other" && "$other" != "$CLUSTER_DIR" ]] || return 1
	for f in "$other"/pids/*.pid; do
		if [[ -f "$f" ]] && running "$(basename "$f" .pid)" "$other/pids"; then
			echo "$other"
			return 0
		fi
	done
	return 1
}

# exited: the components up.sh started that are no longer running, with
# the end of their logs (what a timeout most often comes down to).
exited() {
	local f name
	for f in "$pids"/*.pid; do
		[[ -f "$f" ]] || continue
		name="$(basename "$f" .pid)"
		running "$name" && continue
		echo "cluster: $name is not running; the end of $logs/$name.log:"
		tail -n 15 "$logs/$name.log" 2>/dev/null | sed 's/^/    /'
	done
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds,
# failing after SECONDS with the logs of whatever component has exited.
wait_for() {
	local what="$1" deadline=$((SECONDS + $2))
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "cluster: timed out waiting for $what" >&2
			exited >&2
			return 1
		fi
		sleep 0.5
	done
}
