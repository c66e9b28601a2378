//! Reading a TOML file into serde types without losing where a mistake is: toml gives the
//! byte span of the value or key at fault, a path tracker gives the keys and indices that lead
//! to it (`waves[1].soak`). Plan, theme and keys files share this; each words its mistakes its own
//! way.
//!
//! Tables are read in the order the file writes them (toml's `preserve_order`), so when a
//! file has several mistakes the first one in the file is the one reported.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use serde::Serialize;
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};

/// What is wrong with a settings file (a plan, the keys), and where: `line` counts from 1
/// (0 when the problem has no line, e.g. the file cannot be read); `field` is the setting's
/// path, e.g. `waves[1].soak` (empty for a TOML syntax error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SettingError {}

/// One step on the way to a value: a table key or an array index.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// What is wrong, as serde and toml report it, sorted so each file can word it.
#[derive(Debug, Clone, PartialEq)]
pub enum Mistake {
    /// Not TOML at all (toml's own message).
    Syntax(String),
    /// A value of the wrong type or outside what the field takes. `found` is serde's
    /// description of the value (`integer `3``, `map`), `expected` the field's.
    Unexpected { found: String, expected: String },
    /// A key the table does not take; `expected` lists the keys it does.
    UnknownKey { key: String, expected: Vec<String> },
    /// Anything else, worded by the type that refused the value.
    Other(String),
}

/// A mistake with its place: `span` in bytes of the text, `path` from the document's root.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub span: Option<Range<usize>>,
    pub path: Vec<Step>,
    pub mistake: Mistake,
}

/// The kind of a value that did not fit, in general terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Float,
    Boolean,
    Date,
    Array,
    Table,
    Other,
}

/// Deserializes `text` into `T`, reporting the first mistake in the file.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, FileError> {
    let document = toml::de::Deserializer::parse(text).map_err(|e| FileError {
        span: e.span(),
        path: Vec::new(),
        mistake: Mistake::Syntax(e.message().to_owned()),
    })?;
    serde_path_to_error::deserialize(document).map_err(|e| {
        let path = steps(e.path());
        let inner = e.into_inner();
        FileError {
            span: inner.span(),
            mistake: sort(inner.message()),
            path,
        }
    })
}

/// How a type that only a table may hold is described when a file gives something else, as
/// "expected {EXPECTING}".
pub trait Expecting {
    const EXPECTING: &'static str;
}

/// A struct read from a table only. serde's derived structs also read an array of their
/// field values, which no file means.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub struct Table<T>(pub T);

impl<'de, T: Deserialize<'de> + Expecting> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor(PhantomData))
    }
}

struct TableVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Expecting> Visitor<'de> for TableVisitor<T> {
    type Value = Table<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Table<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(Table)
            .map_err(|e| {
                // toml hands a date over as a table with one private key, which `T` refuses
                // as unknown: say what was expected instead.
                if e.to_string().contains("`$__toml_private") {
                    de::Error::invalid_type(de::Unexpected::Map, &self)
                } else {
                    e
                }
            })
    }
}

/// The path without the private keys toml uses to carry spans and dates.
fn steps(path: &serde_path_to_error::Path) -> Vec<Step> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } if !key.starts_with("$__") => Some(Step::Key(key.clone())),
            _ => None,
        })
        .collect()
}

/// Sorts serde's standard messages ("invalid type: ..., expected ...", "unknown field ...")
/// from those the file's own types wrote.
fn sort(message: &str) -> Mistake {
    let unexpected = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some((found, expected)) = unexpected.and_then(|rest| rest.rsplit_once(", expected ")) {
        return Mistake::Unexpected {
            found: found.to_owned(),
            expected: expected.to_owned(),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        // After the key: ", expected `a`", "... `a` or `b`", "... one of `a`, `b`", or none.
        let (key, after_key) = rest.split_once("`, ").unwrap_or((rest, ""));
        let expected = after_key
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        let key = key.to_owned();
        return Mistake::UnknownKey { key, expected };
    }
    Mistake::Other(message.to_owned())
}

impl FileError {
    /// The 1-based line of the mistake; 0 when toml gave no position.
    pub fn line(&self, text: &str) -> usize {
        self.span
            .as_ref()
            .map_or(0, |span| line_of(text, span.start))
    }

    /// The value at fault as the file writes it (empty without a span).
    pub fn written<'t>(&self, text: &'t str) -> &'t str {
        self.span
            .clone()
            .and_then(|span| text.get(span))
            .unwrap_or_default()
            .trim()
    }
}

/// The kind of value serde `found` (its description, e.g. `integer `3``), helped by the text
/// as written: toml hands dates to serde as tables, and a dotted key's table is written as
/// its key.
pub fn kind(found: &str, written: &str) -> Kind {
    let first = found.split([' ', '`']).next().unwrap_or_default();
    match first {
        "string" => Kind::String,
        "integer" => Kind::Integer,
        "floating" => Kind::Float,
        "boolean" => Kind::Boolean,
        "sequence" => Kind::Array,
        // TOML dates start with a digit; keys and tables do not.
        "map" if written.starts_with(|c: char| c.is_ascii_digit()) => Kind::Date,
        "map" => Kind::Table,
        _ => Kind::Other,
    }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, at: usize) -> usize {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    1 + before.bytes().filter(|&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use toml::Spanned;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: Option<Spanned<String>>,
        items: Option<Vec<Table<Item>>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        size: Option<u8>,
    }

    impl Expecting for Item {
        const EXPECTING: &'static str = "[[items]] tables";
    }

    fn error(text: &str) -> FileError {
        read::<Doc>(text).expect_err(text)
    }

    #[test]
    fn a_wrong_value_has_its_span_path_and_kind() {
        let text = "name = \"a\"\n\n[[items]]\nsize = 1\n\n[[items]]\nsize = 300\n";
        let e = error(text);
        assert_eq!(
            e.path,
            [
                Step::Key("items".into()),
                Step::Index(1),
                Step::Key("size".into())
            ]
        );
        assert_eq!((e.line(text), e.written(text)), (7, "300"));
        let Mistake::Unexpected { found, expected } = &e.mistake else {
            panic!("{e:?}");
        };
        assert_eq!((found.as_str(), expected.as_str()), ("integer `300`", "u8"));
        assert_eq!(kind(found, e.written(text)), Kind::Integer);
        // Spanned values do not show in the path.
        let e = error("name = 1\n");
        assert_eq!(e.path, [Step::Key("name".into())]);
    }

    #[test]
    fn a_struct_is_read_from_a_table_only() {
        let text = "items = [[1]]\n";
        let e = error(text);
        assert_eq!(e.path, [Step::Key("items".into()), Step::Index(0)]);
        assert_eq!(
            e.mistake,
            Mistake::Unexpected {
                found: "sequence".into(),
                expected: "[[items]] tables".into()
            }
        );
        let text = "items = [1979-05-27]\n";
        let e = error(text);
        let Mistake::Unexpected { found, expected } = &e.mistake else {
            panic!("{e:?}");
        };
        assert_eq!(expected, "[[items]] tables");
        assert_eq!(kind(found, e.written(text)), Kind::Date);
        let doc: Doc = read("items = [{ size = 1 }, {}]\n").unwrap();
        assert_eq!(doc.items.unwrap().len(), 2);
    }

    #[test]
    fn unknown_keys_list_what_the_table_takes() {
        let text = "items = [{ size = 1, colour = 2 }]\n";
        let e = error(text);
        assert_eq!(e.written(text), "colour");
        assert_eq!(
            e.mistake,
            Mistake::UnknownKey {
                key: "colour".into(),
                expected: vec!["size".into()]
            }
        );
        let e = error("\nnmae = 1\n");
        assert_eq!(e.line("\nnmae = 1\n"), 2);
        assert_eq!(
            e.mistake,
            Mistake::UnknownKey {
                key: "nmae".into(),
                expected: vec!["name".into(), "items".into()]
            }
        );
    }

    #[test]
    fn the_first_mistake_in_the_file_is_reported() {
        let e = error("zzz = 1\nname = 2\n");
        assert!(matches!(e.mistake, Mistake::UnknownKey { .. }), "{e:?}");
        let e = error("name = 2\nzzz = 1\n");
        assert!(matches!(e.mistake, Mistake::Unexpected { .. }), "{e:?}");
    }

    #[test]
    fn syntax_errors_keep_tomls_position() {
        let text = "name = \"a\"\nname = \"b\"\n";
        let e = error(text);
        assert_eq!(e.line(text), 2);
        assert_eq!(e.mistake, Mistake::Syntax("duplicate key".into()));
    }

    #[test]
    fn kinds_follow_serdes_words_and_the_text() {
        assert_eq!(kind("string \"x\"", "\"x\""), Kind::String);
        assert_eq!(kind("floating point `1.5`", "1.5"), Kind::Float);
        assert_eq!(kind("boolean `true`", "true"), Kind::Boolean);
        assert_eq!(kind("sequence", "[1]"), Kind::Array);
        assert_eq!(kind("map", "[ok]"), Kind::Table);
        assert_eq!(kind("map", "{ a = 1 }"), Kind::Table);
        assert_eq!(kind("map", "1979-05-27"), Kind::Date);
        assert_eq!(kind("map", "from"), Kind::Table);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a\n", 99), 2);
    }
}
