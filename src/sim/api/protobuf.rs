//! Just enough of Kubernetes' protobuf encoding to read what kubectl's typed generators
//! send: `kubectl create namespace`, `configmap`, `secret`, `pdb` and `quota` post their
//! object as protobuf, not JSON (client-go's generated clients prefer protobuf for built-in
//! kinds whatever the server advertises). Their bodies are decoded into the JSON the rest of
//! the simulator works with; any other kind stays unsupported.

use serde_json::{Map, Value, json};

/// Every protobuf body starts with these four bytes, then an `Unknown` envelope.
const MAGIC: &[u8] = b"k8s\0";

#[derive(Debug, Clone, PartialEq)]
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// A message's fields in order, as (number, value); fixed-width fields are skipped.
fn fields(mut buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let number = key >> 3;
        match key & 7 {
            0 => out.push((number, Field::Varint(varint(&mut buf)?))),
            1 => buf = buf.get(8..).ok_or("a 64-bit field is cut short")?,
            2 => {
                let len = usize::try_from(varint(&mut buf)?).map_err(|e| e.to_string())?;
                let bytes = buf
                    .get(..len)
                    .ok_or("a length-delimited field is cut short")?;
                buf = &buf[len..];
                out.push((number, Field::Bytes(bytes)));
            }
            5 => buf = buf.get(4..).ok_or("a 32-bit field is cut short")?,
            other => return Err(format!("wire type {other} is not supported")),
        }
    }
    Ok(out)
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first().ok_or("a varint is cut short")?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a varint is too long".into())
}

fn text(bytes: &[u8]) -> Result<Value, String> {
    std::str::from_utf8(bytes)
        .map(|s| json!(s))
        .map_err(|e| e.to_string())
}

/// A `map<string, V>` field's entries (key 1, value 2), the value read by `value`.
fn map_entry(
    bytes: &[u8],
    value: fn(&[u8]) -> Result<Value, String>,
    into: &mut Map<String, Value>,
) -> Result<(), String> {
    let (mut key, mut val) = (String::new(), Value::Null);
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Bytes(b)) => key = std::str::from_utf8(b).map_err(|e| e.to_string())?.into(),
            (2, Field::Bytes(b)) => val = value(b)?,
            _ => {}
        }
    }
    into.insert(key, val);
    Ok(())
}

/// ObjectMeta: name, generateName, namespace, labels and annotations; the server sets the rest.
fn object_meta(bytes: &[u8]) -> Result<Value, String> {
    let mut meta = Map::new();
    let (mut labels, mut annotations) = (Map::new(), Map::new());
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Bytes(b)) => _ = meta.insert("name".into(), text(b)?),
            (2, Field::Bytes(b)) => _ = meta.insert("generateName".into(), text(b)?),
            (3, Field::Bytes(b)) => _ = meta.insert("namespace".into(), text(b)?),
            (11, Field::Bytes(b)) => map_entry(b, text, &mut labels)?,
            (12, Field::Bytes(b)) => map_entry(b, text, &mut annotations)?,
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    Ok(Value::Object(meta))
}

fn int_or_string(bytes: &[u8]) -> Result<Value, String> {
    let (mut is_string, mut int, mut string) = (false, 0i64, Value::Null);
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Varint(t)) => is_string = t == 1,
            // int32 on the wire: a negative one arrives sign-extended to 64 bits.
            (2, Field::Varint(v)) => int = i64::from(v as u32 as i32),
            (3, Field::Bytes(b)) => string = text(b)?,
            _ => {}
        }
    }
    Ok(if is_string { string } else { json!(int) })
}

fn label_selector(bytes: &[u8]) -> Result<Value, String> {
    let (mut labels, mut expressions) = (Map::new(), Vec::new());
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Bytes(b)) => map_entry(b, text, &mut labels)?,
            (2, Field::Bytes(b)) => {
                let mut requirement = json!({"values": []});
                for (n, f) in fields(b)? {
                    match (n, f) {
                        (1, Field::Bytes(b)) => requirement["key"] = text(b)?,
                        (2, Field::Bytes(b)) => requirement["operator"] = text(b)?,
                        (3, Field::Bytes(b)) => {
                            if let Some(values) = requirement["values"].as_array_mut() {
                                values.push(text(b)?);
                            }
                        }
                        _ => {}
                    }
                }
                expressions.push(requirement);
            }
            _ => {}
        }
    }
    let mut selector = json!({});
    if !labels.is_empty() {
        selector["matchLabels"] = Value::Object(labels);
    }
    if !expressions.is_empty() {
        selector["matchExpressions"] = json!(expressions);
    }
    Ok(selector)
}

fn pdb_spec(bytes: &[u8]) -> Result<Value, String> {
    let mut spec = json!({});
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Bytes(b)) => spec["minAvailable"] = int_or_string(b)?,
            (2, Field::Bytes(b)) => spec["selector"] = label_selector(b)?,
            (3, Field::Bytes(b)) => spec["maxUnavailable"] = int_or_string(b)?,
            (4, Field::Bytes(b)) => spec["unhealthyPodEvictionPolicy"] = text(b)?,
            _ => {}
        }
    }
    Ok(spec)
}

/// A Quantity is its string form (field 1).
fn quantity(bytes: &[u8]) -> Result<Value, String> {
    for (n, f) in fields(bytes)? {
        if let (1, Field::Bytes(b)) = (n, f) {
            return text(b);
        }
    }
    Ok(json!("0"))
}

fn quota_spec(bytes: &[u8]) -> Result<Value, String> {
    let (mut hard, mut scopes) = (Map::new(), Vec::new());
    for (n, f) in fields(bytes)? {
        match (n, f) {
            (1, Field::Bytes(b)) => map_entry(b, quantity, &mut hard)?,
            (2, Field::Bytes(b)) => scopes.push(text(b)?),
            _ => {}
        }
    }
    let mut spec = json!({"hard": hard});
    if !scopes.is_empty() {
        spec["scopes"] = json!(scopes);
    }
    Ok(spec)
}

/// Bytes as the JSON API shows them: base64.
fn base64_text(bytes: &[u8]) -> Result<Value, String> {
    use base64::Engine;
    Ok(json!(
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

fn namespace_spec(bytes: &[u8]) -> Result<Value, String> {
    let mut finalizers = Vec::new();
    for (n, f) in fields(bytes)? {
        if let (1, Field::Bytes(b)) = (n, f) {
            finalizers.push(text(b)?);
        }
    }
    Ok(if finalizers.is_empty() {
        json!({})
    } else {
        json!({"finalizers": finalizers})
    })
}

/// The object's own fields (`metadata` is 1 in every kind), as the kind numbers them.
type ObjectFields = fn(&[u8]) -> Result<Map<String, Value>, String>;

/// Kinds whose message is `metadata = 1, spec = 2`.
fn with_spec(
    raw: &[u8],
    spec: fn(&[u8]) -> Result<Value, String>,
) -> Result<Map<String, Value>, String> {
    let mut obj = Map::new();
    for (n, f) in fields(raw)? {
        match (n, f) {
            (1, Field::Bytes(b)) => _ = obj.insert("metadata".into(), object_meta(b)?),
            (2, Field::Bytes(b)) => _ = obj.insert("spec".into(), spec(b)?),
            _ => {}
        }
    }
    Ok(obj)
}

/// Puts a map field into `obj` when it has entries, as the JSON encoding leaves empty maps out.
fn insert_map(obj: &mut Map<String, Value>, key: &str, map: Map<String, Value>) {
    if !map.is_empty() {
        obj.insert(key.into(), Value::Object(map));
    }
}

/// ConfigMap: metadata 1, data 2, binaryData 3, immutable 4.
fn config_map(raw: &[u8]) -> Result<Map<String, Value>, String> {
    let (mut obj, mut data, mut binary) = (Map::new(), Map::new(), Map::new());
    for (n, f) in fields(raw)? {
        match (n, f) {
            (1, Field::Bytes(b)) => _ = obj.insert("metadata".into(), object_meta(b)?),
            (2, Field::Bytes(b)) => map_entry(b, text, &mut data)?,
            (3, Field::Bytes(b)) => map_entry(b, base64_text, &mut binary)?,
            (4, Field::Varint(v)) => _ = obj.insert("immutable".into(), json!(v != 0)),
            _ => {}
        }
    }
    insert_map(&mut obj, "data", data);
    insert_map(&mut obj, "binaryData", binary);
    Ok(obj)
}

/// Secret: metadata 1, data 2 (bytes), type 3, stringData 4, immutable 5.
fn secret(raw: &[u8]) -> Result<Map<String, Value>, String> {
    let (mut obj, mut data, mut string_data) = (Map::new(), Map::new(), Map::new());
    for (n, f) in fields(raw)? {
        match (n, f) {
            (1, Field::Bytes(b)) => _ = obj.insert("metadata".into(), object_meta(b)?),
            (2, Field::Bytes(b)) => map_entry(b, base64_text, &mut data)?,
            (3, Field::Bytes(b)) => _ = obj.insert("type".into(), text(b)?),
            (4, Field::Bytes(b)) => map_entry(b, text, &mut string_data)?,
            (5, Field::Varint(v)) => _ = obj.insert("immutable".into(), json!(v != 0)),
            _ => {}
        }
    }
    insert_map(&mut obj, "data", data);
    insert_map(&mut obj, "stringData", string_data);
    Ok(obj)
}

/// The object in a protobuf request body for `plural`, as JSON; Err names what is not read.
pub fn decode(plural: &str, body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with the protobuf magic number")?;
    let object: ObjectFields = match plural {
        "namespaces" => |raw| with_spec(raw, namespace_spec),
        "configmaps" => config_map,
        "secrets" => secret,
        "poddisruptionbudgets" => |raw| with_spec(raw, pdb_spec),
        "resourcequotas" => |raw| with_spec(raw, quota_spec),
        other => return Err(format!("{other} are not read from protobuf")),
    };
    let mut obj = Map::new();
    for (n, f) in fields(envelope)? {
        match (n, f) {
            (1, Field::Bytes(type_meta)) => {
                for (n, f) in fields(type_meta)? {
                    match (n, f) {
                        (1, Field::Bytes(b)) => _ = obj.insert("apiVersion".into(), text(b)?),
                        (2, Field::Bytes(b)) => _ = obj.insert("kind".into(), text(b)?),
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(raw)) => obj.extend(object(raw)?),
            _ => {}
        }
    }
    Ok(Value::Object(obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(number: u64, wire: u64, out: &mut Vec<u8>) {
        encode_varint((number << 3) | wire, out);
    }

    fn encode_varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        key(number, 2, &mut out);
        encode_varint(payload.len() as u64, &mut out);
        out.extend_from_slice(payload);
        out
    }

    fn int(number: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        key(number, 0, &mut out);
        encode_varint(v, &mut out);
        out
    }

    fn entry(k: &str, v: &[u8]) -> Vec<u8> {
        [bytes(1, k.as_bytes()), bytes(2, v)].concat()
    }

    #[test]
    fn a_budget_from_kubectl_create_pdb_reads_back_as_json() {
        let meta = [
            bytes(1, b"by-hand"),
            bytes(3, b"payments"),
            bytes(11, &entry("team", b"pay")),
        ]
        .concat();
        let selector = bytes(1, &entry("app", b"payments-api"));
        let min_available = [int(1, 0), int(2, 3)].concat();
        let max_unavailable = [int(1, 1), bytes(3, b"25%")].concat();
        let spec = [
            bytes(1, &min_available),
            bytes(2, &selector),
            bytes(3, &max_unavailable),
        ]
        .concat();
        let raw = [bytes(1, &meta), bytes(2, &spec)].concat();
        let type_meta = [bytes(1, b"policy/v1"), bytes(2, b"PodDisruptionBudget")].concat();
        let body = [
            MAGIC.to_vec(),
            bytes(1, &type_meta),
            bytes(2, &raw),
            bytes(4, b"application/vnd.kubernetes.protobuf"),
        ]
        .concat();
        assert_eq!(
            decode("poddisruptionbudgets", &body),
            Ok(
                json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                      "metadata": {"name": "by-hand", "namespace": "payments", "labels": {"team": "pay"}},
                      "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "payments-api"}}, "maxUnavailable": "25%"}})
            )
        );
    }

    #[test]
    fn a_quota_reads_its_hard_limits_and_other_kinds_are_refused() {
        let hard = [
            bytes(1, &entry("pods", &bytes(1, b"50"))),
            bytes(1, &entry("requests.cpu", &bytes(1, b"10"))),
        ]
        .concat();
        let raw = [bytes(1, &bytes(1, b"compute")), bytes(2, &hard)].concat();
        let body = [MAGIC.to_vec(), bytes(2, &raw)].concat();
        let quota = decode("resourcequotas", &body).unwrap();
        assert_eq!(
            quota["spec"],
            json!({"hard": {"pods": "50", "requests.cpu": "10"}})
        );
        assert!(decode("deployments", &body).is_err());
        assert!(decode("resourcequotas", b"{}").is_err());
        assert!(decode("resourcequotas", &[MAGIC, &[0x12, 0x05, 0x01]].concat()).is_err());
    }

    #[test]
    fn kubectl_create_namespace_configmap_and_secret_read_back_as_json() {
        let envelope = |api_version: &str, kind: &str, raw: &[u8]| {
            let type_meta = [bytes(1, api_version.as_bytes()), bytes(2, kind.as_bytes())].concat();
            [MAGIC.to_vec(), bytes(1, &type_meta), bytes(2, raw)].concat()
        };
        let ns = envelope(
            "v1",
            "Namespace",
            &[bytes(1, &bytes(1, b"scratch")), bytes(2, &[])].concat(),
        );
        assert_eq!(
            decode("namespaces", &ns),
            Ok(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}, "spec": {}})
            )
        );
        let meta = [bytes(1, b"settings"), bytes(3, b"payments")].concat();
        let cm = envelope(
            "v1",
            "ConfigMap",
            &[
                bytes(1, &meta),
                bytes(2, &entry("a", b"b")),
                bytes(3, &entry("bin", &[0, 255])),
                int(4, 1),
            ]
            .concat(),
        );
        assert_eq!(
            decode("configmaps", &cm).unwrap(),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "payments"},
                   "data": {"a": "b"}, "binaryData": {"bin": "AP8="}, "immutable": true})
        );
        let secret = envelope(
            "v1",
            "Secret",
            &[
                bytes(1, &bytes(1, b"token")),
                bytes(2, &entry("a", b"b")),
                bytes(3, b"Opaque"),
                bytes(4, &entry("plain", b"text")),
            ]
            .concat(),
        );
        assert_eq!(
            decode("secrets", &secret).unwrap(),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"},
                   "data": {"a": "Yg=="}, "type": "Opaque", "stringData": {"plain": "text"}})
        );
    }
}
