#!/usr/bin/env bash
# certs.sh DIR NODE_IP NODE_NAME API_SERVICE_IP: the dev cluster's PKI in
# DIR, made with openssl, each file only when missing (so up.sh can run
# again without new certificates for running components):
#   ca            signs everything; the API server and kubelet trust it
#   apiserver     serving: 127.0.0.1, the node's address, the kubernetes
#                 Service's IP and names (remade when the address changes)
#   admin         O=system:masters (the kubeconfig up.sh leaves)
#   controller-manager, scheduler, kube-proxy, kubelet: the users RBAC's
#                 bootstrap roles and the Node authorizer expect
#   apiserver-kubelet-client: the API server's client to kubelets (logs, exec)
#   sa            the ServiceAccount token signing key pair
set -euo pipefail
dir="$1" ip="$2" node="$3" svc="$4"
mkdir -p "$dir"
cd "$dir"

if [[ ! -f ca.crt ]]; then
	openssl req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 3650 \
		-subj "/CN=sidequeue-dev-ca" 2>/dev/null
fi

# cert NAME SUBJECT USAGE [SANS]: a certificate signed by the CA.
cert() {
	local name="$1" subj="$2" usage="$3" sans="${4:-}"
	[[ -f "$name.crt" ]] && return 0
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		echo "extendedKeyUsage=$usage"
		[[ -z "$sans" ]] || echo "subjectAltName=$sans"
	} >"$name.ext"
	openssl req -new -nodes -newkey rsa:2048 -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile "$name.ext" -out "$name.crt" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
}

sans="IP:127.0.0.1,IP:$ip,IP:$svc,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
# A machine whose address changed needs a new serving certificate.
if [[ "$(cat apiserver.sans 2>/dev/null)" != "$sans" ]]; then
	rm -f apiserver.crt
	echo "$sans" >apiserver.sans
fi
cert apiserver "/CN=kube-apiserver" serverAuth "$sans"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$node" clientAuth

if [[ ! -f sa.key ]]; then
	openssl genrsa -out sa.key 2048 2>/dev/null
	openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi
chmod 600 ./*.key
