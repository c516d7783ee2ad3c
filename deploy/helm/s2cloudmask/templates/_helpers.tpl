{{/*
Chart name, truncated to 63 characters (a DNS label).
*/}}
{{- define "s2cloudmask.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, with the chart name unless the release already holds it.
*/}}
{{- define "s2cloudmask.fullname" -}}
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
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "s2cloudmask.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "s2cloudmask.labels" -}}
helm.sh/chart: {{ include "s2cloudmask.chart" . }}
{{ include "s2cloudmask.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | toString | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: s2cloudmask
{{- end }}

{{/*
Selector labels (stable across upgrades).
*/}}
{{- define "s2cloudmask.selectorLabels" -}}
app.kubernetes.io/name: {{ include "s2cloudmask.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The service account's name.
*/}}
{{- define "s2cloudmask.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "s2cloudmask.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The container image (tag defaults to the chart's appVersion).
*/}}
{{- define "s2cloudmask.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{/*
The name of the cache PersistentVolumeClaim (an existing one, or the chart's).
*/}}
{{- define "s2cloudmask.cacheClaimName" -}}
{{- if .Values.cache.pvc.existingClaim }}
{{- .Values.cache.pvc.existingClaim }}
{{- else }}
{{- printf "%s-cache" (include "s2cloudmask.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Whether an extra model directory is mounted.
*/}}
{{- define "s2cloudmask.hasModels" -}}
{{- if or .Values.models.configMap .Values.models.volume }}true{{ end }}
{{- end }}
