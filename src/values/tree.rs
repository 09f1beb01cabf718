//! A values tree read the way Helm reads YAML.
//!
//! Helm reads values files and rendered manifests with `sigs.k8s.io/yaml`, which decodes with
//! go-yaml v2 (YAML 1.1 scalars: `yes`/`on`/`y` are booleans, `0777` is octal, `1_000` an
//! integer, timestamps stay strings), takes the first document of a stream, lets a repeated key
//! win over an earlier one and applies `<<` merge keys. The events come from libyaml-safer, a
//! port of the libyaml go-yaml was ported from, so comments of any length, a trailing `---` and
//! the rest of the syntax are accepted exactly when Helm accepts them. (serde-saphyr, used before,
//! refused a key with no value followed by more than 32 comment lines, and a trailing `---`.)

use indexmap::IndexMap;
use libyaml_safer::{Event, EventData, Mark, Parser, ScalarStyle};

use super::ValuesError;

/// A values tree, in file order (Helm's maps are unordered; order only keeps the output
/// readable and stable).
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Map),
}

pub type Map = IndexMap<String, Yaml>;

/// Most nodes one document may expand to through aliases: go-yaml refuses "excessive aliasing"
/// too, and a few kilobytes of nested aliases must not become gigabytes here.
const MAX_NODES: usize = 10_000_000;
const MAX_DEPTH: usize = 1000;

impl Yaml {
    /// The first document of `text` (an empty stream is `Null`).
    pub fn parse(text: &str, origin: &str) -> Result<Yaml, ValuesError> {
        let mut input = text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes();
        let mut parser = Parser::new();
        parser.set_input_string(&mut input);
        let mut builder = Builder {
            parser,
            anchors: IndexMap::new(),
            nodes: 0,
            origin,
        };
        builder.document()
    }

    /// A values file: a mapping, or empty.
    pub fn parse_values(text: &str, origin: &str) -> Result<Map, ValuesError> {
        match Yaml::parse(text, origin)? {
            Yaml::Null => Ok(Map::new()),
            Yaml::Map(map) => Ok(map),
            other => Err(ValuesError::NotAMapping {
                origin: origin.to_string(),
                found: other.type_name(),
            }),
        }
    }

    /// JSON (what a probe template's `toJson .Values` prints) as a tree.
    pub fn from_json(value: serde_json::Value) -> Yaml {
        use serde_json::Value as J;
        match value {
            J::Null => Yaml::Null,
            J::Bool(b) => Yaml::Bool(b),
            J::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Yaml::Int(i),
                (None, Some(u)) => Yaml::UInt(u),
                _ => Yaml::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Yaml::Str(s),
            J::Array(items) => Yaml::Seq(items.into_iter().map(Yaml::from_json).collect()),
            J::Object(entries) => Yaml::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, Yaml::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The tree as JSON, which every YAML reader reads the same way (the probe values files).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Yaml::Null => J::Null,
            Yaml::Bool(b) => J::Bool(*b),
            Yaml::Int(i) => J::from(*i),
            Yaml::UInt(u) => J::from(*u),
            Yaml::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Yaml::Str(s) => J::String(s.clone()),
            Yaml::Seq(items) => J::Array(items.iter().map(Yaml::to_json).collect()),
            Yaml::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Yaml::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Yaml]> {
        match self {
            Yaml::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Yaml> {
        self.as_map()?.get(key)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }

    /// Scalars as `sigs.k8s.io/yaml` turns a non-string key into a JSON key.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Yaml::Null => Some("null".into()),
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Int(i) => Some(i.to_string()),
            Yaml::UInt(u) => Some(u.to_string()),
            Yaml::Float(f) => Some(f.to_string()),
            Yaml::Str(s) => Some(s.clone()),
            Yaml::Seq(_) | Yaml::Map(_) => None,
        }
    }
}

struct Builder<'r, 'b, 'o> {
    parser: Parser<&'r mut &'b [u8]>,
    anchors: IndexMap<String, Yaml>,
    nodes: usize,
    origin: &'o str,
}

impl Builder<'_, '_, '_> {
    fn next(&mut self) -> Result<Event, ValuesError> {
        self.parser.parse().map_err(|e| ValuesError::Yaml {
            origin: self.origin.to_string(),
            message: e.to_string(),
        })
    }

    fn error(&self, event: &Event, message: impl Into<String>) -> ValuesError {
        self.error_at(event.start_mark, message)
    }

    fn error_at(&self, mark: Mark, message: impl Into<String>) -> ValuesError {
        ValuesError::Yaml {
            origin: self.origin.to_string(),
            message: format!(
                "line {} column {}: {}",
                mark.line + 1,
                mark.column + 1,
                message.into()
            ),
        }
    }

    /// go-yaml v2's `Unmarshal` decodes the first document and never looks further.
    fn document(&mut self) -> Result<Yaml, ValuesError> {
        loop {
            let event = self.next()?;
            match event.data {
                EventData::StreamStart { .. } => {}
                EventData::StreamEnd => return Ok(Yaml::Null),
                EventData::DocumentStart { .. } => {
                    let event = self.next()?;
                    return self.node(event, 0);
                }
                _ => return Err(self.error(&event, "unexpected event before a document")),
            }
        }
    }

    fn count(&mut self, event: &Event, n: usize) -> Result<(), ValuesError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(self.error(event, "the document expands to too many nodes (aliases)"));
        }
        Ok(())
    }

    fn node(&mut self, event: Event, depth: usize) -> Result<Yaml, ValuesError> {
        if depth > MAX_DEPTH {
            return Err(self.error(&event, "nested too deeply"));
        }
        self.count(&event, 1)?;
        match event.data {
            EventData::Alias { ref anchor } => match self.anchors.get(anchor) {
                Some(value) => {
                    let value = value.clone();
                    self.count(&event, size(&value))?;
                    Ok(value)
                }
                None => Err(self.error(&event, format!("unknown anchor `{anchor}`"))),
            },
            EventData::Scalar {
                ref anchor,
                ref tag,
                ref value,
                style,
                ..
            } => {
                let resolved = resolve(value, tag.as_deref(), style == ScalarStyle::Plain)
                    .map_err(|m| self.error(&event, m))?;
                if let Some(a) = anchor {
                    self.anchors.insert(a.clone(), resolved.clone());
                }
                Ok(resolved)
            }
            EventData::SequenceStart { ref anchor, .. } => {
                let anchor = anchor.clone();
                let mut items = Vec::new();
                loop {
                    let next = self.next()?;
                    if matches!(next.data, EventData::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(next, depth + 1)?);
                }
                let seq = Yaml::Seq(items);
                if let Some(a) = anchor {
                    self.anchors.insert(a, seq.clone());
                }
                Ok(seq)
            }
            EventData::MappingStart { ref anchor, .. } => {
                let anchor = anchor.clone();
                let mut map = Map::new();
                loop {
                    let key_event = self.next()?;
                    if matches!(key_event.data, EventData::MappingEnd) {
                        break;
                    }
                    let merge = matches!(&key_event.data,
                        EventData::Scalar { value, tag: None, style: ScalarStyle::Plain, .. }
                            if value == "<<");
                    let key_mark = key_event.start_mark;
                    let key = self.node(key_event, depth + 1)?;
                    let value_event = self.next()?;
                    let value = self.node(value_event, depth + 1)?;
                    if merge {
                        merge_into(&mut map, value).map_err(|m| self.error_at(key_mark, m))?;
                        continue;
                    }
                    let Some(key) = key.scalar_text() else {
                        return Err(self.error_at(
                            key_mark,
                            "a mapping key must be a scalar (Helm cannot read this either)",
                        ));
                    };
                    // A repeated key wins, as in go-yaml v2.
                    map.shift_remove(&key);
                    map.insert(key, value);
                }
                let map = Yaml::Map(map);
                if let Some(a) = anchor {
                    self.anchors.insert(a, map.clone());
                }
                Ok(map)
            }
            _ => Err(self.error(&event, "unexpected event")),
        }
    }
}

fn size(value: &Yaml) -> usize {
    match value {
        Yaml::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
        Yaml::Map(m) => 1 + m.values().map(size).sum::<usize>(),
        _ => 1,
    }
}

/// `<<: map` sets the map's keys; `<<: [a, b]` sets b's, then a's (the first wins), as go-yaml
/// v2 does. Keys written after the `<<` override what it set.
fn merge_into(map: &mut Map, value: Yaml) -> Result<(), String> {
    match value {
        Yaml::Map(m) => {
            for (k, v) in m {
                map.shift_remove(&k);
                map.insert(k, v);
            }
            Ok(())
        }
        Yaml::Seq(items) => {
            for item in items.into_iter().rev() {
                match item {
                    Yaml::Map(_) => merge_into(map, item)?,
                    _ => return Err("a merge key's list must hold mappings".into()),
                }
            }
            Ok(())
        }
        _ => Err("a merge key (`<<`) needs a mapping or a list of mappings".into()),
    }
}

/// A scalar's value as go-yaml v2 resolves it (`resolve.go`): tags first, then for plain
/// scalars YAML 1.1's nulls, booleans, integers (any base, `_` ignored) and floats.
fn resolve(text: &str, tag: Option<&str>, plain: bool) -> Result<Yaml, String> {
    let tag = tag.map(|t| t.strip_prefix("tag:yaml.org,2002:").map_or(t, |s| s));
    match tag {
        None if !plain => return Ok(Yaml::Str(text.to_string())),
        None | Some("!") => {}
        Some("str") => return Ok(Yaml::Str(text.to_string())),
        Some("null") => return Ok(Yaml::Null),
        Some("bool") => {
            return bool_of(text)
                .map(Yaml::Bool)
                .ok_or_else(|| format!("cannot read {text:?} as !!bool"));
        }
        Some("int") => {
            return int_of(text).ok_or_else(|| format!("cannot read {text:?} as !!int"));
        }
        Some("float") => {
            return int_of(text)
                .map(|v| match v {
                    Yaml::Int(i) => Yaml::Float(i as f64),
                    Yaml::UInt(u) => Yaml::Float(u as f64),
                    other => other,
                })
                .or_else(|| float_of(text).map(Yaml::Float))
                .ok_or_else(|| format!("cannot read {text:?} as !!float"));
        }
        Some("binary") => {
            use base64::Engine as _;
            let compact: String = text.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| "invalid !!binary data".to_string())?;
            return Ok(Yaml::Str(String::from_utf8_lossy(&bytes).into_owned()));
        }
        // go-yaml keeps the text of scalars with tags it does not know (`!foo bar`).
        Some(_) => return Ok(Yaml::Str(text.to_string())),
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Yaml::Null);
    }
    if let Some(b) = bool_of(text) {
        return Ok(Yaml::Bool(b));
    }
    if let Some(v) = int_of(text) {
        return Ok(v);
    }
    if let Some(f) = float_of(text) {
        return Ok(Yaml::Float(f));
    }
    Ok(Yaml::Str(text.to_string()))
}

fn bool_of(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` after removing `_`: `0x`, `0o`, `0b` prefixes and a
/// leading `0` for octal; then unsigned for what does not fit.
fn int_of(text: &str) -> Option<Yaml> {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(body, radix).ok()?;
    if negative {
        let value = -(i128::try_from(magnitude).ok()?);
        i64::try_from(value).ok().map(Yaml::Int)
    } else if let Ok(i) = i64::try_from(magnitude) {
        Some(Yaml::Int(i))
    } else {
        u64::try_from(magnitude).ok().map(Yaml::UInt)
    }
}

/// go-yaml v2's float pattern `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` and the
/// `.inf`/`.nan` spellings.
fn float_of(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    } else {
        if digits(&mut i) == 0 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Map {
        Yaml::parse_values(text, "<test>").unwrap()
    }

    #[test]
    fn keeps_order_types_and_stringifies_scalar_keys() {
        // `on` is a YAML 1.1 boolean, as in Helm's YAML library; quoted, it is a string.
        let v = map("b: 1\na: [x, {name: y}]\n3: true\nf: 1.5\nnone: ~\non: 1\n'off': 2\n");
        assert_eq!(
            v.keys().collect::<Vec<_>>(),
            ["b", "a", "3", "f", "none", "true", "off"],
            "file order"
        );
        assert_eq!(v["b"], Yaml::Int(1));
        assert_eq!(v["3"], Yaml::Bool(true));
        assert_eq!(v["none"], Yaml::Null);
        assert!(matches!(
            Yaml::parse_values("- a\n", "f.yaml"),
            Err(ValuesError::NotAMapping { .. })
        ));
        assert_eq!(map("# only a comment\n"), Map::new());
    }

    #[test]
    fn yaml_1_1_scalars_as_go_yaml_v2_reads_them() {
        let v = map(
            "a: yes\nb: n\nc: 0777\nd: 0x1F\ne: 1_000\nf: 2001-12-14\ng: !!str 12\nh: .5\ni: 1e3\nj: '0777'\nk: 0b101\nl: 18446744073709551615\nm: !custom x\n",
        );
        assert_eq!(v["a"], Yaml::Bool(true));
        assert_eq!(v["b"], Yaml::Bool(false));
        assert_eq!(v["c"], Yaml::Int(0o777));
        assert_eq!(v["d"], Yaml::Int(31));
        assert_eq!(v["e"], Yaml::Int(1000));
        assert_eq!(
            v["f"],
            Yaml::Str("2001-12-14".into()),
            "timestamps stay text"
        );
        assert_eq!(v["g"], Yaml::Str("12".into()));
        assert_eq!(v["h"], Yaml::Float(0.5));
        assert_eq!(v["i"], Yaml::Float(1000.0));
        assert_eq!(v["j"], Yaml::Str("0777".into()));
        assert_eq!(v["k"], Yaml::Int(5));
        assert_eq!(v["l"], Yaml::UInt(u64::MAX));
        assert_eq!(v["m"], Yaml::Str("x".into()));
    }

    /// Issue 14 items 3 and 4: what serde-saphyr refused and Helm accepts.
    #[test]
    fn long_comments_and_a_trailing_document_marker() {
        let mut text = String::from("image:\n  pullSecrets:\n");
        for i in 0..200 {
            text.push_str(&format!("  # comment {i}\n"));
        }
        text.push_str("  tag: x\nimagePullSecrets: []\n---\n");
        let v = map(&text);
        assert_eq!(v["image"], Yaml::Map(map("pullSecrets: null\ntag: x\n")));
        assert_eq!(v["imagePullSecrets"], Yaml::Seq(vec![]));
        // Only the first document counts, as in Helm.
        assert_eq!(map("a: 1\n---\nb: 2\n"), map("a: 1\n"));
        assert_eq!(map("---\n"), Map::new());
    }

    #[test]
    fn anchors_aliases_merge_keys_and_repeated_keys() {
        let v = map(
            "base: &b {registry: r.example.com, tag: '1'}\nx:\n  <<: *b\n  tag: '2'\nw: *b\nz:\n  <<: [{a: 1}, {a: 2, b: 2}]\nk: 1\nk: 2\n",
        );
        assert_eq!(
            v["x"],
            Yaml::Map(map("registry: r.example.com\ntag: '2'\n"))
        );
        assert_eq!(v["w"], v["base"]);
        assert_eq!(
            v["z"],
            Yaml::Map(map("a: 1\nb: 2\n")),
            "the first merge wins"
        );
        assert_eq!(v["k"], Yaml::Int(2), "the last repeated key wins");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = Yaml::parse("a: [1\n", "values.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("values.yaml: invalid YAML"), "{err}");
        let err = Yaml::parse("a: *nope\n", "v.yaml").unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("nope"), "{err}");
        // A billion laughs stops.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = Yaml::parse(&bomb, "bomb.yaml").unwrap_err().to_string();
        assert!(err.contains("too many nodes"), "{err}");
    }
}
