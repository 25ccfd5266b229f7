#!/usr/bin/env bash
# load.sh TARBALL...: imports image tarballs (OCI layout or docker-archive,
# as hack/image and hack/image/pause write them) into the dev cluster's
# containerd, in the k8s.io namespace the kubelet's images live in. Pods
# then run them with imagePullPolicy Never or IfNotPresent: nothing is
# ever pulled. Prints each image's name as imported.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/cluster/lib.sh
source "$here/lib.sh"

(($# > 0)) || { echo "usage: $0 TARBALL..." >&2; exit 2; }
[[ -S "$CONTAINERD_SOCK" ]] || { echo "cluster: containerd is not running ($CONTAINERD_SOCK): run hack/cluster/up.sh" >&2; exit 1; }
for t in "$@"; do
	ctr_ images import --no-unpack=false "$t" | sed -n 's/^unpacking \(.*\) (sha256:.*/cluster: image \1/p'
done
