#!/usr/bin/env bash
# Installs what the dev cluster takes from Debian rather than from source:
# containerd (1.6, which kubelet 1.37 still accepts) with its ctr, runc, the
# CNI plugins, and the tools the kubelet and kube-proxy call (iptables,
# conntrack, modprobe, mount). Called by up.sh; does nothing when all are
# there, so a second up costs no apt run. Runs as root (CI and the
# developers' machines are root).
set -euo pipefail

# command → Debian package that provides it.
declare -A want=(
	[containerd]=containerd
	[ctr]=containerd
	[runc]=runc
	[iptables]=iptables
	[conntrack]=conntrack
	[modprobe]=kmod
	[mount]=mount
	[openssl]=openssl
	[ip]=iproute2
	[curl]=curl
)
missing=()
for cmd in "${!want[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
# The CNI plugins are not on PATH: Debian puts them in /usr/lib/cni.
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback && -x /usr/lib/cni/portmap ]] ||
	missing+=(containernetworking-plugins)

if ((${#missing[@]} == 0)); then
	exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "cluster: installing ${missing[*]} from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
