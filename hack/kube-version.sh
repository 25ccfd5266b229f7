# shellcheck shell=bash
# Sourced by build-k8s.sh and cluster/build.sh: the Kubernetes version both
# build, and the -ldflags a Kubernetes release build stamps (its
# hack/lib/version.sh), minus the git details we do not have: component-base
# for the servers, client-go for kubectl's client version.
KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
kube_minor="${KUBE_VERSION#v1.}"
kube_minor="${kube_minor%%.*}"
kube_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kube_ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor -X $pkg.gitTreeState=clean"
done
