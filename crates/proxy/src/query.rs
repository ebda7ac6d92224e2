//! The query-string rewrite done before signing.

use prescale_aws::percent_encode_into;

/// Rewrites a raw query string into SigV4's canonical encoding, keeping the parameters' order: each `&`-separated
/// parameter is split at its first `=`, form-decoded (`+` → space, `%XX` → byte) and re-encoded with every byte
/// but the RFC 3986 unreserved ones (`A–Z a–z 0–9 - . _ ~`) as upper-case `%XX`. A parameter without `=` stays
/// without one; empty parameters (`a&&b`) are dropped.
///
/// Prometheus (Go's `url.ParseQuery`) reads the result exactly as it read the original, and a SigV4 signer's
/// canonicalisation of it is the identity, so the signed and the sent query agree.
pub fn canonical_query(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    for param in raw.split('&').filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('&');
        }
        match param.split_once('=') {
            Some((k, v)) => {
                percent_encode_into(&mut out, &decode(k));
                out.push('=');
                percent_encode_into(&mut out, &decode(v));
            }
            None => percent_encode_into(&mut out, &decode(param)),
        }
    }
    out
}

fn decode(s: &str) -> Vec<u8> {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::canonical_query;

    #[test]
    fn form_encoding_becomes_rfc3986() {
        // Go's url.QueryEscape (what KEDA sends): spaces as '+', '+' as %2B.
        assert_eq!(
            canonical_query(
                "query=sum%28rate%28x%5B1m%5D%29%29+%2B+1&time=2024-01-18T12%3A34%3A56Z"
            ),
            "query=sum%28rate%28x%5B1m%5D%29%29%20%2B%201&time=2024-01-18T12%3A34%3A56Z"
        );
        // Already canonical: unchanged.
        let c = "query=up%7Bjob%3D%22a%22%7D&time=1";
        assert_eq!(canonical_query(c), c);
        // Order kept, lower-case escapes upper-cased, empty parameters dropped, bare keys kept bare.
        assert_eq!(canonical_query("b=%2f&&a=1&flag"), "b=%2F&a=1&flag");
        // Raw reserved characters and UTF-8 are encoded.
        assert_eq!(canonical_query("q=a/b:c*é"), "q=a%2Fb%3Ac%2A%C3%A9");
        // Invalid escapes stay literal, as form decoders do.
        assert_eq!(canonical_query("q=%zz"), "q=%25zz");
    }
}
