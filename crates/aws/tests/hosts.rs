//! Service and region from AWS endpoint host names.

use prescale_aws::{aps_region_from_host, service_and_region_from_host};

#[test]
fn aps_hosts() {
    let cases = [
        ("aps-workspaces.us-west-2.amazonaws.com", Some("us-west-2")),
        ("APS-Workspaces.EU-West-1.AmazonAWS.com", Some("eu-west-1")),
        (
            "aps-workspaces.us-west-2.amazonaws.com:443",
            Some("us-west-2"),
        ),
        ("aps-workspaces.us-west-2.amazonaws.com.", Some("us-west-2")),
        ("aps.ap-southeast-2.amazonaws.com", Some("ap-southeast-2")),
        (
            "aps-workspaces-fips.us-gov-west-1.amazonaws.com",
            Some("us-gov-west-1"),
        ),
        ("aps-workspaces.us-east-1.api.aws", Some("us-east-1")),
        (
            "aps-workspaces.cn-north-1.amazonaws.com.cn",
            Some("cn-north-1"),
        ),
        ("monitoring.us-west-2.amazonaws.com", None),
        ("aps-workspaces.amazonaws.com", None),
        ("aps-workspaces.us-west-2.example.com", None),
        ("keda-sigv4.keda.svc.cluster.local", None),
        ("127.0.0.1:8080", None),
        ("[::1]:8080", None),
        ("", None),
    ];
    for (host, expected) in cases {
        assert_eq!(aps_region_from_host(host).as_deref(), expected, "{host}");
    }
}

#[test]
fn generic_hosts() {
    let cases = [
        ("sts.us-west-2.amazonaws.com", Some(("sts", "us-west-2"))),
        ("sts.amazonaws.com", Some(("sts", "us-east-1"))),
        ("iam.amazonaws.com", Some(("iam", "us-east-1"))),
        (
            "monitoring.eu-central-1.amazonaws.com",
            Some(("monitoring", "eu-central-1")),
        ),
        ("email.us-east-1.amazonaws.com", Some(("ses", "us-east-1"))),
        (
            "sqs-fips.us-east-2.amazonaws.com",
            Some(("sqs", "us-east-2")),
        ),
        (
            "streams.dynamodb.us-east-1.amazonaws.com",
            Some(("dynamodb", "us-east-1")),
        ),
        (
            "abc123.execute-api.us-west-1.amazonaws.com",
            Some(("execute-api", "us-west-1")),
        ),
        (
            "search-logs-xyz.us-west-2.es.amazonaws.com",
            Some(("es", "us-west-2")),
        ),
        (
            "coll1.us-east-1.aoss.amazonaws.com",
            Some(("aoss", "us-east-1")),
        ),
        (
            "abcdef.lambda-url.eu-west-1.on.aws",
            Some(("lambda", "eu-west-1")),
        ),
        (
            "aps-workspaces.us-west-2.amazonaws.com:8443",
            Some(("aps", "us-west-2")),
        ),
        ("bucket.s3.us-west-2.amazonaws.com", None),
        ("s3.amazonaws.com", None),
        ("amazonaws.com", None),
        ("sts.notaregion.amazonaws.com", None),
        ("example.com", None),
        ("host:notaport", None),
    ];
    for (host, expected) in cases {
        let got = service_and_region_from_host(host);
        let got = got.as_ref().map(|(s, r)| (s.as_str(), r.as_str()));
        assert_eq!(got, expected, "{host}");
    }
}
