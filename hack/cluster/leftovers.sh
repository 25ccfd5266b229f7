#!/usr/bin/env bash
# leftovers.sh: fails, listing them, when anything of the dev cluster is
# left on the machine: a process running one of its binaries or naming its
# state dir, a mount under it, the cni0 bridge or a veth, a KUBE- or CNI-
# iptables chain, a kubepods cgroup, the state dir itself. down.sh ends
# with it; smoke checks may run it after down.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/cluster/lib.sh
source "$here/lib.sh"

left=()
for f in /proc/[0-9]*; do
	exe="$(readlink "$f/exe" 2>/dev/null)" || continue
	case "$exe" in "$k8sbin"/* | "$clbin"/*) left+=("process ${f#/proc/}: $exe") ;; esac
done
# This script's ancestors may name the directory (make e2e's recipe does):
# they are what called down.sh, not what up.sh started.
ancestors=" "
pid=$$
while [[ "$pid" -gt 1 ]]; do
	ancestors+="$pid "
	pid="$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" || break
	[[ -n "$pid" ]] || break
done
while read -r f; do
	pid="$(basename "$(dirname "$f")")"
	[[ "$ancestors" == *" $pid "* ]] && continue
	left+=("process $pid: names $CLUSTER_DIR")
done < <(grep -lasF -- "$CLUSTER_DIR" /proc/[0-9]*/cmdline || true)
while read -r m; do left+=("mount $m"); done < <(awk -v d="$CLUSTER_DIR" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
ip link show cni0 >/dev/null 2>&1 && left+=("interface cni0")
while read -r l; do left+=("interface $l"); done < <(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}')
for ipt in iptables ip6tables; do
	command -v "$ipt" >/dev/null || continue
	for table in filter nat mangle raw; do
		while read -r ch; do left+=("$ipt -t $table chain $ch"); done < <("$ipt" -w -t "$table" -S 2>/dev/null | sed -nE 's/^-N ((KUBE|CNI)-[^ ]*)$/\1/p')
	done
done
for cg in /sys/fs/cgroup/*/kubepods; do [[ -d "$cg" ]] && left+=("cgroup $cg"); done
[[ -e "$CLUSTER_DIR" ]] && left+=("directory $CLUSTER_DIR")

if ((${#left[@]} > 0)); then
	echo "cluster: left behind:" >&2
	printf '  %s\n' "${left[@]}" >&2
	exit 1
fi
log "nothing left behind (processes, mounts, interfaces, iptables chains, cgroups, $CLUSTER_DIR)"
