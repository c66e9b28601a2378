//! `fieldValidation`: what a write does with fields the kind's schema does not declare, as
//! the API server's server-side field validation does. `Strict` refuses the write (400),
//! `Warn` stores it with a `Warning` header per field, `Ignore` drops nothing and says
//! nothing. A request without the parameter is treated as `Ignore`, so clients that never
//! send it see the simulator as lenient as before; kubectl always sends it.

use axum::http::HeaderValue;
use axum::response::Response;
use serde_json::Value;

use super::Request;
use super::openapi;
use super::status::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Ignore,
    Warn,
    Strict,
}

fn directive(req: &Request) -> Result<Directive, ApiError> {
    match req.param("fieldValidation") {
        None | Some("" | "Ignore") => Ok(Directive::Ignore),
        Some("Warn") => Ok(Directive::Warn),
        Some("Strict") => Ok(Directive::Strict),
        Some(other) => Err(ApiError::bad_request(format!(
            "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
        ))),
    }
}

/// Checks `body` (an object, or a merge, strategic merge or apply patch) against the kind's
/// schema; the warnings to send back when the directive is `Warn`.
pub fn check(req: &Request, body: &Value) -> Result<Vec<String>, ApiError> {
    let directive = directive(req)?;
    if directive == Directive::Ignore {
        return Ok(Vec::new());
    }
    let def = req.target.def;
    let unknown = openapi::unknown_fields(def.plural, req.target.subresource.as_deref(), body);
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    let named: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if directive == Directive::Warn {
        return Ok(named);
    }
    Err(ApiError::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
        named.join(", "),
        kind = def.kind,
        version = def.version,
    )))
}

/// Adds a `Warning: 299 - "..."` header per warning, as kubectl prints them.
pub fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for warning in warnings {
        if let Ok(value) = HeaderValue::from_str(&format!("299 - {warning:?}")) {
            resp.headers_mut().append("warning", value);
        }
    }
    resp
}
