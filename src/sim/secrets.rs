//! What the API server does to a Secret it is given: `type` defaults to `Opaque`, and
//! `stringData` is written into `data` as base64.

use base64::Engine;
use serde_json::{Value, json};

pub fn admit(secret: &mut Value) {
    if secret["type"].as_str().is_none_or(str::is_empty) {
        secret["type"] = json!("Opaque");
    }
    let Some(fields) = secret.as_object_mut() else {
        return;
    };
    let Some(Value::Object(plain)) = fields.remove("stringData") else {
        return;
    };
    let data = fields.entry("data").or_insert_with(|| json!({}));
    if !data.is_object() {
        *data = json!({});
    }
    for (key, value) in plain {
        let text = value.as_str().unwrap_or_default();
        data[key.as_str()] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_defaults_and_string_data_becomes_base64() {
        let mut secret = json!({"metadata": {"name": "s"}, "stringData": {"token": "abc"}, "data": {"ca": "eA=="}});
        admit(&mut secret);
        assert_eq!(secret["type"], "Opaque");
        assert_eq!(secret["data"]["token"], "YWJj");
        assert_eq!(secret["data"]["ca"], "eA==");
        assert!(secret.get("stringData").is_none());
    }
}
