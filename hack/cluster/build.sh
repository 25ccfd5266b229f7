#!/usr/bin/env bash
# Builds what the dev cluster runs, besides Debian's containerd, runc and CNI
# plugins (hack/cluster/deps.sh), into bin/cluster-bin/:
#
#   kube-controller-manager, kube-scheduler,  from k8s.io/kubernetes $KUBE_VERSION
#   kubelet, kube-proxy                        (hack/k8s, the tools build-k8s.sh lists)
#   coredns                                    hack/clustertools/coredns (a few plugins)
#   provisioner                                hack/clustertools/provisioner (hostPath volumes)
#   crictl                                     sigs.k8s.io/cri-tools, a tool of hack/clustertools
#   pause.tar                                  hack/image/pause (the sandbox image)
#
# and, through hack/build-k8s.sh, etcd, kube-apiserver and kubectl into
# bin/k8s/ (the ones envtest uses). Skipped when bin/cluster-bin/.versions
# matches the versions and sources below; FORCE=1 rebuilds. A cold build
# of the four Kubernetes commands takes about 5 minutes on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=hack/kube-version.sh
source "$root/hack/kube-version.sh"
export KUBE_VERSION
out="$root/bin/cluster-bin"
stamp="$out/.versions"
go="${GO:-go}"
export GOWORK=off
# The name containerd's sandbox_image gives (up.sh reads it from here).
PAUSE_IMAGE="localhost/sidequeue/pause:1"

GO="$go" "$root/hack/build-k8s.sh"

# shellcheck source=hack/heartbeat.sh
source "$root/hack/heartbeat.sh"

cmds=(kube-controller-manager kube-scheduler kubelet kube-proxy)

# The stamp: the versions, and a digest of our own small modules' sources,
# so an edit to the provisioner or the pause image rebuilds them.
sources="$(cd "$root" && cat hack/k8s/go.mod hack/clustertools/go.mod hack/clustertools/*/*.go \
	hack/image/go.mod hack/image/pause/*.go hack/image/pause/proc/*.go | sha256sum | cut -d' ' -f1)"
want="kubernetes $KUBE_VERSION
sources $sources
pause $PAUSE_IMAGE"

have_all() {
	local f
	for f in "${cmds[@]}" coredns provisioner crictl; do [[ -x "$out/$f" ]] || return 1; done
	[[ -f "$out/pause.tar" ]]
}
if [[ -z "${FORCE:-}" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && have_all; then
	echo "cluster-bin: up to date ($out)"
	exit 0
fi
mkdir -p "$out"
rm -f "$stamp"

start=$SECONDS
echo "cluster-bin: building ${cmds[*]} $KUBE_VERSION into $out"
echo "cluster-bin: about 5 minutes cold on 2 cores, seconds when the Go build cache is warm"
heartbeat_start "${cmds[*]}"
(cd "$root/hack/k8s" && "$go" build -trimpath -ldflags "$kube_ldflags" -o "$out/" "${cmds[@]/#/k8s.io/kubernetes/cmd/}")
heartbeat_stop
echo "cluster-bin: building coredns, the provisioner and crictl (about 6 minutes cold)"
heartbeat_start "coredns, the provisioner and crictl"
(cd "$root/hack/clustertools" && "$go" build -trimpath -o "$out/" ./coredns ./provisioner sigs.k8s.io/cri-tools/cmd/crictl)
heartbeat_stop
"$go" -C "$root/hack/image" run ./pause -out "$out/pause.tar" -name "$PAUSE_IMAGE"

printf '%s\n' "$want" >"$stamp"
echo "cluster-bin: done in $((SECONDS - start))s"
