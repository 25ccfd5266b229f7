{{/*
Names. The webhook configuration's name is fixed (sidequeue-injector, the
manager's and config/webhook's): it is cluster-scoped, so the chart is
installed once per cluster.
*/}}
{{- define "sidequeue.fullname" -}}
{{- .Values.fullnameOverride | default "sidequeue" | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "sidequeue.manager" -}}{{ include "sidequeue.fullname" . }}-manager{{- end -}}
{{- define "sidequeue.webhookService" -}}{{ include "sidequeue.fullname" . }}-webhook{{- end -}}
{{- define "sidequeue.metricsService" -}}{{ include "sidequeue.fullname" . }}-metrics{{- end -}}

{{- define "sidequeue.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "sidequeue.manager" .) -}}
{{- else -}}
{{- required "serviceAccount.name: name the existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sidequeue.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "sidequeue.labels" -}}
app.kubernetes.io/name: sidequeue
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The manager's pods. */}}
{{- define "sidequeue.selectorLabels" -}}
app.kubernetes.io/name: sidequeue
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end -}}

{{/*
The namespace the webhook never sends (with kube-system, kube-public and
kube-node-lease) and the only one the manager's Secret and Lease are in:
one value for both, the release's.
*/}}
{{- define "sidequeue.namespace" -}}{{ .Release.Namespace }}{{- end -}}

{{- define "sidequeue.certManager" -}}{{ eq .Values.webhook.certMode "cert-manager" }}{{- end -}}

{{/*
Contradictions the schema cannot see; every template includes this, so
the first render fails before anything is applied.
*/}}
{{- define "sidequeue.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail (printf "replicaCount is %d but leaderElection.enabled is false: replicas would reconcile at once; enable leader election or run one replica" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and .Values.podDisruptionBudget.enabled (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) -}}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below replicaCount (%d), or no node could ever be drained" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) -}}
{{- end -}}
{{- if and .Values.webhook.url (not (urlParse .Values.webhook.url).hostname) -}}
{{- fail (printf "webhook.url %q names no host" .Values.webhook.url) -}}
{{- end -}}
{{- end -}}
