//! Prometheus remote write 1.0 (the published "Version 1.0" spec, `prometheus.WriteRequest`), the wire format
//! that Prometheus, VictoriaMetrics and Amazon Managed Service for Prometheus accept at their write endpoint.
//!
//! The body of a write is the protobuf [`WriteRequest`] compressed with snappy's **raw block** format (not the
//! framed stream format). [`encode_write_request`] builds that body from [`Series`]; the HTTP `POST` must carry
//! [`REQUIRED_HEADERS`] plus a `User-Agent`. A receiver answers 2xx (Prometheus and VictoriaMetrics: 204) on
//! success; senders retry 5xx, may retry 429 and must not retry any other 4xx.
//!
//! The messages are written by hand with `prost`'s derive (no `prost-build`, no `protoc`). They hold the spec's
//! fields only; field numbers are those of Prometheus' `prompb`, so the extra fields Prometheus itself sends
//! (`metadata = 3`, `exemplars = 3`, `histograms = 4`) are skipped when decoding.
#![forbid(unsafe_code)]

/// Headers every remote write 1.0 request must carry, besides `User-Agent` (which names the sender).
/// Users may add headers but must not override these.
pub const REQUIRED_HEADERS: [(&str, &str); 3] = [
    ("Content-Encoding", "snappy"),
    ("Content-Type", "application/x-protobuf"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// The protobuf `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series, each with its full label set.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// The protobuf `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Sorted by name, no repeated names, no empty names or values.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// In timestamp order.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// The protobuf `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// The protobuf `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// One series to send: its labels (including `__name__`) in any order, and its samples in any order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// `(name, value)` pairs. Names must be unique; the receiver rejects repeated names with a 400.
    pub labels: Vec<(String, String)>,
    /// The samples.
    pub samples: Vec<Sample>,
}

impl Series {
    /// A series from borrowed label pairs and `(timestamp_ms, value)` samples.
    pub fn new(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> Self {
        Self {
            labels: labels
                .iter()
                .map(|&(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            samples: samples
                .iter()
                .map(|&(timestamp, value)| Sample { value, timestamp })
                .collect(),
        }
    }

    /// The series as the spec wants it on the wire: labels with an empty value dropped (an empty value
    /// means "no such label" in Prometheus) and the rest sorted by name; samples sorted by timestamp (stable,
    /// so equal timestamps keep their order).
    pub fn to_time_series(&self) -> TimeSeries {
        let mut labels: Vec<Label> = self
            .labels
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| Label {
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        let mut samples = self.samples.clone();
        samples.sort_by_key(|s| s.timestamp);
        TimeSeries { labels, samples }
    }
}

/// The errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not valid snappy raw block data.
    #[error("remote write body is not snappy block data: {0}")]
    Snappy(#[from] snap::Error),
    /// The decompressed body is not a `WriteRequest`.
    #[error("remote write body is not a prometheus.WriteRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

/// The HTTP body of a remote write 1.0 request for `series`: the [`WriteRequest`] of
/// [`Series::to_time_series`], protobuf-encoded and snappy-compressed in the raw block format.
pub fn encode_write_request(series: &[Series]) -> Vec<u8> {
    let request = WriteRequest {
        timeseries: series.iter().map(Series::to_time_series).collect(),
    };
    compress(&prost::Message::encode_to_vec(&request))
}

/// Snappy raw block compression. Cannot fail for a body that fits in memory: the only error of
/// `snap::raw::Encoder` is an input longer than about 4 GiB (`u32::MAX` after varint framing), which a remote
/// write batch never reaches; such an input is reported by a panic rather than silently truncated.
fn compress(bytes: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(bytes)
        .expect("a remote write body under 4 GiB always compresses")
}

/// Decodes a remote write 1.0 body (snappy raw block, then protobuf), as a receiver does.
pub fn decode_write_request(body: &[u8]) -> Result<WriteRequest, Error> {
    let bytes = snap::raw::Decoder::new().decompress_vec(body)?;
    Ok(<WriteRequest as prost::Message>::decode(bytes.as_slice())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, value: &str) -> Label {
        Label {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn round_trip_sorts_labels_drops_empty_values_and_orders_samples() {
        let series = [
            Series::new(
                &[
                    ("job", "ho11y"),
                    ("__name__", "ho11y_total"),
                    ("pod", ""),
                    ("instance", "a:8765"),
                ],
                &[(2_000, 20.0), (1_000, 10.0), (3_000, f64::INFINITY)],
            ),
            Series::new(&[("__name__", "up")], &[(5, -1.5)]),
        ];
        let decoded = decode_write_request(&encode_write_request(&series)).unwrap();
        assert_eq!(
            decoded,
            WriteRequest {
                timeseries: vec![
                    TimeSeries {
                        labels: vec![
                            label("__name__", "ho11y_total"),
                            label("instance", "a:8765"),
                            label("job", "ho11y"),
                        ],
                        samples: vec![
                            Sample {
                                value: 10.0,
                                timestamp: 1_000
                            },
                            Sample {
                                value: 20.0,
                                timestamp: 2_000
                            },
                            Sample {
                                value: f64::INFINITY,
                                timestamp: 3_000
                            },
                        ],
                    },
                    TimeSeries {
                        labels: vec![label("__name__", "up")],
                        samples: vec![Sample {
                            value: -1.5,
                            timestamp: 5
                        }],
                    },
                ],
            }
        );
    }

    #[test]
    fn stale_marker_nan_bits_survive_the_round_trip() {
        let stale = f64::from_bits(0x7ff0_0000_0000_0002);
        let body = encode_write_request(&[Series::new(&[("__name__", "x")], &[(1, stale)])]);
        let sample = decode_write_request(&body).unwrap().timeseries[0].samples[0];
        assert_eq!(sample.value.to_bits(), 0x7ff0_0000_0000_0002);
    }

    /// The exact protobuf of a tiny request, written out by hand from the spec's field numbers and wire
    /// types, and the snappy raw block framing around it (a varint of the uncompressed length, no stream
    /// identifier chunk).
    #[test]
    fn exact_bytes_of_a_tiny_request() {
        let body = encode_write_request(&[Series::new(
            &[("__name__", "a"), ("empty", "")],
            &[(2, 1.0)],
        )]);
        #[rustfmt::skip]
        let protobuf: Vec<u8> = [
            &[0x0a, 28][..],                       // WriteRequest.timeseries (1, LEN), 28 bytes
            &[0x0a, 13],                           //   TimeSeries.labels (1, LEN), 13 bytes
            &[0x0a, 8], b"__name__",               //     Label.name (1, LEN)
            &[0x12, 1], b"a",                      //     Label.value (2, LEN)
            &[0x12, 11],                           //   TimeSeries.samples (2, LEN), 11 bytes
            &[0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f], //     Sample.value (1, I64): 1.0 little-endian
            &[0x10, 2],                            //     Sample.timestamp (2, VARINT): 2
        ]
        .concat();
        assert_eq!(protobuf.len(), 30);
        assert_eq!(
            snap::raw::Decoder::new().decompress_vec(&body).unwrap(),
            protobuf
        );
        // Raw block format: starts with the uncompressed length as a varint. The framed format would start
        // with the stream identifier chunk ff 06 00 00 "sNaPpY".
        assert_eq!(body[0], 30);
        assert_ne!(body[0], 0xff);
        // And nothing but snappy's own encoding of those bytes.
        assert_eq!(
            body,
            snap::raw::Encoder::new().compress_vec(&protobuf).unwrap()
        );
    }

    #[test]
    fn an_empty_request_is_valid() {
        let body = encode_write_request(&[]);
        assert_eq!(body, [0]);
        assert_eq!(
            decode_write_request(&body).unwrap(),
            WriteRequest::default()
        );
    }

    #[test]
    fn decoding_rejects_framed_snappy_and_non_protobuf() {
        let framed = {
            use std::io::Write as _;
            let mut w = snap::write::FrameEncoder::new(Vec::new());
            w.write_all(&[0x0a, 0]).unwrap();
            w.into_inner().unwrap()
        };
        assert!(matches!(
            decode_write_request(&framed),
            Err(Error::Snappy(_))
        ));
        let not_protobuf = snap::raw::Encoder::new()
            .compress_vec(&[0x0a, 0x05, 0x01])
            .unwrap();
        assert!(matches!(
            decode_write_request(&not_protobuf),
            Err(Error::Protobuf(_))
        ));
    }
}
