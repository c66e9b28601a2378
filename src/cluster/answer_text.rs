//! An unwelcome answer in one line: the message of a Kubernetes `Status` when the API server
//! refused, else how the body starts.

/// The `message` of a Kubernetes `Status` object, if the body is one.
pub fn kubernetes_status_message(body: &[u8]) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    (doc.get("kind")?.as_str()? == "Status")
        .then(|| doc.get("message")?.as_str().map(str::to_string))
        .flatten()
}

/// The first `n` characters of a body, with `…` when there is more.
pub fn first_chars(body: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4 * n)]);
    let mut start: String = text.chars().take(n).collect();
    if text.chars().count() > n || body.len() > 4 * n {
        start.push('…');
    }
    start
}
