//! A JSON object written as YAML for reading, the way `kubectl get -o yaml` shows it: block
//! style, two-space indent, keys in alphabetical order, strings quoted only where YAML would
//! read them as something else.

use serde_json::Value;

pub fn render(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => object(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => array(items, 0, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn object(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&string(key));
        out.push(':');
        nested(value, indent + 2, out);
    }
}

fn array(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            // The first key goes on the dash's line, the rest under it.
            Value::Object(map) if !map.is_empty() => {
                let mut inner = String::new();
                object(map, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            other => nested(other, indent + 2, out),
        }
    }
}

/// What follows `key:` or `-`: a scalar on the same line, or a block below.
fn nested(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            object(map, indent, out);
        }
        // kubectl writes a list under a key at the key's own indent.
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            array(items, indent.saturating_sub(2), out);
        }
        Value::String(s) if s.contains('\n') => {
            out.push_str(" |\n");
            for line in s.lines() {
                out.push_str(&" ".repeat(indent));
                out.push_str(line);
                out.push('\n');
            }
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// A string as it is, unless YAML would read it as another type or mis-parse it.
fn string(s: &str) -> String {
    let special = s.is_empty()
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
        )
        || s.parse::<f64>().is_ok()
        || s.starts_with(|c: char| " -?:,[]{}#&*!|>'\"%@`".contains(c))
        || s.ends_with(' ')
        || s.contains(": ")
        || s.contains(" #");
    if special {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::render;

    #[test]
    fn a_pod_reads_as_kubectl_writes_it() {
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "cart-1", "labels": {"app": "cart", "version": "2"}, "annotations": {}},
            "spec": {"containers": [
                {"name": "cart", "ports": [{"containerPort": 8080}], "args": ["--x", "true"]},
                {"name": "istio-proxy", "image": "proxyv2:1.25.0"}
            ]},
            "status": {"phase": "Running", "message": "a: b"}
        });
        assert_eq!(
            render(&pod),
            "apiVersion: v1
kind: Pod
metadata:
  annotations: {}
  labels:
    app: cart
    version: '2'
  name: cart-1
spec:
  containers:
  - args:
    - '--x'
    - 'true'
    name: cart
    ports:
    - containerPort: 8080
  - image: proxyv2:1.25.0
    name: istio-proxy
status:
  message: 'a: b'
  phase: Running
"
        );
    }

    #[test]
    fn text_over_several_lines_is_a_block() {
        assert_eq!(
            render(&json!({"data": {"mesh": "a: 1\nb: 2"}})),
            "data:\n  mesh: |\n    a: 1\n    b: 2\n"
        );
    }
}
