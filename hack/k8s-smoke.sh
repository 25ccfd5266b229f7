#!/usr/bin/env bash
# Smoke test for bin/k8s (hack/build-k8s.sh): starts etcd and kube-apiserver
# the way envtest does, on free 127.0.0.1 ports in a temporary directory,
# waits for /readyz, lists namespaces with kubectl, and tears everything down.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${KUBEBUILDER_ASSETS:-$root/bin/k8s}"
for b in etcd kube-apiserver kubectl; do
	[[ -x "$bin/$b" ]] || { echo "smoke: $bin/$b missing; run make k8s-bin" >&2; exit 1; }
done

dir="$(mktemp -d)"
pids=()
# Stop the API server before etcd (newest first); SIGKILL what is still up
# after 10s.
cleanup() {
	local i pid
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid="${pids[i]}"
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
etcd_client="$(free_port)"
etcd_peer="$(free_port)"
api_port="$(free_port)"

"$bin/etcd" --data-dir "$dir/etcd" \
	--listen-client-urls "http://127.0.0.1:$etcd_client" \
	--advertise-client-urls "http://127.0.0.1:$etcd_client" \
	--listen-peer-urls "http://127.0.0.1:$etcd_peer" \
	--initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
	--initial-cluster "default=http://127.0.0.1:$etcd_peer" \
	--unsafe-no-fsync >"$dir/etcd.log" 2>&1 &
pids+=($!)

openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
token="smoke-$RANDOM$RANDOM"
echo "$token,smoke-admin,smoke-admin,system:masters" >"$dir/tokens.csv"

"$bin/kube-apiserver" \
	--etcd-servers "http://127.0.0.1:$etcd_client" \
	--cert-dir "$dir/certs" \
	--bind-address 127.0.0.1 --secure-port "$api_port" \
	--service-account-issuer "https://127.0.0.1:$api_port/" \
	--service-account-key-file "$dir/sa.key" \
	--service-account-signing-key-file "$dir/sa.key" \
	--token-auth-file "$dir/tokens.csv" \
	--authorization-mode RBAC \
	--service-cluster-ip-range 10.0.0.0/24 \
	--disable-admission-plugins ServiceAccount \
	--allow-privileged=true >"$dir/apiserver.log" 2>&1 &
pids+=($!)

start=$SECONDS
until curl -skf -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" >/dev/null; do
	if ((SECONDS - start > 60)); then
		echo "smoke: /readyz not ready after 60s" >&2
		tail -20 "$dir/etcd.log" "$dir/apiserver.log" >&2
		exit 1
	fi
	sleep 0.5
done
echo "smoke: /readyz ok after $((SECONDS - start))s on 127.0.0.1:$api_port"

"$bin/kubectl" --server "https://127.0.0.1:$api_port" --insecure-skip-tls-verify \
	--token "$token" get namespaces
"$bin/kubectl" --server "https://127.0.0.1:$api_port" --insecure-skip-tls-verify \
	--token "$token" version
