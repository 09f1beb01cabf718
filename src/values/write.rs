//! The values file, written by hand rather than by a YAML 1.2 serializer: Helm reads it as
//! YAML 1.1 (go-yaml v2), where a plain `yes`, `on`, `n` or `0777` is not the string it looks
//! like. Every string that any reading could take for something else is double-quoted (JSON
//! escapes, which YAML's double-quoted style shares), so the file means the same to Helm 3,
//! Helm 4 and any other reader.

use super::tree::{Map, Yaml};

/// `header` (each line becomes a `# ` comment), then `values` as block YAML.
pub fn values_file(header: &str, values: &Map) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str(if line.is_empty() { "#" } else { "# " });
        out.push_str(line);
        out.push('\n');
    }
    if values.is_empty() {
        out.push_str("{}\n");
    } else {
        map(&mut out, values, 0);
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn map(out: &mut String, m: &Map, level: usize) {
    for (k, v) in m {
        indent(out, level);
        out.push_str(&scalar_text(k));
        out.push(':');
        nested(out, v, level);
    }
}

/// After `key:` or `-`: a scalar on the same line, a collection below (a list at the key's own
/// indentation, as kubectl and Helm write them).
fn nested(out: &mut String, v: &Yaml, level: usize) {
    match v {
        Yaml::Map(m) if !m.is_empty() => {
            out.push('\n');
            map(out, m, level + 2);
        }
        Yaml::Seq(items) if !items.is_empty() => {
            out.push('\n');
            seq(out, items, level);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn seq(out: &mut String, items: &[Yaml], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Yaml::Map(m) if !m.is_empty() => {
                // `- name: x` with the rest of the mapping under `name`.
                let mut first = true;
                for (k, v) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    out.push_str(&scalar_text(k));
                    out.push(':');
                    nested(out, v, level + 2);
                }
            }
            Yaml::Seq(inner) if !inner.is_empty() => {
                out.push('\n');
                seq(out, inner, level + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn inline(v: &Yaml) -> String {
    match v {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::UInt(u) => u.to_string(),
        Yaml::Float(f) if f.is_nan() => ".nan".into(),
        Yaml::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Yaml::Float(f) => {
            let s = f.to_string();
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Yaml::Str(s) => scalar_text(s),
        Yaml::Seq(_) => "[]".into(),
        Yaml::Map(_) => "{}".into(),
    }
}

/// A string plain when it is unmistakably one (letters, digits, `-._/` inside, not starting
/// with a digit or sign, not a YAML 1.1 word), else double-quoted.
fn scalar_text(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && super::tree::Yaml::parse(s, "").ok() == Some(Yaml::Str(s.to_string()));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Map {
        Yaml::parse_values(text, "<test>").unwrap()
    }

    #[test]
    fn reads_back_as_written_in_yaml_1_1() {
        let values = map(concat!(
            "imagePullSecrets: [{name: a}, {name: 'yes'}, {name: '0777', extra: {x: [1, 2]}}]\n",
            "global: {imagePullSecrets: [plain, 'on', 'with space', 'q\"uote', '']}\n",
            "deep: {a: {b: {pullSecrets: [[nested]], empty: [], none: null, n: 1.5, t: true}}}\n",
            "'3': x\n",
        ));
        let text = values_file("Generated\n\nsecond", &values);
        assert!(
            text.starts_with(
                "# Generated\n#\n# second\nimagePullSecrets:\n- name: a\n- name: \"yes\"\n"
            ),
            "{text}"
        );
        assert_eq!(map(&text), values, "{text}");
        assert_eq!(values_file("", &Map::new()), "{}\n");
    }
}
