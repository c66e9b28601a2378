//! Decoding the answers of Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`),
//! whichever way they arrived (reqwest to `--prometheus URL`, or the API server's service
//! proxy through kube's client): this module only sees the body.
//!
//! How callers must read the outcome:
//! - `Ok(QueryResult)` always holds at least one series (or a scalar): real numbers, which may
//!   still be NaN or infinite and must be judged as such.
//! - `Err(QueryError::Empty)` means the query matched nothing. It is neither healthy nor zero:
//!   the gate shows "unknown". Where absence legitimately means zero (a counter Istio only
//!   writes once it is non-zero, such as `pilot_total_xds_rejects`), the query itself must say
//!   so (`... or vector(0)`), so that emptiness keeps meaning "no data".
//! - `Err(QueryError::Api { .. })` is Prometheus refusing the query; `Err(QueryError::Malformed
//!   { .. })` is a body that is not a Prometheus answer (a proxy's error page, garbage).

use std::fmt;

use serde_json::Value;

use super::{Labels, parse_float};

/// A typed query result. Timestamps are unix seconds, as Prometheus sends them.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// An instant vector: each series' labels, time and value.
    Vector(Vec<(Labels, f64, f64)>),
    /// A range vector: each series' labels and its `(time, value)` points, oldest first.
    Matrix(Vec<(Labels, Vec<(f64, f64)>)>),
    /// A scalar: time and value.
    Scalar(f64, f64),
}

/// The `resultType` an empty answer had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultType {
    Vector,
    Matrix,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryError {
    /// `"status":"error"`: Prometheus' `errorType` (`bad_data`, `timeout`, `execution`, ...)
    /// and message.
    Api { error_type: String, message: String },
    /// The query matched no series.
    Empty(ResultType),
    /// Not a Prometheus answer, or one this decoder does not know.
    Malformed(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Api {
                error_type,
                message,
            } => write!(f, "Prometheus refused the query ({error_type}): {message}"),
            QueryError::Empty(_) => write!(f, "no data: the query matched no series"),
            QueryError::Malformed(why) => write!(f, "not a Prometheus answer: {why}"),
        }
    }
}

impl std::error::Error for QueryError {}

impl QueryError {
    pub fn is_empty(&self) -> bool {
        matches!(self, QueryError::Empty(_))
    }
}

fn malformed(why: impl Into<String>) -> QueryError {
    QueryError::Malformed(why.into())
}

/// Decodes one response body of `/api/v1/query` or `/api/v1/query_range` (the HTTP status does
/// not matter: Prometheus sends its error bodies with 400, 422 or 503).
pub fn decode(body: &[u8]) -> Result<QueryResult, QueryError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        let start: String = String::from_utf8_lossy(body).chars().take(60).collect();
        malformed(format!("{e} (body starts {start:?})"))
    })?;
    match doc.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            let text = |key: &str| {
                doc.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string()
            };
            return Err(QueryError::Api {
                error_type: text("errorType"),
                message: text("error"),
            });
        }
        Some(other) => return Err(malformed(format!("status {other:?}"))),
        None => return Err(malformed("no status")),
    }
    let data = doc.get("data").ok_or_else(|| malformed("no data"))?;
    let result = data
        .get("result")
        .ok_or_else(|| malformed("no data.result"))?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("vector") => {
            let items = array(result, "result")?;
            if items.is_empty() {
                return Err(QueryError::Empty(ResultType::Vector));
            }
            let series = items
                .iter()
                .map(|item| {
                    let value = item
                        .get("value")
                        .ok_or_else(|| malformed("vector item without value"))?;
                    let (at, v) = point(value)?;
                    Ok((labels(item)?, at, v))
                })
                .collect::<Result<_, QueryError>>()?;
            Ok(QueryResult::Vector(series))
        }
        Some("matrix") => {
            let items = array(result, "result")?;
            if items.is_empty() {
                return Err(QueryError::Empty(ResultType::Matrix));
            }
            let series = items
                .iter()
                .map(|item| {
                    let values = item
                        .get("values")
                        .ok_or_else(|| malformed("matrix item without values"))?;
                    let points = array(values, "values")?
                        .iter()
                        .map(point)
                        .collect::<Result<_, _>>()?;
                    Ok((labels(item)?, points))
                })
                .collect::<Result<_, QueryError>>()?;
            Ok(QueryResult::Matrix(series))
        }
        Some("scalar") => {
            let (at, v) = point(result)?;
            Ok(QueryResult::Scalar(at, v))
        }
        Some(other) => Err(malformed(format!("unsupported resultType {other:?}"))),
        None => Err(malformed("no data.resultType")),
    }
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, QueryError> {
    v.as_array()
        .ok_or_else(|| malformed(format!("{what} is not an array")))
}

/// `[<unix seconds>, "<value>"]`.
fn point(v: &Value) -> Result<(f64, f64), QueryError> {
    let pair = array(v, "a sample")?;
    let (Some(at), Some(text), 2) = (
        pair.first().and_then(Value::as_f64),
        pair.get(1).and_then(Value::as_str),
        pair.len(),
    ) else {
        return Err(malformed(format!("sample {v} is not [time, \"value\"]")));
    };
    let value = parse_float(text).ok_or_else(|| malformed(format!("bad sample value {text:?}")))?;
    Ok((at, value))
}

fn labels(item: &Value) -> Result<Labels, QueryError> {
    let Some(metric) = item.get("metric") else {
        return Ok(Labels::new());
    };
    let map = metric
        .as_object()
        .ok_or_else(|| malformed("metric is not an object"))?;
    map.iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|s| (k.clone(), s.to_string()))
                .ok_or_else(|| malformed(format!("label {k} is not a string")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::labels;

    #[test]
    fn vector_with_nan_and_infinities() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"destination_workload_namespace":"checkout","istio_io_rev":"1-25-0"},"value":[1730123456.789,"0.0125"]},
            {"metric":{"destination_workload_namespace":"payments"},"value":[1730123456.789,"NaN"]},
            {"metric":{},"value":[1730123456.789,"+Inf"]},
            {"metric":{"le":"x"},"value":[1730123456.789,"-Inf"]}]}}"#;
        let QueryResult::Vector(v) = decode(body).unwrap() else {
            panic!("not a vector")
        };
        assert_eq!(v.len(), 4);
        assert_eq!(
            v[0],
            (
                labels(&[
                    ("destination_workload_namespace", "checkout"),
                    ("istio_io_rev", "1-25-0")
                ]),
                1_730_123_456.789,
                0.0125
            )
        );
        assert!(v[1].2.is_nan());
        assert_eq!(v[2].0, Labels::new());
        assert_eq!(v[2].2, f64::INFINITY);
        assert_eq!(v[3].2, f64::NEG_INFINITY);
    }

    #[test]
    fn matrix_keeps_points_in_order() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"type":"eds"},"values":[[1730000000,"1"],[1730000015,"2.5"],[1730000030,"NaN"]]},
            {"metric":{"type":"cds"},"values":[]}]}}"#;
        let QueryResult::Matrix(m) = decode(body).unwrap() else {
            panic!("not a matrix")
        };
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, labels(&[("type", "eds")]));
        assert_eq!(
            &m[0].1[..2],
            &[(1_730_000_000.0, 1.0), (1_730_000_015.0, 2.5)]
        );
        assert!(m[0].1[2].1.is_nan());
        assert!(m[1].1.is_empty());
    }

    #[test]
    fn scalar() {
        let body =
            br#"{"status":"success","data":{"resultType":"scalar","result":[1730000000.5,"42"]}}"#;
        assert_eq!(
            decode(body).unwrap(),
            QueryResult::Scalar(1_730_000_000.5, 42.0)
        );
    }

    #[test]
    fn empty_results_are_their_own_outcome() {
        for (body, kind) in [
            (
                &br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#[..],
                ResultType::Vector,
            ),
            (
                &br#"{"status":"success","data":{"resultType":"matrix","result":[]},"warnings":["x"]}"#[..],
                ResultType::Matrix,
            ),
        ] {
            let err = decode(body).unwrap_err();
            assert_eq!(err, QueryError::Empty(kind));
            assert!(err.is_empty());
            assert!(err.to_string().contains("no data"));
        }
    }

    #[test]
    fn error_status() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:14: parse error: unexpected \")\""}"#;
        let err = decode(body).unwrap_err();
        assert_eq!(
            err,
            QueryError::Api {
                error_type: "bad_data".into(),
                message: "invalid parameter \"query\": 1:14: parse error: unexpected \")\"".into()
            }
        );
        assert!(!err.is_empty());
        assert!(err.to_string().contains("bad_data"));
        let bare = decode(br#"{"status":"error"}"#).unwrap_err();
        assert!(matches!(bare, QueryError::Api { ref error_type, .. } if error_type == "unknown"));
    }

    #[test]
    fn garbage_is_malformed_with_a_reason() {
        let cases: [(&[u8], &str); 10] = [
            (b"<html>502 Bad Gateway</html>", "body starts"),
            (b"", "body starts"),
            (br#"{"data":{}}"#, "no status"),
            (br#"{"status":"maybe"}"#, "status"),
            (br#"{"status":"success"}"#, "no data"),
            (
                br#"{"status":"success","data":{"resultType":"string","result":[1,"a"]}}"#,
                "unsupported resultType",
            ),
            (
                br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}"#,
                "without value",
            ),
            (
                br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#,
                "is not [time",
            ),
            (
                br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"lots"]}]}}"#,
                "bad sample value",
            ),
            (
                br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}"#,
                "not a string",
            ),
        ];
        for (body, words) in cases {
            match decode(body) {
                Err(QueryError::Malformed(why)) => assert!(why.contains(words), "{why}"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }
}
