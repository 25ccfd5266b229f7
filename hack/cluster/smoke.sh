#!/usr/bin/env bash
# smoke.sh: the dev cluster does what the e2e tests will ask of it, on the
# project's image (make image): pods run it; a native sidecar (an init
# container with restartPolicy Always) runs beside its app; a generic
# ephemeral volume is bound by the provisioner and removed with its pod; a
# pod finds another through a Service's DNS name (queued registers with
# lookupd at lookupd.smoke.svc.cluster.local, as lookupd's /nodes shows);
# kubectl logs and exec work. Needs a cluster from up.sh; leaves none of
# its objects behind.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/cluster/lib.sh
source "$here/lib.sh"
ns=smoke
start_time=$SECONDS
k() { kubectl_ -n "$ns" "$@"; }
passed=0
ok() {
	printf 'smoke: ok   %s\n' "$*"
	passed=$((passed + 1))
}
# fail stops at the first failed check: the later ones build on it.
fail() {
	printf 'smoke: FAIL %s\n' "$*" >&2
	k get pods,pvc,svc -o wide >&2 || true
	k describe pods >&2 || true
	echo "smoke: $passed passed, 1 failed"
	exit 1
}
# jsonpath_is WHAT RESOURCE PATH VALUE: polls until the field has the value.
jsonpath_is() { [[ "$(k get "$2" -o "jsonpath=$3" 2>/dev/null)" == "$4" ]]; }
until_true() { # DESCRIPTION SECONDS COMMAND...
	local what="$1"
	wait_for "$what" "$2" "${@:3}" || fail "$what"
	ok "$what"
}

ver="$(sed -n 's/^const Default = "\(.*\)"$/\1/p' "$root/internal/version/version.go" | head -1)"
image="docker.io/library/sidequeue:$ver"
ctr_ images ls -q | grep -qx "$image" || fail "$image is not imported (make image; hack/cluster/load.sh bin/image/*.tar)"

kubectl_ delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
kubectl_ create namespace "$ns" >/dev/null
kubectl_ label namespace "$ns" pod-security.kubernetes.io/enforce=restricted >/dev/null
trap 'kubectl_ delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true' EXIT
# The controller-manager makes a namespace's default ServiceAccount a moment
# after the namespace; until then the API server refuses pods there.
until_true "namespace $ns has its default ServiceAccount" 30 k get serviceaccount default

# What the restricted Pod Security Standard asks of every container.
sc='securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}'
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: lookupd, labels: {app: lookupd}}
spec:
  initContainers:
  - name: queued
    image: $image
    imagePullPolicy: Never
    restartPolicy: Always
    command: [queued, --data-path=/data, --lookupd-tcp-address=127.0.0.1:4160, --broadcast-address=sidecar]
    volumeMounts: [{name: data, mountPath: /data}]
    startupProbe: {tcpSocket: {port: 4150}, periodSeconds: 1}
    $sc
  containers:
  - name: lookupd
    image: $image
    imagePullPolicy: Never
    command: [lookupd]
    ports: [{containerPort: 4160}, {containerPort: 4161}]
    $sc
  volumes:
  - name: data
    ephemeral:
      volumeClaimTemplate:
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 64Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: lookupd}
spec:
  selector: {app: lookupd}
  ports: [{name: tcp, port: 4160}, {name: http, port: 4161}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers:
  - name: queued
    image: $image
    imagePullPolicy: Never
    command: [queued, --data-path=/tmp, --lookupd-tcp-address=lookupd.$ns.svc.cluster.local:4160, --broadcast-address=client]
    $sc
YAML

until_true "pod lookupd Ready (sidecar and app)" 120 jsonpath_is "" pod/lookupd '{.status.conditions[?(@.type=="Ready")].status}' True
jsonpath_is "" pod/lookupd '{.status.initContainerStatuses[0].started} {.status.initContainerStatuses[0].ready}' "true true" ||
	fail "native sidecar not started and ready"
ok "native sidecar queued started and ready beside app lookupd"
until_true "pod client Running" 60 jsonpath_is "" pod/client '{.status.phase}' Running

pvc="lookupd-data"
jsonpath_is "" "pvc/$pvc" '{.status.phase}' Bound || fail "ephemeral claim $pvc not Bound"
pv="$(k get pvc "$pvc" -o jsonpath='{.spec.volumeName}')"
[[ -d "$CLUSTER_DIR/volumes/$pv" ]] || fail "no directory for $pv under $CLUSTER_DIR/volumes"
ok "generic ephemeral volume $pvc bound to $pv ($(kubectl_ get pv "$pv" -o jsonpath='{.spec.storageClassName}'), $CLUSTER_DIR/volumes/$pv)"

# Service + DNS: the client's queued resolved lookupd.smoke.svc.cluster.local
# and registered; lookupd lists it (read through the API server's proxy).
nodes() { kubectl_ get --raw "/api/v1/namespaces/$ns/services/lookupd:http/proxy/nodes"; }
registered() { nodes | grep -q '"broadcast_address":"client"'; }
until_true "client registered with lookupd by its Service's DNS name" 60 registered
nodes | grep -q '"broadcast_address":"sidecar"' || fail "the sidecar did not register with lookupd on 127.0.0.1"
ok "the sidecar registered with lookupd over the pod's loopback"

out="$(k exec lookupd -c lookupd -- queued --version)" || fail "kubectl exec"
ok "kubectl exec: $out"
has_logs() { k logs client | grep -q .; }
wait_for "client's logs" 30 has_logs || fail "kubectl logs client printed nothing"
ok "kubectl logs: $(k logs client | head -1)"

# The ephemeral claim goes with its pod, and the provisioner removes its
# directory when the PV is deleted (reclaim Delete).
k delete pod lookupd --wait=true >/dev/null
gone() { ! kubectl_ get pv "$pv" >/dev/null 2>&1 && [[ ! -e "$CLUSTER_DIR/volumes/$pv" ]]; }
until_true "PV $pv and its directory deleted with the pod" 60 gone

kubectl_ delete namespace "$ns" --wait=true --timeout=120s >/dev/null || fail "namespace $ns not deleted"
trap - EXIT
echo "smoke: done in $((SECONDS - start_time))s"
echo "smoke: $passed passed, 0 failed"
