{{/*
Names.
*/}}
{{- define "tunegate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A fully qualified app name, truncated to 63 characters (DNS label). A release name that already
contains the chart name is used as is.
*/}}
{{- define "tunegate.fullname" -}}
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

{{/* The name of one component's objects: <fullname>-<suffix>, kept within 63 characters. */}}
{{- define "tunegate.componentName" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "tunegate.fullname" $root | trunc (int (sub 62 (len $suffix)))) $suffix | trimSuffix "-" }}
{{- end }}

{{- define "tunegate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels. "tunegate.labels" takes the root context; the component variants take
(list $ "gateway") and add app.kubernetes.io/component.
*/}}
{{- define "tunegate.labels" -}}
helm.sh/chart: {{ include "tunegate.chart" . }}
{{ include "tunegate.selectorLabels" . }}
app.kubernetes.io/version: {{ regexReplaceAll "[^A-Za-z0-9._-]" (.Values.image.tag | default .Chart.AppVersion | toString) "_" | trunc 63 | trimSuffix "_" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tunegate
{{- end }}

{{- define "tunegate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tunegate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tunegate.componentLabels" -}}
{{- $root := index . 0 }}
{{- include "tunegate.labels" $root }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "tunegate.componentSelectorLabels" -}}
{{- $root := index . 0 }}
{{- include "tunegate.selectorLabels" $root }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "tunegate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tunegate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tunegate.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{/*
Modes.
*/}}

{{/* "true" when PostgreSQL is configured (a URL or an existing Secret), else "" (SQLite). */}}
{{- define "tunegate.postgres" -}}
{{- if or .Values.database.url .Values.database.existingSecret }}true{{ end }}
{{- end }}

{{/* The Secret and key holding the database URL. */}}
{{- define "tunegate.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- include "tunegate.componentName" (list . "database") }}
{{- end }}
{{- end }}

{{- define "tunegate.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey | default "url" }}
{{- else -}}
url
{{- end }}
{{- end }}

{{/*
Gateway replicas: 1 with SQLite (more fail in tunegate.validate), at least 2 with PostgreSQL.
*/}}
{{- define "tunegate.gatewayReplicas" -}}
{{- if include "tunegate.postgres" . }}
{{- max 2 (int .Values.gateway.replicas) }}
{{- else }}
{{- int .Values.gateway.replicas }}
{{- end }}
{{- end }}

{{/* The guard model's OpenAI-compatible base URL (…/v1), or "" when none is configured. */}}
{{- define "tunegate.guardUrl" -}}
{{- if .Values.guardModel.vllm.enabled }}
{{- printf "http://%s.%s.svc:%d/v1" (include "tunegate.componentName" (list . "guard")) .Release.Namespace (int .Values.guardModel.vllm.port) }}
{{- else if .Values.guardModel.externalUrl }}
{{- .Values.guardModel.externalUrl }}
{{- end }}
{{- end }}

{{/* The name the guard model is served under (policies' guard-model `model` option). */}}
{{- define "tunegate.guardModelName" -}}
{{- if .Values.guardModel.vllm.enabled }}
{{- .Values.guardModel.vllm.servedModelName | default .Values.guardModel.vllm.model }}
{{- else }}
{{- .Values.guardModel.model }}
{{- end }}
{{- end }}

{{/* An emptyDir source, with the size limit when one is given (flow style, one line). */}}
{{- define "tunegate.emptyDir" -}}
{{- if . }}{sizeLimit: {{ . }}}{{ else }}{}{{ end }}
{{- end }}

{{- define "tunegate.dataDir" -}}/var/lib/tunegate{{- end }}
{{- define "tunegate.spoolDir" -}}/var/lib/tunegate/spool{{- end }}
{{- define "tunegate.configDir" -}}/etc/tunegate{{- end }}
{{- define "tunegate.policyDir" -}}/etc/tunegate/policies{{- end }}

{{/*
tunegate.yaml: .Values.config with the chart-managed keys laid over it. The chart owns where
things live (listen address, data, spool and policy directories) and the database URL, which is
always a ${TUNEGATE_DATABASE_URL} reference to the Secret-backed environment variable.
*/}}
{{- define "tunegate.configYaml" -}}
{{- $config := deepCopy (.Values.config | default dict) }}
{{- $_ := unset $config "database_url" }}
{{- $managed := dict
  "host" "0.0.0.0"
  "port" 8080
  "data_dir" (include "tunegate.dataDir" .)
  "spool_dir" (include "tunegate.spoolDir" .)
  "policy_dir" (include "tunegate.policyDir" .)
}}
{{- if include "tunegate.postgres" . }}
{{- $_ := set $managed "database_url" "${TUNEGATE_DATABASE_URL}" }}
{{- end }}
{{- toYaml (mustMergeOverwrite $config $managed) }}
{{- end }}

{{/*
The policy files: the chart's files/policies/*.yaml (the project's default policy) unless
defaultPolicies is false, then .Values.policies (filename -> YAML text), which wins by name.
*/}}
{{- define "tunegate.policyFiles" -}}
{{- $files := dict }}
{{- if .Values.defaultPolicies }}
{{- range $path, $_ := .Files.Glob "files/policies/*.yaml" }}
{{- $_ := set $files (base $path) ($.Files.Get $path) }}
{{- end }}
{{- end }}
{{- range $name, $text := .Values.policies }}
{{- $_ := set $files $name $text }}
{{- end }}
{{- /* The guard model's URL and name are known here: write them into the policies' guard-model
       options, so that `${TUNEGATE_GUARD_URL}` works whether or not tunegate expands
       environment references in policy files. */}}
{{- $refs := dict "TUNEGATE_GUARD_URL" (include "tunegate.guardUrl" .) "TUNEGATE_GUARD_MODEL" (include "tunegate.guardModelName" .) }}
{{- range $name, $text := $files }}
{{- range $env, $value := $refs }}
{{- $ref := printf "${%s}" $env }}
{{- if contains $ref $text }}
{{- if not $value }}
{{- fail (printf "policy file %s uses %s, but no guard model is configured: set guardModel.vllm.enabled=true or guardModel.externalUrl (and guardModel.model)" $name $ref) }}
{{- end }}
{{- $text = replace $ref $value $text }}
{{- end }}
{{- end }}
{{- $_ := set $files $name $text }}
{{- end }}
{{- toYaml $files }}
{{- end }}

{{/*
Environment shared by the gateway, the worker and the migration step. Takes the root context.
*/}}
{{- define "tunegate.env" -}}
- name: TUNEGATE_CONFIG
  value: {{ printf "%s/tunegate.yaml" (include "tunegate.configDir" .) | quote }}
{{- if include "tunegate.postgres" . }}
- name: TUNEGATE_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tunegate.databaseSecretName" . }}
      key: {{ include "tunegate.databaseSecretKey" . }}
{{- end }}
{{- with .Values.config }}
{{- if and .trainer (hasKey .trainer "embedded") }}
{{- /* The image sets TUNEGATE_TRAINER__EMBEDDED=false, and the environment wins over the file. */}}
- name: TUNEGATE_TRAINER__EMBEDDED
  value: {{ .trainer.embedded | toString | quote }}
{{- end }}
{{- end }}
{{- with include "tunegate.guardUrl" . }}
- name: TUNEGATE_GUARD_URL
  value: {{ . | quote }}
{{- end }}
{{- with include "tunegate.guardModelName" . }}
- name: TUNEGATE_GUARD_MODEL
  value: {{ . | quote }}
{{- end }}
{{- range .Values.upstreamSecrets }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
- name: HOME
  value: /tmp
- name: XDG_CACHE_HOME
  value: /tmp/.cache
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The volume mounts shared by the gateway and the worker. */}}
{{- define "tunegate.volumeMounts" -}}
- name: config
  mountPath: {{ printf "%s/tunegate.yaml" (include "tunegate.configDir" .) }}
  subPath: tunegate.yaml
  readOnly: true
{{- /* No subPath: the kubelet swaps the files in place when the ConfigMap changes and
       tunegate's policy watcher reloads them (policy_reload_interval). */}}
- name: policies
  mountPath: {{ include "tunegate.policyDir" . }}
  readOnly: true
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ include "tunegate.dataDir" . }}
{{- if .Values.spool.persistence.enabled }}
- name: spool
  mountPath: {{ include "tunegate.spoolDir" . }}
{{- end }}
{{- end }}

{{- define "tunegate.volumes" -}}
- name: config
  configMap:
    name: {{ include "tunegate.componentName" (list . "config") }}
- name: policies
  configMap:
    name: {{ include "tunegate.componentName" (list . "policies") }}
- name: tmp
  emptyDir: {{ include "tunegate.emptyDir" .Values.tmpSizeLimit }}
{{- end }}

{{/* The data directory: the SQLite PVC when persistence is on, else an emptyDir. */}}
{{- define "tunegate.dataVolume" -}}
- name: data
{{- if and .Values.persistence.enabled (not (include "tunegate.postgres" .)) }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim | default (include "tunegate.componentName" (list . "data")) }}
{{- else }}
  emptyDir: {{ include "tunegate.emptyDir" .Values.persistence.emptyDirSizeLimit }}
{{- end }}
{{- end }}

{{- define "tunegate.spoolVolume" -}}
{{- if .Values.spool.persistence.enabled }}
- name: spool
  persistentVolumeClaim:
    claimName: {{ .Values.spool.persistence.existingClaim | default (include "tunegate.componentName" (list . "spool")) }}
{{- end }}
{{- end }}

{{/*
Checks that no values schema can express. Included by the gateway Deployment, so every render
runs them; each fails with the fix in its message.
*/}}
{{- define "tunegate.validate" -}}
{{- $postgres := include "tunegate.postgres" . }}
{{- if and .Values.database.url .Values.database.existingSecret }}
{{- fail "database: set either database.url or database.existingSecret, not both" }}
{{- end }}
{{- if not $postgres }}
{{- if gt (int .Values.gateway.replicas) 1 }}
{{- fail (printf "gateway.replicas=%d needs PostgreSQL: SQLite keeps the database in one pod's volume, so it supports exactly 1 replica. Set database.existingSecret (or database.url), or set gateway.replicas=1." (int .Values.gateway.replicas)) }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- fail "autoscaling.enabled needs PostgreSQL: SQLite supports exactly 1 gateway replica. Set database.existingSecret (or database.url), or set autoscaling.enabled=false." }}
{{- end }}
{{- if .Values.worker.enabled }}
{{- fail "worker.enabled needs PostgreSQL: the worker Deployment's pods cannot share the gateway's SQLite file. Set database.existingSecret (or database.url), or set worker.enabled=false." }}
{{- end }}
{{- if eq .Values.migrations.strategy "hook" }}
{{- fail "migrations.strategy=hook needs PostgreSQL: a hook Job cannot reach the SQLite file in the gateway pod's volume. Use migrations.strategy=auto or initContainer." }}
{{- end }}
{{- else }}
{{- if not .Values.spool.persistence.enabled }}
{{- fail "PostgreSQL mode runs 2 or more gateway pods (and worker pods), and any of them may process a file another one received: they must share the upload spool. Set spool.persistence.enabled=true with a ReadWriteMany storageClass or spool.persistence.existingClaim." }}
{{- end }}
{{- if and .Values.config .Values.config.trainer .Values.config.trainer.embedded }}
{{- fail "config.trainer.embedded=true runs the reference trainer inside each gateway pod, which only works with a single SQLite replica. With PostgreSQL set config.trainer.embedded=false and configure config.upstreams and config.routes." }}
{{- end }}
{{- end }}
{{- if and .Values.guardModel.vllm.enabled .Values.guardModel.externalUrl }}
{{- fail "guardModel: set either guardModel.vllm.enabled or guardModel.externalUrl, not both" }}
{{- end }}
{{- if and (not .Values.defaultPolicies) (not .Values.policies) }}
{{- fail "no policies: set defaultPolicies=true or give at least one file in policies" }}
{{- end }}
{{- /* Every ${NAME} in tunegate.yaml must be an environment variable the pods get. */}}
{{- $envs := list "TUNEGATE_DATABASE_URL" }}
{{- if include "tunegate.guardUrl" . }}{{ $envs = append $envs "TUNEGATE_GUARD_URL" }}{{ end }}
{{- if include "tunegate.guardModelName" . }}{{ $envs = append $envs "TUNEGATE_GUARD_MODEL" }}{{ end }}
{{- range .Values.upstreamSecrets }}{{ $envs = append $envs .env }}{{ end }}
{{- range .Values.extraEnv }}{{ $envs = append $envs .name }}{{ end }}
{{- range regexFindAll "\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}" (toYaml (.Values.config | default dict)) -1 }}
{{- $name := trimSuffix "}" (trimPrefix "${" .) }}
{{- if not (has $name $envs) }}
{{- fail (printf "config references ${%s}, but no environment variable %s is set: add {name: <secret>, key: <key>, env: %s} to upstreamSecrets (or an extraEnv entry)" $name $name $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by tunegate's pods. */}}
{{- define "tunegate.podCommon" -}}
serviceAccountName: {{ include "tunegate.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
{{- /* Service links would inject TUNEGATE_PORT=tcp://… for a Service named "tunegate", which
       tunegate reads as its `port` setting and rejects. */}}
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* How `tunegate migrate` runs: "hook", "initContainer" or "" (migrations.enabled=false). */}}
{{- define "tunegate.migrateMode" -}}
{{- if .Values.migrations.enabled }}
{{- if eq .Values.migrations.strategy "auto" }}
{{- if include "tunegate.postgres" . }}hook{{ else }}initContainer{{ end }}
{{- else }}
{{- .Values.migrations.strategy }}
{{- end }}
{{- end }}
{{- end }}
