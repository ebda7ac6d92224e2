//! `prescale sigv4-proxy`: flags in aws-sigv4-proxy's spelling, logging, credentials, then `prescale_proxy::serve`
//! until SIGINT or SIGTERM.

use std::time::Duration;

use clap::{Args, ValueEnum};
use prescale_aws::AwsEnv;
use prescale_proxy::{DEFAULT_MAX_BODY_BYTES, ProxyConfig, flags, listen_address};

/// Exit code: the proxy stopped on a signal.
const EXIT_OK: u8 = 0;
/// Exit code: it could not start or serve (port taken, …).
const EXIT_FAILED: u8 = 1;
/// Exit code: bad flags.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(
    about = "Sign requests with AWS SigV4 and forward them (a drop-in for aws-sigv4-proxy)",
    long_about = "Sign requests with AWS SigV4 and forward them: a drop-in for awslabs' aws-sigv4-proxy as the \
reference architecture deploys it in front of Amazon Managed Service for Prometheus, for clients that cannot \
sign.\n\nEach request goes to <--upstream-url-scheme>://<--host, else the request's Host header><path>?<query>, \
signed for --name/--region (inferred from an aps-workspaces.<region>.amazonaws.com or \
<service>.<region>.amazonaws.com host when not given; region fallback AWS_REGION, AWS_DEFAULT_REGION, \
us-east-1). The query is re-encoded in SigV4's canonical form (form '+' becomes %20) so that the signed and the \
sent query agree. The request body is read in full before signing (SigV4 signs its hash); the response is \
streamed back. GET /healthz is answered by the proxy.\n\nCredentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY \
(+AWS_SESSION_TOKEN), shared files (AWS_PROFILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, i.e. \
IRSA), container credentials (EKS Pod Identity, ECS), then IMDSv2; --role-arn is assumed on top with STS. When no \
credentials resolve, or the upstream fails, the client gets 502 \"unable to proxy request - <reason>\": nothing \
is ever forwarded unsigned.",
    after_help = "Examples:\n  prescale sigv4-proxy --name aps --region us-west-2 --host aps-workspaces.us-west-2.amazonaws.com\n  \
prescale sigv4-proxy --host aps-workspaces.eu-west-1.amazonaws.com --port 127.0.0.1:8005 --role-arn arn:aws:iam::123456789012:role/amp-query"
)]
pub struct Sigv4ProxyArgs {
    /// Signing service name (e.g. aps).
    #[arg(long, value_name = "SERVICE")]
    pub name: Option<String>,
    /// Signing region (e.g. us-west-2).
    #[arg(long)]
    pub region: Option<String>,
    /// Upstream host (and port) to proxy to; default: each request's Host header.
    #[arg(long)]
    pub host: Option<String>,
    /// Host to sign for and send as the Host header.
    #[arg(long, value_name = "HOST")]
    pub sign_host: Option<String>,
    /// Listen address: `:8080`, `8080`, `127.0.0.1:8080`, `[::]:8080`.
    #[arg(long, default_value = ":8080", value_name = "ADDRESS")]
    pub port: String,
    /// IAM role to assume with STS on top of the default credentials.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Scheme of the upstream URL.
    #[arg(long, default_value = "https", value_parser = ["https", "http"])]
    pub upstream_url_scheme: String,
    /// Do not verify the upstream's TLS certificate.
    #[arg(long)]
    pub no_verify_ssl: bool,
    /// Header to remove from incoming requests (repeatable).
    #[arg(short = 's', long = "strip", value_name = "HEADER")]
    pub strip: Vec<String>,
    /// Headers to add when absent, `k=v,k2=v2`.
    #[arg(long, value_name = "K=V,...")]
    pub custom_headers: Option<String>,
    /// Largest request body accepted (it is buffered to be signed).
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// Log each proxied request (debug level).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

fn init_logging(args: &Sigv4ProxyArgs) {
    let level = if args.verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false);
    match args.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Run the subcommand; returns the process exit code.
pub fn run(args: &Sigv4ProxyArgs) -> u8 {
    init_logging(args);
    let addr = match listen_address(&args.port) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("prescale sigv4-proxy: {e}");
            return EXIT_USAGE;
        }
    };
    let headers = flags::strip_headers(&args.strip).and_then(|strip| {
        flags::custom_headers(args.custom_headers.as_deref().unwrap_or("")).map(|c| (strip, c))
    });
    let (strip, custom_headers) = match headers {
        Ok(h) => h,
        Err(e) => {
            eprintln!("prescale sigv4-proxy: {e}");
            return EXIT_USAGE;
        }
    };
    let env = AwsEnv::from_process();
    let default_region = env.region().map(str::to_string);
    let aws_http = match prescale_aws::http_client() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("prescale sigv4-proxy: cannot build the HTTP client: {e}");
            return EXIT_FAILED;
        }
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(args.no_verify_ssl)
        .pool_idle_timeout(Duration::from_secs(40))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("prescale sigv4-proxy: cannot build the HTTP client: {e}");
            return EXIT_FAILED;
        }
    };
    let hostname = std::fs::read_to_string("/etc/hostname").ok();
    let credentials = flags::credentials(
        &env,
        &aws_http,
        args.role_arn.as_deref(),
        args.region.clone().or_else(|| default_region.clone()),
        hostname.as_deref(),
    );
    let cfg = ProxyConfig {
        service: args.name.clone(),
        region: args.region.clone(),
        default_region,
        host: args.host.clone(),
        sign_host: args.sign_host.clone(),
        upstream_scheme: args.upstream_url_scheme.clone(),
        strip,
        custom_headers,
        max_body_bytes: args.max_body_bytes,
        credentials,
        client,
    };
    let proxy = match prescale_proxy::Proxy::new(cfg) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("prescale sigv4-proxy: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(t) = proxy.fixed_target() {
        tracing::info!(upstream = %t.host, service = %t.service, region = %t.region, "signing scope");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("prescale sigv4-proxy: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("prescale sigv4-proxy: cannot listen on {addr}: {e}");
                return EXIT_FAILED;
            }
        };
        let local = listener.local_addr().map_or(addr, |a| a);
        match proxy.credentials().credentials().await {
            Ok(c) => tracing::info!(source = %c.provider, access_key_id = %c.access_key_id, "AWS credentials found"),
            // Not fatal: IRSA tokens and pod identity agents can appear after start. Requests get 502 until then.
            Err(e) => tracing::error!(error = %e, "no AWS credentials yet; requests are answered 502 until they resolve"),
        }
        tracing::info!(address = %local, "listening");
        match prescale_proxy::serve(listener, proxy, crate::shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("stopped");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("prescale sigv4-proxy: {e}");
                EXIT_FAILED
            }
        }
    })
}
