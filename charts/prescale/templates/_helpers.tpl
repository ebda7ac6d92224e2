{{/* Names. Cluster-scoped objects are named after operator.name, as KEDA's chart does, so installing next to a
     KEDA release that uses the same name fails instead of fighting over the same objects. */}}
{{- define "prescale.operatorName" -}}
{{- .Values.operator.name | default "prescale-operator" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prescale.metricsServiceName" -}}
{{- printf "%s-metrics-apiserver" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prescale.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Service account: KEDA's older flat keys (serviceAccount.create / .name / .annotations) win over the
     per-component ones (serviceAccount.operator.*) when they are set. */}}
{{- define "prescale.serviceAccountName" -}}
{{- $sa := .Values.serviceAccount | default dict -}}
{{- if and (hasKey $sa "name") $sa.name -}}
{{- $sa.name -}}
{{- else -}}
{{- ($sa.operator | default dict).name | default (include "prescale.operatorName" .) -}}
{{- end -}}
{{- end -}}

{{- define "prescale.createServiceAccount" -}}
{{- $sa := .Values.serviceAccount | default dict -}}
{{- $create := true -}}
{{- if hasKey $sa "create" -}}
{{- $create = $sa.create -}}
{{- else if hasKey ($sa.operator | default dict) "create" -}}
{{- $create = $sa.operator.create -}}
{{- end -}}
{{- if $create }}true{{ end -}}
{{- end -}}

{{/* A per-component map (KEDA's newer layout, e.g. podSecurityContext.operator) with KEDA's older flat keys at
     the top of the same value merged over it. */}}
{{- define "prescale.componentMap" -}}
{{- $all := .value | default dict -}}
{{- $merged := deepCopy ((get $all "operator") | default dict) -}}
{{- $flat := omit $all "operator" "metricServer" "metricsServer" "webhooks" -}}
{{- $merged = mergeOverwrite $merged (deepCopy $flat) -}}
{{- if $merged }}{{ toYaml $merged }}{{ end -}}
{{- end -}}

{{- define "prescale.resources" -}}
{{- $r := .Values.resources | default dict -}}
{{- if or (hasKey $r "limits") (hasKey $r "requests") -}}
{{- toYaml (pick $r "limits" "requests") -}}
{{- else if $r.operator -}}
{{- toYaml $r.operator -}}
{{- end -}}
{{- end -}}

{{- define "prescale.image" -}}
{{- $registry := .Values.image.keda.registry -}}
{{- if and .Values.global .Values.global.image .Values.global.image.registry -}}
{{- $registry = .Values.global.image.registry -}}
{{- end -}}
{{- $tag := .Values.image.keda.tag | default .Chart.AppVersion -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .Values.image.keda.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.keda.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "prescale.logFormat" -}}
{{- $f := .Values.logging.operator.format | default "json" | toString -}}
{{- if eq $f "console" -}}text
{{- else if has $f (list "json" "text") -}}{{ $f }}
{{- else -}}{{ fail (printf "logging.operator.format %q: use json, text or console" $f) }}
{{- end -}}
{{- end -}}

{{- define "prescale.logLevel" -}}
{{- $l := .Values.logging.operator.level | default "info" | toString -}}
{{- if has $l (list "error" "warn" "info" "debug" "trace") -}}{{ $l }}
{{- else -}}{{ fail (printf "logging.operator.level %q: use error, warn, info, debug or trace (KEDA's numeric levels are not supported)" $l) }}
{{- end -}}
{{- end -}}

{{- define "prescale.selectorLabels" -}}
app.kubernetes.io/name: {{ include "prescale.operatorName" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "prescale.labels" -}}
helm.sh/chart: {{ include "prescale.chart" . }}
app.kubernetes.io/part-of: prescale
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- with .Values.additionalLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* `annotations:` with additionalAnnotations, or nothing; call sites: {{- with include "prescale.annotations" . }} */}}
{{- define "prescale.annotations" -}}
{{- with .Values.additionalAnnotations -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end -}}
{{- end -}}
