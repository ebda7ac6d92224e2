//! Signing service and region from an AWS endpoint host name.

/// Lower-cased host without port, brackets or a trailing dot; `None` for IP literals.
fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    if host.starts_with('[') {
        return None; // IPv6 literal
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return None,
        None => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name.is_empty() || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return None;
    }
    Some(name)
}

/// `us-west-2`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`: lower-case
/// letters and hyphen-separated parts ending in a number.
fn looks_like_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && {
            let last = parts[parts.len() - 1];
            !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())
        }
}

/// Endpoint prefixes whose signing name differs from the prefix.
fn signing_name(endpoint_prefix: &str) -> String {
    let prefix = endpoint_prefix
        .strip_suffix("-fips")
        .unwrap_or(endpoint_prefix);
    match prefix {
        "aps-workspaces" => "aps",
        "email" => "ses",
        "streams.dynamodb" => "dynamodb",
        "data.iot" => "iotdata",
        "runtime.sagemaker" => "sagemaker",
        other => other,
    }
    .to_string()
}

/// The SigV4 service name and region of an AWS endpoint host (port ignored,
/// case-insensitive), for the host forms in common use:
///
/// - `<service>.<region>.amazonaws.com` (also `.amazonaws.com.cn` and the dual-stack
///   `.api.aws`), where a `-fips` suffix is dropped and a few endpoint prefixes map to a
///   different signing name (`aps-workspaces` → `aps`, `email` → `ses`);
/// - `<service>.amazonaws.com` for the global `sts` and `iam` endpoints (region `us-east-1`);
/// - `<id>.execute-api.<region>.amazonaws.com`, `<domain>.<region>.es.amazonaws.com`,
///   `<id>.<region>.aoss.amazonaws.com` and `<id>.lambda-url.<region>.on.aws`.
///
/// Anything else (IP addresses, proxies, custom domains) gives `None`: the caller then
/// needs an explicit service and region.
pub fn service_and_region_from_host(host: &str) -> Option<(String, String)> {
    let host = normalize_host(host)?;
    if let Some(rest) = host.strip_suffix(".on.aws") {
        let labels: Vec<&str> = rest.split('.').collect();
        return match labels.as_slice() {
            [_, "lambda-url", region] if looks_like_region(region) => {
                Some(("lambda".into(), (*region).into()))
            }
            _ => None,
        };
    }
    let rest = [".amazonaws.com.cn", ".amazonaws.com", ".api.aws"]
        .iter()
        .find_map(|suffix| host.strip_suffix(suffix))?;
    let labels: Vec<&str> = rest.split('.').collect();
    match labels.as_slice() {
        [service @ ("sts" | "iam")] => Some(((*service).into(), "us-east-1".into())),
        [.., "execute-api", region] if looks_like_region(region) => {
            Some(("execute-api".into(), (*region).into()))
        }
        [_, region, service @ ("es" | "aoss")] if looks_like_region(region) => {
            Some(((*service).into(), (*region).into()))
        }
        [service, region] if looks_like_region(region) => {
            Some((signing_name(service), (*region).into()))
        }
        [first, second, region] if looks_like_region(region) => {
            let prefix = format!("{first}.{second}");
            let name = signing_name(&prefix);
            (name != prefix).then(|| (name, (*region).into()))
        }
        _ => None,
    }
}

/// The region of an Amazon Managed Service for Prometheus host:
/// `aps-workspaces.<region>.amazonaws.com` (data plane) or `aps.<region>.amazonaws.com`
/// (control plane), including the `-fips` and dual-stack `.api.aws` forms.
/// Case-insensitive; a port is ignored.
pub fn aps_region_from_host(host: &str) -> Option<String> {
    match service_and_region_from_host(host)? {
        (service, region) if service == "aps" => Some(region),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_shapes() {
        for ok in [
            "us-west-2",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
            "eu-central-1",
        ] {
            assert!(looks_like_region(ok), "{ok}");
        }
        for bad in [
            "west-2",
            "us-west",
            "US-west-2",
            "us--2",
            "amazonaws",
            "us-west-2a",
        ] {
            assert!(!looks_like_region(bad), "{bad}");
        }
    }
}
