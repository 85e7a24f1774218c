{{/*
Expand the name of the chart.
*/}}
{{- define "txclassify.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name (63 characters at most: some name fields are limited to
this by the DNS naming spec). If the release name contains the chart name it is used as the full name.
*/}}
{{- define "txclassify.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version as used by the chart label.
*/}}
{{- define "txclassify.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels, without the selector ones (used by pods that must NOT match the server's selector:
the helm test pod and the bulk-scoring Job, which would otherwise join the Service, the PDB and the
HPA's pod metrics).
*/}}
{{- define "txclassify.commonLabels" -}}
helm.sh/chart: {{ include "txclassify.chart" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: txclassify
{{- end }}

{{/*
Labels of the server's resources.
*/}}
{{- define "txclassify.labels" -}}
{{ include "txclassify.selectorLabels" . }}
{{ include "txclassify.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Selector labels: name + instance only, so that they never change across upgrades.
*/}}
{{- define "txclassify.selectorLabels" -}}
app.kubernetes.io/name: {{ include "txclassify.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount to use.
*/}}
{{- define "txclassify.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "txclassify.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: the digest wins over the tag.
*/}}
{{- define "txclassify.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The served bundle: directory name and path inside the image.
*/}}
{{- define "txclassify.bundle" -}}
{{- printf "%s-%s" .Values.model.name .Values.model.version }}
{{- end }}

{{- define "txclassify.modelDir" -}}
{{- printf "%s/%s" (trimSuffix "/" .Values.model.modelsDir) (include "txclassify.bundle" .) }}
{{- end }}

{{/*
Is an autoscaler (HPA or KEDA) managing the replica count?
*/}}
{{- define "txclassify.autoscaled" -}}
{{- if or .Values.autoscaling.enabled .Values.keda.enabled }}true{{- end }}
{{- end }}

{{/*
Target mean queue wait in seconds, as a plain decimal string (KEDA threshold).
*/}}
{{- define "txclassify.targetQueueWaitSeconds" -}}
{{- divf .Values.autoscaling.targetQueueWaitMilliseconds 1000.0 | toString }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the grace period starts before preStop, so it must cover the preStop
sleep, the server's graceful drain and a margin for the lifespan shutdown.
*/}}
{{- define "txclassify.terminationGracePeriodSeconds" -}}
{{- add .Values.server.preStopSleepSeconds .Values.server.gracefulTimeoutSeconds .Values.server.terminationMarginSeconds }}
{{- end }}

{{/*
Values checks a JSON schema cannot express.
*/}}
{{- define "txclassify.validate" -}}
{{- if lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas) }}
{{- fail "autoscaling.maxReplicas must be >= autoscaling.minReplicas" }}
{{- end }}
{{- if ne (mod (int .Values.server.cpus) (int .Values.server.intraOpThreads)) 0 }}
{{- fail (printf "server.cpus (%v) must be a multiple of server.intraOpThreads (%v): the pod runs cpus / intraOpThreads batches at once" .Values.server.cpus .Values.server.intraOpThreads) }}
{{- end }}
{{- if and .Values.autoscaling.enabled .Values.keda.enabled }}
{{- fail "autoscaling.enabled and keda.enabled are mutually exclusive: a ScaledObject creates its own HPA" }}
{{- end }}
{{- end }}

{{/*
Container env shared by the server, the bulk-scoring Job and nothing else.
*/}}
{{- define "txclassify.env" -}}
- name: TXC_MODEL_DIR
  value: {{ include "txclassify.modelDir" . | quote }}
- name: TXC_INTRA_OP_THREADS
  value: {{ .Values.server.intraOpThreads | quote }}
- name: TXC_ENGINE_LANES
  value: {{ div (int .Values.server.cpus) (int .Values.server.intraOpThreads) | quote }}
- name: TXC_LOG_LEVEL
  value: {{ .Values.server.logLevel | quote }}
{{- if .Values.feedback.enabled }}
- name: TXC_FEEDBACK_DSN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.feedback.existingSecret | quote }}
      key: {{ .Values.feedback.existingSecretKey | quote }}
{{- end }}
{{- if .Values.shadow.version }}
- name: TXC_SHADOW_MODEL_DIR
  value: {{ printf "%s/%s-%s" (trimSuffix "/" .Values.model.modelsDir) .Values.model.name .Values.shadow.version | quote }}
{{- end }}
{{- range $key, $value := .Values.server.env }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
Resources: CPU requests = limits = server.cpus (engine lanes x ONNX Runtime threads per batch).
*/}}
{{- define "txclassify.resources" -}}
requests:
  cpu: {{ .Values.server.cpus | quote }}
  memory: {{ .Values.resources.memory | quote }}
  ephemeral-storage: {{ .Values.resources.ephemeralStorage | quote }}
limits:
  cpu: {{ .Values.server.cpus | quote }}
  memory: {{ .Values.resources.memory | quote }}
  ephemeral-storage: {{ .Values.resources.ephemeralStorage | quote }}
{{- end }}

{{/*
Per-pod metric names served by prometheus-adapter (deploy/prometheus-adapter/values.yaml). The
queue-wait one is the service's histogram name itself (service/metrics.py), its mean per pod.
*/}}
{{- define "txclassify.metric.queueWait" -}}txclassify_queue_wait_seconds{{- end }}
{{- define "txclassify.metric.pendingItems" -}}txclassify_queued_and_inflight_items{{- end }}

{{/*
API-key authentication (values `auth`). The key file's directory and path inside the pods; the
Secret holding it (the user's existingSecret, or the one templates/secret.yaml creates) and its key.
*/}}
{{- define "txclassify.apiKeysDir" -}}/etc/txclassify/secrets{{- end }}
{{- define "txclassify.apiKeysPath" -}}{{ include "txclassify.apiKeysDir" . }}/api-keys{{- end }}

{{- define "txclassify.apiKeysSecretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else }}
{{- printf "%s-api-keys" (include "txclassify.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}
{{- end }}

{{- define "txclassify.apiKeysSecretKey" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecretKey }}
{{- else -}}
api-keys
{{- end }}
{{- end }}

{{/*
Content of the chart-created key file: one key per line. The Secret stores it and the pod annotation
checksum/api-keys hashes it, so a key change rolls the pods (the server reads the file at start-up).
*/}}
{{- define "txclassify.apiKeysFile" -}}
{{- printf "%s\n" (join "\n" .Values.auth.apiKeys) }}
{{- end }}

{{/*
The key-file volume, its mount and the env that points the container at it; server and test pod share
them. Mode 0440: root-owned, group fsGroup (podSecurityContext), so the non-root user reads it and
nobody writes it.
*/}}
{{- define "txclassify.apiKeysVolume" -}}
- name: api-keys
  secret:
    secretName: {{ include "txclassify.apiKeysSecretName" . }}
    optional: false
    defaultMode: 0440
    items:
      - key: {{ include "txclassify.apiKeysSecretKey" . }}
        path: api-keys
{{- end }}

{{- define "txclassify.apiKeysMount" -}}
- name: api-keys
  mountPath: {{ include "txclassify.apiKeysDir" . }}
  readOnly: true
{{- end }}

{{- define "txclassify.apiKeysEnv" -}}
- name: TXC_API_KEYS_FILE
  value: {{ include "txclassify.apiKeysPath" . | quote }}
{{- end }}
