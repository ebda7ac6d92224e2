//! `prescale operator`: the Kubernetes operator (flags → settings; the work is in `prescale-operator`).

use std::sync::Arc;
use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum};
use prescale_operator::clock::SystemClock;
use prescale_operator::context::{Context, OperatorConfig};
use prescale_operator::leader::LeaseRef;
use prescale_operator::lease::ElectionConfig;
use prescale_operator::run::{Leadership, Servers, run_all};
use prescale_scalers::ScalerContext;
use tokio::sync::watch;
use tracing::{error, info};

/// Run the Kubernetes operator: KEDA's ScaledObject controller, scale loops and external metrics API in one
/// process.
#[derive(Args, Debug)]
pub struct OperatorArgs {
    /// The operator's own namespace: ClusterTriggerAuthentication Secrets and ConfigMaps, the Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "keda")]
    pub namespace: String,
    /// Only watch ScaledObjects in this namespace ("" = all namespaces).
    #[arg(long, env = "WATCH_NAMESPACE", default_value = "")]
    pub watch_namespace: String,
    /// Elect a leader through a coordination.k8s.io Lease; only the leader scales.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    /// The Lease's name.
    #[arg(long, default_value = "prescale-operator")]
    pub lease_name: String,
    /// How long a Lease is valid without renewal (e.g. 15s).
    #[arg(long, default_value = "15s", value_parser = prescale_core::duration::parse_positive)]
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it steps down (e.g. 10s).
    #[arg(long, default_value = "10s", value_parser = prescale_core::duration::parse_positive)]
    pub renew_deadline: Duration,
    /// The pause between election attempts (e.g. 2s).
    #[arg(long, default_value = "2s", value_parser = prescale_core::duration::parse_positive)]
    pub retry_period: Duration,
    /// Address of /metrics (plain HTTP; ":8080" = every interface, port 8080).
    #[arg(long, default_value = ":8080")]
    pub metrics_bind_address: String,
    /// Address of /healthz and /readyz (plain HTTP).
    #[arg(long, default_value = ":8081")]
    pub health_probe_bind_address: String,
    /// Address of the external.metrics.k8s.io API (TLS).
    #[arg(long, default_value = ":6443")]
    pub metrics_server_bind_address: String,
    /// Directory with tls.crt and tls.key for the external metrics API; when absent a self-signed certificate
    /// for the Service's DNS names is generated at start.
    #[arg(long, default_value = "/certs")]
    pub cert_dir: std::path::PathBuf,
    /// The Service in front of the external metrics API (names of a generated certificate).
    #[arg(long, default_value = "prescale-metrics-apiserver")]
    pub metrics_service_name: String,
    /// NAMESPACE/NAME of the ConfigMap holding the front-proxy (requestheader) CA.
    #[arg(long, default_value = "kube-system/extension-apiserver-authentication")]
    pub client_ca_configmap: String,
    /// Accept external metrics requests without a front-proxy client certificate (local testing only).
    #[arg(long)]
    pub insecure_skip_front_proxy_auth: bool,
    /// ScaledObject reconciles running at once (KEDA's KEDA_SCALEDOBJECT_CTRL_MAX_RECONCILES).
    #[arg(long, env = "KEDA_SCALEDOBJECT_CTRL_MAX_RECONCILES", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_reconciles: u16,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, default_value = "info", value_parser = parse_level)]
    pub log_level: tracing::Level,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

fn parse_level(s: &str) -> Result<tracing::Level, String> {
    s.parse::<tracing::Level>()
        .map_err(|_| format!("invalid log level {s:?} (use error, warn, info, debug or trace)"))
}

fn init_logging(args: &OperatorArgs) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(args.log_level)
        .with_writer(std::io::stderr)
        .with_target(false);
    match args.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// This replica's identity: the pod name (HOSTNAME in a pod), else a random-enough fallback.
fn identity() -> String {
    std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("prescale-{}", std::process::id()))
}

/// Runs the subcommand; returns the exit code.
pub fn run(args: &OperatorArgs) -> u8 {
    init_logging(args);
    let identity = identity();
    let election = ElectionConfig {
        identity: identity.clone(),
        lease_duration: args.lease_duration,
        renew_deadline: args.renew_deadline,
        retry_period: args.retry_period,
    };
    if args.leader_elect
        && let Err(e) = election.validate()
    {
        eprintln!("error: leader election: {e}");
        return 2;
    }
    let client_ca = if args.insecure_skip_front_proxy_auth {
        None
    } else {
        match args.client_ca_configmap.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
                Some((ns.to_string(), name.to_string()))
            }
            _ => {
                eprintln!(
                    "error: --client-ca-configmap {:?}: expected NAMESPACE/NAME",
                    args.client_ca_configmap
                );
                return 2;
            }
        }
    };
    let servers = Servers {
        metrics_address: args.metrics_bind_address.clone(),
        health_address: args.health_probe_bind_address.clone(),
        api_address: args.metrics_server_bind_address.clone(),
        cert_dir: args.cert_dir.clone(),
        service_name: args.metrics_service_name.clone(),
        client_ca,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async {
        let client = match kube::Client::try_default().await {
            Ok(c) => c,
            Err(e) => {
                error!(error = %e, "no Kubernetes client configuration (in-cluster or kubeconfig)");
                return 1;
            }
        };
        let config = OperatorConfig {
            namespace: args.namespace.clone(),
            watch_namespace: Some(args.watch_namespace.clone()).filter(|n| !n.is_empty()),
            identity: identity.clone(),
            max_concurrent_reconciles: args.max_concurrent_reconciles,
            ..OperatorConfig::default()
        };
        let ctx = Context::new(
            client,
            config,
            Arc::new(SystemClock),
            Arc::new(ScalerContext::new()),
        );
        let leadership = if args.leader_elect {
            Leadership::Lease {
                lease: LeaseRef {
                    namespace: args.namespace.clone(),
                    name: args.lease_name.clone(),
                },
                election,
            }
        } else {
            Leadership::Always
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        tokio::spawn(async move {
            crate::shutdown_signal().await;
            info!("shutting down");
            let _ = shutdown_tx.send(true);
        });
        info!(identity = %identity, namespace = %args.namespace, "prescale operator starting");
        match run_all(ctx, leadership, servers, shutdown_rx).await {
            Ok(()) => 0,
            Err(e) => {
                error!(error = %e, "prescale operator failed");
                1
            }
        }
    })
}
