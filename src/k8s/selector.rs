//! Kubernetes label and field selectors, as sent in the `labelSelector` and
//! `fieldSelector` query parameters of list and watch requests.

use std::collections::BTreeMap;

mod written;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Exists,
    NotExists,
    Equals,
    NotEquals,
    In,
    NotIn,
    GreaterThan,
    LessThan,
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        let listed = |v: &String| self.values.contains(v);
        let number = |v: &String| v.parse::<i64>().ok();
        let compare = |want| match (value.and_then(number), self.values.first().and_then(number)) {
            (Some(actual), Some(bound)) => actual.cmp(&bound) == want,
            _ => false,
        };
        match self.op {
            Op::Exists => value.is_some(),
            Op::NotExists => value.is_none(),
            Op::Equals | Op::In => value.is_some_and(listed),
            Op::NotEquals | Op::NotIn => !value.is_some_and(listed),
            Op::GreaterThan => compare(std::cmp::Ordering::Greater),
            Op::LessThan => compare(std::cmp::Ordering::Less),
        }
    }
}

/// A parsed label selector: every requirement must hold for a match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Parses the textual form (`app=web,tier in (a,b),!canary`). An empty or
    /// blank string selects everything.
    pub fn parse(s: &str) -> Result<LabelSelector, String> {
        let requirements = Parser(lex(s))
            .requirements()
            .map_err(|e| format!("invalid label selector '{s}': {e}"))?;
        Ok(LabelSelector { requirements })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

fn is_symbol(c: char) -> bool {
    matches!(c, '!' | '=' | ',' | '(' | ')' | '<' | '>')
}

fn is_word(token: &str) -> bool {
    token.starts_with(|c| !is_symbol(c))
}

/// Tokens are words or one of the symbols `! = == != > < ( ) ,`. Words never
/// contain symbol characters, so the first character tells the two apart.
/// The list is returned reversed so the parser can pop tokens off the end.
fn lex(s: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut token = c.to_string();
        if matches!(c, '!' | '=') {
            token.extend(chars.next_if_eq(&'='));
        } else if !is_symbol(c) {
            while let Some(n) = chars.next_if(|&n| !n.is_whitespace() && !is_symbol(n)) {
                token.push(n);
            }
        }
        tokens.push(token);
    }
    tokens.reverse();
    tokens
}

fn found(token: Option<&str>, expected: &str) -> String {
    let token = token.map_or("end of string".to_string(), |t| format!("'{t}'"));
    format!("found {token}, expected {expected}")
}

struct Parser(Vec<String>);

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    fn at_requirement_end(&self) -> bool {
        matches!(self.peek(), None | Some(","))
    }

    fn requirements(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        if self.peek().is_none() {
            return Ok(requirements);
        }
        loop {
            requirements.push(self.requirement()?);
            match self.0.pop() {
                None => return Ok(requirements),
                Some(t) if t == "," => {}
                other => return Err(found(other.as_deref(), "',' or end of string")),
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let negated = self.peek() == Some("!");
        if negated {
            self.0.pop();
        }
        let key = match self.0.pop() {
            Some(w) if is_word(&w) => w,
            other if negated => return Err(found(other.as_deref(), "a label key")),
            other => return Err(found(other.as_deref(), "'!' or a label key")),
        };
        validate_key(&key)?;
        if self.at_requirement_end() {
            let (op, values) = (if negated { Op::NotExists } else { Op::Exists }, Vec::new());
            return Ok(Requirement { key, op, values });
        }
        if negated {
            let expected = format!("',' or end of string after '!{key}'");
            return Err(found(self.peek(), &expected));
        }
        let op = match self.0.pop().as_deref() {
            Some("=" | "==") => Op::Equals,
            Some("!=") => Op::NotEquals,
            Some(">") => Op::GreaterThan,
            Some("<") => Op::LessThan,
            Some("in") => Op::In,
            Some("notin") => Op::NotIn,
            other => {
                return Err(found(
                    other,
                    "an operator (=, ==, !=, in, notin, >, <) or ','",
                ));
            }
        };
        let values = match op {
            Op::In | Op::NotIn => self.value_list()?,
            _ if self.at_requirement_end() => vec![String::new()],
            _ => match self.0.pop() {
                Some(w) if is_word(&w) => vec![w],
                other => return Err(found(other.as_deref(), "a label value")),
            },
        };
        for value in &values {
            validate_value(value)?;
        }
        if matches!(op, Op::GreaterThan | Op::LessThan) && values[0].parse::<i64>().is_err() {
            return Err(format!("'>' and '<' need an integer, not '{}'", values[0]));
        }
        Ok(Requirement { key, op, values })
    }

    /// `(a, b, c)`; as in Kubernetes, an empty slot such as `(a,)` is the empty value.
    fn value_list(&mut self) -> Result<Vec<String>, String> {
        if self.peek() != Some("(") {
            return Err(found(self.peek(), "'(' to start a list of values"));
        }
        self.0.pop();
        let mut values = Vec::new();
        let mut current: Option<String> = None;
        loop {
            match self.0.pop() {
                Some(w) if is_word(&w) && current.is_none() => current = Some(w),
                Some(t) if t == "," => values.push(current.take().unwrap_or_default()),
                Some(t) if t == ")" => {
                    if current.is_some() || !values.is_empty() {
                        values.push(current.take().unwrap_or_default());
                    }
                    break;
                }
                other if current.is_some() => return Err(found(other.as_deref(), "',' or ')'")),
                other => return Err(found(other.as_deref(), "a value, ',' or ')'")),
            }
        }
        if values.is_empty() {
            return Err("'in' and 'notin' need at least one value".to_string());
        }
        Ok(values)
    }
}

/// Alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
fn is_name_like(s: &str) -> bool {
    let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let middle = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    ends(s.chars().next()) && ends(s.chars().last()) && s.chars().all(middle)
}

fn is_dns_subdomain(s: &str) -> bool {
    let label_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    s.len() <= 253
        && s.split('.').all(|label| {
            let edges_ok = !label.starts_with('-') && !label.ends_with('-');
            !label.is_empty() && edges_ok && label.chars().all(label_char)
        })
}

const NAME_RULES: &str = "at most 63 characters of letters, digits, '-', '_' or '.', \
                          starting and ending with a letter or digit";

fn validate_key(key: &str) -> Result<(), String> {
    let name = match key.split_once('/') {
        Some((prefix, _)) if !is_dns_subdomain(prefix) => {
            return Err(format!(
                "invalid label key '{key}': the prefix before '/' must be a lowercase DNS \
                 subdomain such as 'example.com'"
            ));
        }
        Some((_, name)) => name,
        None => key,
    };
    if name.len() > 63 || !is_name_like(name) {
        return Err(format!(
            "invalid label key '{key}': the name must be {NAME_RULES}"
        ));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_name_like(value)) {
        return Ok(());
    }
    Err(format!(
        "invalid label value '{value}': it must be empty or {NAME_RULES}"
    ))
}

#[derive(Debug, Clone, PartialEq)]
struct FieldTerm {
    field: String,
    negated: bool,
    value: String,
}

/// A parsed field selector: every term must hold for a match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// Parses `metadata.name=foo,status.phase!=Running`. Values may escape
    /// `\,`, `\=`, `\!` and `\\`. Empty terms are skipped, as Kubernetes does.
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for raw in split_unescaped_commas(s) {
            if raw.trim().is_empty() {
                continue;
            }
            let term = parse_term(&raw)
                .map_err(|e| format!("invalid field selector term '{raw}': {e}"))?;
            terms.push(term);
        }
        Ok(FieldSelector { terms })
    }

    /// Names of the fields the selector refers to (so the caller can reject unsupported ones).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(|t| t.field.as_str())
    }

    /// `get` returns the object's value for a field name (None = field absent, treated as "").
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.terms
            .iter()
            .all(|t| (get(&t.field).unwrap_or_default() == t.value) != t.negated)
    }
}

/// Splits on commas that are not escaped; escapes are kept for `unescape`.
fn split_unescaped_commas(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ',' => parts.push(std::mem::take(&mut part)),
            '\\' => {
                part.push(c);
                part.extend(chars.next());
            }
            _ => part.push(c),
        }
    }
    parts.push(part);
    parts
}

/// Splits at the first operator, trims the field name and unescapes the value.
fn parse_term(term: &str) -> Result<FieldTerm, String> {
    let operators = [("!=", true), ("==", false), ("=", false)];
    let split = term.char_indices().find_map(|(i, _)| {
        let rest = &term[i..];
        operators.iter().find_map(|&(op, negated)| {
            let value = rest.strip_prefix(op)?;
            Some((&term[..i], negated, value))
        })
    });
    let Some((field, negated, value)) = split else {
        return Err("expected field=value, field==value or field!=value".to_string());
    };
    let field = field.trim().to_string();
    if field.is_empty() {
        return Err("the field name is empty".to_string());
    }
    let value = unescape(value)?;
    Ok(FieldTerm {
        field,
        negated,
        value,
    })
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=' | '!')) => out.push(e),
                Some(e) => return Err(format!("unknown escape sequence '\\{e}' in the value")),
                None => return Err("the value ends with a lone backslash".to_string()),
            },
            '=' | ',' => return Err(format!("'{c}' in a value must be escaped as '\\{c}'")),
            _ => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Whether selector `s` matches the labels.
    fn hit(s: &str, pairs: &[(&str, &str)]) -> bool {
        let selector = LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        selector.matches(&labels(pairs))
    }

    #[test]
    fn empty_selector_matches_everything() {
        for s in ["", "   "] {
            assert!(LabelSelector::parse(s).is_ok_and(|sel| sel.is_empty()));
            assert!(hit(s, &[]) && hit(s, &[("a", "b")]));
        }
        assert!(!LabelSelector::parse("a").is_ok_and(|sel| sel.is_empty()));
    }

    #[test]
    fn equality_operators() {
        let l = [("app", "web"), ("istio.io/rev", "1-22-0")];
        assert!(hit("app=web", &l) && hit("app==web", &l) && !hit("app=db", &l));
        assert!(hit("istio.io/rev=1-22-0", &l));
        assert!(hit("app!=db", &l) && !hit("app!=web", &l));
        // != also holds when the label is missing entirely.
        assert!(hit("missing!=x", &l) && !hit("missing=x", &l));
    }

    #[test]
    fn empty_values() {
        let l = [("a", ""), ("b", "x")];
        assert!(hit("a=", &l) && hit("a==", &l) && hit("a=,b=x", &l));
        assert!(!hit("b=", &l) && hit("b!=", &l) && !hit("missing=", &l));
        assert!(hit("a in (x,)", &l) && hit("a in (,x)", &l) && !hit("b in (,)", &l));
    }

    #[test]
    fn set_operators() {
        let l = [("env", "prod")];
        assert!(hit("env in (prod,staging)", &l) && hit("env in (prod)", &l));
        assert!(!hit("env in (dev, staging)", &l));
        assert!(hit("env notin (dev,staging)", &l) && !hit("env notin (prod)", &l));
        assert!(!hit("missing in (a)", &l) && hit("missing notin (a)", &l));
    }

    #[test]
    fn existence_operators() {
        let l = [("app.kubernetes.io/name", "istiod")];
        assert!(hit("app.kubernetes.io/name", &l) && !hit("other", &l));
        assert!(hit("!other", &l) && hit("! other", &l));
        assert!(!hit("!app.kubernetes.io/name", &l));
        // A label called "in" is a legal key.
        assert!(hit("in", &[("in", "x")]));
    }

    #[test]
    fn numeric_comparisons() {
        let l = [("replicas", "3"), ("name", "x")];
        assert!(hit("replicas>2", &l) && !hit("replicas>3", &l) && hit("replicas<4", &l));
        assert!(!hit("name<4", &l) && !hit("missing<4", &l));
        assert!(LabelSelector::parse("replicas>x").is_err());
    }

    #[test]
    fn combinations_and_whitespace() {
        let l = [("app", "web"), ("istio.io/rev", "canary"), ("tier", "fe")];
        let s = "  app = web ,  istio.io/rev in ( canary , stable ) , !legacy, tier ,tier!=be ";
        assert!(hit(s, &l));
        assert!(!hit("app=web,tier=be", &l) && !hit("app=web,legacy", &l));
        // The same key may appear more than once.
        assert!(hit("tier,tier=fe", &l));
    }

    #[test]
    fn invalid_label_selectors() {
        let long = "x".repeat(64);
        let bad = "a in b|in (x)|a=(b|=x|a,,b|a,|,a|my key=v|a in ()|a in (b|a in (b c)|\
                   a notin b,c|!a=b|!|a=b=c|a=b c|-a=b|a-=b|a=-b|a=b_|Example.com/a=b|/a=b|\
                   a/=b|a/b/c=d|a=b(|a)|a in (b)(c)|a>|a<1.5";
        let long_cases = [format!("{long}=a"), format!("a={long}")];
        for s in bad.split('|').chain(long_cases.iter().map(String::as_str)) {
            let err = LabelSelector::parse(s).expect_err(s);
            assert!(err.starts_with("invalid label selector"), "{s}: {err}");
        }
        assert!(LabelSelector::parse(&format!("a={}", &long[..63])).is_ok());
    }

    #[test]
    fn error_messages_name_the_offending_token() {
        let cases = [
            ("a in b", "found 'b', expected '('"),
            ("a,,b", "found ',', expected '!' or a label key"),
            ("a,", "found end of string"),
            ("my key=v", "found 'key', expected an operator"),
            ("a=(b", "found '(', expected a label value"),
            ("a in ()", "need at least one value"),
            ("a b=c", "found 'b'"),
            ("Example.com/a", "DNS subdomain"),
        ];
        for (s, want) in cases {
            let err = LabelSelector::parse(s).expect_err(s);
            assert!(err.contains(want), "{s}: {err}");
        }
    }

    fn fsel(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn object(field: &str) -> Option<String> {
        match field {
            "metadata.name" => Some("istiod-1-22".to_string()),
            "metadata.namespace" => Some("istio-system".to_string()),
            "spec.nodeName" => Some(r"a,b=c!d\e".to_string()),
            _ => None,
        }
    }

    #[test]
    fn field_selector_operators() {
        assert!(fsel("").matches(object));
        assert!(fsel("metadata.name=istiod-1-22").matches(object));
        assert!(fsel("metadata.name==istiod-1-22").matches(object));
        assert!(!fsel("metadata.name!=istiod-1-22").matches(object));
        assert!(fsel("metadata.name!=other").matches(object));
        assert!(fsel("metadata.name=istiod-1-22,metadata.namespace=istio-system").matches(object));
        assert!(!fsel("metadata.name=istiod-1-22,metadata.namespace=default").matches(object));
        // Field names are trimmed; values are taken literally.
        assert!(fsel(" metadata.name = istiod-1-22").matches(|_| Some(" istiod-1-22".into())));
    }

    #[test]
    fn field_selector_absent_fields_and_empty_terms() {
        assert!(fsel("a=1,,b!=2,").fields().eq(["a", "b"]));
        assert!(fsel("status.phase=").matches(object));
        assert!(fsel("status.phase!=Running").matches(object));
        assert!(!fsel("status.phase=Running").matches(object));
    }

    #[test]
    fn field_selector_escapes() {
        assert!(fsel(r"spec.nodeName=a\,b\=c\!d\\e").matches(object));
        assert!(!fsel(r"spec.nodeName=a\,b").matches(object));
        let s = fsel(r"metadata.name=x\,y,metadata.namespace=z");
        assert!(s.matches(|f| Some(if f == "metadata.name" { "x,y" } else { "z" }.into())));
    }

    #[test]
    fn invalid_field_selectors() {
        let cases = [
            ("=x", "field name is empty"),
            (" ==x", "field name is empty"),
            ("!=x", "field name is empty"),
            ("metadata.name", "expected field=value"),
            ("a=b,c", "expected field=value"),
            (r"a=b\", "lone backslash"),
            (r"a=\x", "unknown escape"),
            ("a=b=c", "must be escaped"),
        ];
        for (s, want) in cases {
            let err = FieldSelector::parse(s).expect_err(s);
            assert!(
                err.starts_with("invalid field selector") && err.contains(want),
                "{s}: {err}"
            );
        }
    }
}
