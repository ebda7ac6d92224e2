#!/usr/bin/env bash
# End-to-end run of prescale on a local cluster, for machines with a Docker engine (this project's CI has none, so
# it only checks this script with bash -n and shellcheck).
#
#   scripts/e2e-kind.sh                  kind cluster, Helm install if helm is on PATH, else kubectl apply -k deploy/
#   E2E_CLUSTER=k3d scripts/e2e-kind.sh  the same on k3d
#   E2E_INSTALL=kustomize ...            force kubectl apply -k deploy/
#   E2E_KEEP=1 ...                       keep the cluster afterwards (default: delete it if this script created it)
#
# Steps: create the cluster; build the image from the Dockerfile and load it into the cluster; install prescale in
# namespace keda; deploy Prometheus (scraping itself) and a ho11y-like target Deployment `downstream0` in namespace
# ho11y; apply a ScaledObject `ho11y-hpa` shaped like the reference architecture's (threshold 1, 1..10 replicas,
# fallback 3 -> 2) whose query is a rate Prometheus always has; then wait for the HPA keda-hpa-ho11y-hpa and for
# its external metric to be served by /apis/external.metrics.k8s.io; send about 300 requests (as the reference
# walkthrough does) and wait for the HPA to ask for more than one replica.
#
# Needs: docker, kubectl, kind (or k3d); helm optional. Network access to pull the Prometheus, pause and curl images.
set -euo pipefail
cd "$(dirname "$0")/.."

cluster_tool="${E2E_CLUSTER:-kind}"
cluster_name="${E2E_CLUSTER_NAME:-prescale-e2e}"
install_mode="${E2E_INSTALL:-auto}"
image_repo="ghcr.io/prescale/prescale"
image_tag="${E2E_IMAGE_TAG:-e2e}"
image="$image_repo:$image_tag"
prometheus_image="${E2E_PROMETHEUS_IMAGE:-quay.io/prometheus/prometheus:v3.5.0}"
pause_image="${E2E_PAUSE_IMAGE:-registry.k8s.io/pause:3.10}"
curl_image="${E2E_CURL_IMAGE:-curlimages/curl:8.11.1}"
timeout_s="${E2E_TIMEOUT:-300}"
created_cluster=0

log() { printf '== %s\n' "$*"; }
die() {
  printf 'e2e: %s\n' "$*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed"; }

# wait_for DESCRIPTION COMMAND...: runs COMMAND every 5 s until it succeeds or $timeout_s passes.
wait_for() {
  local what="$1"
  shift
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "timed out after ${timeout_s}s waiting for $what"
    fi
    sleep 5
  done
  log "$what: ok"
}

cleanup() {
  local status=$?
  if ((status != 0)); then
    printf 'e2e failed; operator logs:\n' >&2
    kubectl -n keda logs deployment/prescale-operator --tail=100 >&2 2>/dev/null || true
    kubectl -n keda logs deployment/keda-operator --tail=100 >&2 2>/dev/null || true
  fi
  if ((created_cluster == 1)) && [ "${E2E_KEEP:-0}" != 1 ]; then
    log "deleting cluster $cluster_name"
    case "$cluster_tool" in
      kind) kind delete cluster --name "$cluster_name" || true ;;
      k3d) k3d cluster delete "$cluster_name" || true ;;
    esac
  fi
  exit "$status"
}
trap cleanup EXIT

need docker
need kubectl
docker info >/dev/null 2>&1 || die "no Docker engine reachable (docker info failed)"

log "cluster ($cluster_tool, $cluster_name)"
case "$cluster_tool" in
  kind)
    need kind
    if ! kind get clusters 2>/dev/null | grep -qx "$cluster_name"; then
      kind create cluster --name "$cluster_name" --wait 120s
      created_cluster=1
    fi
    kubectl config use-context "kind-$cluster_name"
    ;;
  k3d)
    need k3d
    if ! k3d cluster list "$cluster_name" >/dev/null 2>&1; then
      # k3s ships its own metrics-server; prescale only serves external.metrics.k8s.io, so they do not collide.
      k3d cluster create "$cluster_name" --wait
      created_cluster=1
    fi
    kubectl config use-context "k3d-$cluster_name"
    ;;
  *) die "E2E_CLUSTER must be kind or k3d, not $cluster_tool" ;;
esac

log "image $image"
docker build -t "$image" .
case "$cluster_tool" in
  kind) kind load docker-image "$image" --name "$cluster_name" ;;
  k3d) k3d image import "$image" --cluster "$cluster_name" ;;
esac

if [ "$install_mode" = auto ]; then
  if command -v helm >/dev/null 2>&1; then install_mode=helm; else install_mode=kustomize; fi
fi
log "install prescale ($install_mode)"
case "$install_mode" in
  helm)
    helm upgrade --install prescale charts/prescale --namespace keda --create-namespace \
      --set image.keda.registry=ghcr.io --set image.keda.repository=prescale/prescale \
      --set image.keda.tag="$image_tag" --set image.pullPolicy=IfNotPresent --wait --timeout "${timeout_s}s"
    ;;
  kustomize)
    kubectl apply --server-side -k deploy/
    kubectl -n keda set image deployment/prescale-operator prescale-operator="$image"
    ;;
  *) die "E2E_INSTALL must be auto, helm or kustomize, not $install_mode" ;;
esac
kubectl -n keda rollout status deployment/prescale-operator --timeout "${timeout_s}s"
kubectl wait --for=condition=Available apiservice/v1beta1.external.metrics.k8s.io --timeout "${timeout_s}s"

log "Prometheus (namespace monitoring) and the target Deployment downstream0 (namespace ho11y)"
kubectl apply -f - <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: monitoring
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: prometheus
  namespace: monitoring
data:
  prometheus.yml: |
    global:
      scrape_interval: 5s
    scrape_configs:
      - job_name: prometheus
        static_configs:
          - targets: ["localhost:9090"]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: prometheus
  namespace: monitoring
spec:
  replicas: 1
  selector:
    matchLabels: {app: prometheus}
  template:
    metadata:
      labels: {app: prometheus}
    spec:
      containers:
        - name: prometheus
          image: $prometheus_image
          args: ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
          ports:
            - containerPort: 9090
          volumeMounts:
            - {name: config, mountPath: /etc/prometheus}
            - {name: data, mountPath: /prometheus}
      volumes:
        - name: config
          configMap: {name: prometheus}
        - name: data
          emptyDir: {}
---
apiVersion: v1
kind: Service
metadata:
  name: prometheus
  namespace: monitoring
spec:
  selector: {app: prometheus}
  ports:
    - {port: 9090, targetPort: 9090}
---
apiVersion: v1
kind: Namespace
metadata:
  name: ho11y
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: downstream0
  namespace: ho11y
spec:
  replicas: 1
  selector:
    matchLabels: {app: downstream0}
  template:
    metadata:
      labels: {app: downstream0}
    spec:
      containers:
        - name: ho11y
          image: $pause_image
EOF
kubectl -n monitoring rollout status deployment/prometheus --timeout "${timeout_s}s"
kubectl -n ho11y rollout status deployment/downstream0 --timeout "${timeout_s}s"

log "ScaledObject ho11y/ho11y-hpa"
# The reference's ScaledObject reads rate(ho11y_total[1m]) from Amazon Managed Prometheus through a SigV4 proxy;
# here the same shape reads the request rate of the local Prometheus, which the load step below drives.
kubectl apply -f - <<'EOF'
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: ho11y-hpa
  namespace: ho11y
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: downstream0
  pollingInterval: 10
  cooldownPeriod: 60
  fallback:
    failureThreshold: 3
    replicas: 2
  minReplicaCount: 1
  maxReplicaCount: 10
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc.cluster.local:9090
        threshold: "1"
        query: sum(rate(prometheus_http_requests_total{handler="/api/v1/status/buildinfo"}[1m])) or vector(0)
EOF

hpa=keda-hpa-ho11y-hpa
wait_for "HPA ho11y/$hpa" kubectl -n ho11y get hpa "$hpa"
metric=$(kubectl -n ho11y get hpa "$hpa" -o jsonpath='{.spec.metrics[0].external.metric.name}')
selector=$(kubectl -n ho11y get hpa "$hpa" \
  -o jsonpath='{range .spec.metrics[0].external.metric.selector.matchLabels.*}{@}{end}')
[ -n "$metric" ] || die "HPA $hpa has no external metric"
[ "$selector" = ho11y-hpa ] || die "HPA $hpa metric selector is '$selector', expected scaledobject.keda.sh/name=ho11y-hpa"
raw="/apis/external.metrics.k8s.io/v1beta1/namespaces/ho11y/$metric?labelSelector=scaledobject.keda.sh%2Fname%3Dho11y-hpa"
log "external metric $metric"
metric_served() { kubectl get --raw "$raw" | grep -q '"value"'; }
wait_for "external metric $metric served" metric_served
kubectl get --raw "$raw"
echo

log "load: 300 requests to Prometheus, then the HPA must want more than one replica"
# shellcheck disable=SC2016 # the loop runs in the pod's shell
kubectl -n monitoring run e2e-load --rm -i --restart=Never --image "$curl_image" --command -- \
  sh -c 'i=0; while [ $i -lt 300 ]; do curl -s -o /dev/null http://prometheus:9090/api/v1/status/buildinfo; i=$((i+1)); done'
scaled_up() {
  local desired
  desired=$(kubectl -n ho11y get hpa "$hpa" -o jsonpath='{.status.desiredReplicas}')
  [ "${desired:-0}" -gt 1 ]
}
wait_for "HPA $hpa above one replica" scaled_up
kubectl -n ho11y get hpa "$hpa"
kubectl -n ho11y get scaledobject ho11y-hpa
log "e2e passed"
