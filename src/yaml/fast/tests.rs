//! The fast path is held to one property: whatever it accepts, libyaml-safer reads to the very
//! same tree. Checked on hand-written cases, on every document of the test fixtures (charts
//! rendered by the real Helm 3 and 4) and of the real-chart corpus when it is there, and on
//! thousands of mutations of those documents (which is how it is kept from accepting errors).

use std::path::{Path, PathBuf};

use super::{Defer, parse};
use crate::yaml::{Origin, Parsed, parse_document_reference, with_final_break};

const ORIGIN: Origin = Origin { offset: 7, line: 3 };

/// The fast path's answer, `None` when it defers.
fn fast<'t>(text: &'t str, wanted: &dyn Fn(&str) -> bool) -> Option<Parsed<'t>> {
    let mut deferred = false;
    let parsed = with_final_break(text, ORIGIN, |t, unread| {
        match parse(t, ORIGIN, wanted, unread) {
            Ok(p) => Ok(p),
            Err(Defer) => {
                deferred = true;
                Ok(Parsed::Empty)
            }
        }
    })
    .expect("the closure never fails");
    (!deferred).then_some(parsed)
}

/// Compare the paths on `text`; true when the fast path took it. Where it defers, the
/// reference path's tree with long collections unread must read as the one read whole.
fn agrees(text: &str, wanted: &dyn Fn(&str) -> bool) -> Result<bool, String> {
    let Some(fast) = fast(text, wanted) else {
        if text.ends_with('\n') {
            let lazy = crate::yaml::parse_unguarded(text, ORIGIN, wanted, true);
            let whole = crate::yaml::parse_unguarded(text, ORIGIN, wanted, false);
            if format!("{lazy:?}") != format!("{whole:?}") {
                return Err(format!(
                    "libyaml-safer's path reads differently with collections unread on\n{text}"
                ));
            }
        }
        return Ok(false);
    };
    let reference = parse_document_reference(text, ORIGIN, wanted);
    let same = match (&fast, &reference) {
        (Parsed::Empty, Ok(Parsed::Empty)) => true,
        (Parsed::Node(a), Ok(Parsed::Node(b))) => a == b,
        (Parsed::Skipped { kind: a }, Ok(Parsed::Skipped { kind: b })) => a == b,
        _ => false,
    };
    if same {
        Ok(true)
    } else {
        Err(format!(
            "fast path and libyaml-safer differ on\n{text}\n--- fast: {fast:#?}\n--- libyaml: {reference:#?}"
        ))
    }
}

fn all(_: &str) -> bool {
    true
}

#[track_caller]
fn accepted(text: &str) {
    match agrees(text, &all) {
        Ok(true) => {}
        Ok(false) => panic!("the fast path deferred on\n{text}"),
        Err(e) => panic!("{e}"),
    }
}

#[track_caller]
fn deferred(text: &str) {
    assert!(fast(text, &all).is_none(), "the fast path accepted\n{text}");
}

/// Cases the fast path must take; also seeds for the mutation test.
const ACCEPTED: &[&str] = &[
    "",
    "---\n",
    "# Source: a.yaml\n# only comments\n",
    "---\n# Source: chart/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\n",
    "--- # a comment after the marker\na: 1\n",
    "a: 1\nb:\n  c: d\n  e:\n  - x\n  - y\nf: [g, 'h', \"i\"]\n",
    "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.25\n          args: [\"--a=1\", --b]\n      imagePullSecrets: []\n",
    "a:\n- b\n- c: d\n  e: f\ng: h\n",
    "a:\n-\n- \n-   # comment\n  x\nb: ~\nc: null\nd:\n",
    "- - a\n  - b\n- c\n",
    "a: |\n  line 1\n\n  line 3\n\n\nb: x\n",
    "a: |-\n    x\n     y\n  # comment under it\nb: 1\n",
    "a: |+\n  x\n\n\nb: 1\n",
    "a: |2\n     x\n  y\n",
    "a:\n  b: |\n    x\n\n  c: 1\n",
    "- |\n  x\n- |-\n  y\n",
    "a: |\n  x\n   \n  y\n",
    "a: |\n\n  x\n",
    "a: |\n    \n  \n    production:\n      main: x\nb: 1\n",
    "data:\n  config.yaml: |\n    # a comment in the config\n    key: value\n    list:\n    - 1\n",
    "a: 'it''s'\nb: \"esc \\\" \\\\ \\n \\t \\u00e9 \\x41 \\U0001F600 \\/\"\nc: ''\n",
    "'quoted key': 1\n\"double key\" : 2\n",
    "a: {}\nb: []\nc: {x: 1, y: [2, 3], z: {}}\nd: [[a], {b: c}]\n",
    "a: value # comment\nb: value#not-comment\nc: http://x:80/y\nd: a,b[c]{d}\n",
    "a: -1\nb: -x\nc: =\nd: ---x\n",
    "ünï: värde\nb: ü # c\n",
    "key with spaces: v\n",
    "  a: 1\n  b: 2\n",
    "a: 1\n...\n# after the end\n",
    "- x\n- y\n",
    "just a scalar\n",
    "a: |\n  no final break",
    "a: multi\n  line plain\n\n\n  with blank lines\nb: :9121\nc: ?x\n",
    "- PGPASSWORD=x pg_dumpall --clean\n  --file=\"$(date\n  '+%Y')\"\n- next\n",
    "- a\n  - b\n",
    "a:\n  value\n  more\n",
    "a: b\nc: d",
    "a: <<\nb: [<<, x]\n",
    // Columns counted on from the last node of the line, across characters of several bytes.
    "ä: [ü, b, {é: [x, ü]}, 'ö', c]\nb: {ä: 1, b: [x, ü]}\n",
    "- [ä, ü]\n- {ö: [1, 2]}\n",
    "a: 1\nb: 2\na: 3\n",
];

#[test]
fn accepts_what_helm_writes_and_matches_libyaml() {
    for text in ACCEPTED {
        accepted(text);
    }
}

#[test]
fn defers_on_what_it_does_not_read() {
    for text in [
        "a: &anchor 1\nb: *anchor\n",
        "a: !!str 1\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: >\n  folded\n",
        "a: 'multi\n  line'\n",
        "a: plain\n  # comment\n  more\n",
        "a: plain # comment\n  more\n",
        "a: plain\n  more: x\n",
        "a: \"multi\n  line\"\n",
        "a: [x,\n  y]\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: b\n\tc: d\n",
        "? complex\n: key\n",
        "a: b: c\n",
        "a: - b\n",
        "a: 1\n b: 2\n",
        "a:\n  b: 1\n c: 2\n",
        "- a\nb: c\n",
        "a: 'x' y\n",
        "a: [x, ]\n",
        "a: [x: y]\n",
        "a: {x:y}\n",
        "a: |\n    x\n  y: 1\n",
        "a: |\n      \n    x\n",
        "a: |\nb: 1\n",
        "a: |0\n  x\n",
        "a: \"\\q\"\n",
        "a: \"\\\n  b\"\n",
        "a: \u{1}\n",
        "a: \u{feff}b\n",
        "---\n---\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\n...\nb: 2\n",
        "a: 1\n...   b: 2\n",
        "--- a\n",
        "a: @x\n",
        "a: `x\n",
        // What libyaml (and Go) read as line breaks besides `\n`.
        "a: b\u{2028}c: d\n",
        "a: b\u{2029}\n",
        "a: b\u{85}c: d\n",
        "# comment\u{2028}a: 1\n",
        "a: 'x\u{2028}y'\n",
        "a: |\n  x\u{85}y\n",
        "a: b\rc: d\n",
        // Issue 12's shapes: properties, explicit keys, aliases (merge keys and duplicates are
        // read like libyaml does and refused after, on both paths).
        "a: !!seq\n- x\n",
        "a: &ips\n  - x\n",
        "? a\n: - x\n",
        "a: *c\n",
    ] {
        deferred(text);
    }
}

#[test]
fn stops_at_an_unwanted_kind_like_libyaml() {
    let text = "apiVersion: v1\nkind: CustomResourceDefinition\nspec:\n  x: *unread\n";
    let no_crds = |k: &str| k != "CustomResourceDefinition";
    assert_eq!(agrees(text, &no_crds), Ok(true));
    assert!(
        matches!(fast(text, &no_crds), Some(Parsed::Skipped { kind }) if kind == "CustomResourceDefinition")
    );
    // Only the root mapping's own `kind:` counts.
    accepted("spec:\n  kind: CustomResourceDefinition\n");
}

/// The test inputs' two tiers, shared with the integration tests (see that file): the fixture
/// charts rendered by the real Helm 3 and Helm 4 and the other fixture files always, the corpus
/// when it is there (announced when not; required under `CI=true`).
#[allow(dead_code)]
mod tiers {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/support.rs"
    ));
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "yaml") {
            out.push(path);
        }
    }
}

/// Every document of `text`, named after where it came from.
fn documents_of(name: &str, text: &str, docs: &mut Vec<(String, String)>) {
    let stream = crate::input::stream::Stream::parse(text.as_bytes()).unwrap();
    for doc in &stream.docs {
        docs.push((
            format!("{name} document {}", doc.index),
            stream.doc_text(doc).to_owned(),
        ));
    }
}

/// Every document of every YAML file under `dir`.
fn documents_under(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let mut docs = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        documents_of(&path.display().to_string(), &text, &mut docs);
    }
    docs
}

/// Every document of the fixture tier: the fixture charts as Helm 3 and Helm 4 send them to a
/// post-renderer (needed when scripts/test says HELM_REGCRED_REQUIRE_TOOLS=1; announced and
/// left out without a Helm otherwise), and every YAML file under tests/fixtures (the
/// hand-written streams, the charts' values, and their templates, which are mostly not YAML).
fn fixture_documents() -> Vec<(String, String)> {
    let required = std::env::var("HELM_REGCRED_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let mut docs = Vec::new();
    for stream in tiers::fixture_streams(required) {
        if !stream.name.starts_with("streams/") {
            documents_of(&stream.name, &stream.text, &mut docs);
        }
    }
    docs.extend(documents_under(&tiers::fixtures_dir()));
    docs
}

/// Every document of every YAML file in the corpus (rendered charts, values files, and the
/// chart's unrendered templates, which are mostly not YAML at all), or `None` without it.
fn corpus_documents() -> Option<Vec<(String, String)>> {
    let docs = documents_under(&tiers::corpus()?);
    assert!(
        docs.len() > 1000,
        "corpus looks incomplete: {} documents",
        docs.len()
    );
    Some(docs)
}

#[test]
fn every_fixture_document_reads_the_same_both_ways() {
    every_document_reads_the_same_both_ways("fixture", fixture_documents());
}

#[test]
fn every_corpus_document_reads_the_same_both_ways() {
    if let Some(docs) = corpus_documents() {
        every_document_reads_the_same_both_ways("corpus", docs);
    }
}

fn every_document_reads_the_same_both_ways(tier: &str, docs: Vec<(String, String)>) {
    let (mut fast_count, mut total, mut workloads, mut fast_workloads) = (0, 0, 0, 0);
    let mut slow = Vec::new();
    for (name, text) in docs {
        total += 1;
        let took = agrees(&text, &all).unwrap_or_else(|e| panic!("{name}: {e}"));
        fast_count += took as usize;
        // The chart's templates are Go templates, not YAML.
        let template = name.contains("/templates/");
        let kind = crate::input::stream::top_level_kind(&text);
        if !template && kind.is_some_and(crate::kinds::may_hold_pod_spec) {
            workloads += 1;
            fast_workloads += took as usize;
            if !took {
                slow.push(format!("{name}: {}", where_it_defers(&text)));
            }
        }
    }
    eprintln!(
        "fast path: {fast_count}/{total} {tier} documents, {fast_workloads}/{workloads} workloads; deferred workloads: {slow:#?}"
    );
    // Pod-spec documents are what every post-render parses in full: they must not fall back to
    // the slow parser (a regression here is a 5-10x slowdown, invisible to other tests).
    assert_eq!(fast_workloads, workloads, "workloads deferred: {slow:#?}");
}

/// The line that makes the fast path defer: the first one after the longest accepted prefix
/// (prefixes cut inside a block scalar defer for their own reasons, hence longest, not first).
fn where_it_defers(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let accepted = (1..=lines.len())
        .rev()
        .find(|&n| fast(&lines[..n].concat(), &all).is_some())
        .unwrap_or(0);
    match lines.get(accepted) {
        Some(line) => format!("defers at line {}: {line:?}", accepted + 1),
        None => "defers only as a whole".to_owned(),
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Damage `text` the way typos and bad templates do: a character inserted, deleted or
/// replaced, a line re-indented, duplicated or joined with the next.
fn mutate(text: &str, rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        ":",
        ": ",
        "-",
        "- ",
        " ",
        "  ",
        "#",
        " #",
        "'",
        "\"",
        "|",
        "|-",
        ">",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\t",
        "\n",
        "&a ",
        "*a",
        "!t ",
        "?",
        "\\",
        "...",
        "---",
        "x",
        "ü",
        "\n  ",
        "\n- ",
        // Issue 12's classes: other line breaks, BOMs, properties, explicit and merge keys,
        // aliases, nulls, document markers.
        "\u{85}",
        "\u{2028}",
        "\u{2029}",
        "\r",
        "\r\n",
        "\u{feff}",
        "!!seq ",
        "&ips ",
        "? ",
        "<<: ",
        "*c",
        "~",
        "\n...\n",
        "\n---\n",
        "kind: Pod\n",
        "|",
        "|-\n  x",
    ];
    let mut s = text.to_owned();
    let at = |rng: &mut Rng, s: &str| {
        let mut i = rng.below(s.len() + 1);
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match rng.below(5) {
        0 => {
            let i = at(rng, &s);
            s.insert_str(i, PIECES[rng.below(PIECES.len())]);
        }
        1 if !s.is_empty() => {
            let i = at(rng, &s);
            if let Some(c) = s[i..].chars().next() {
                s.replace_range(i..i + c.len_utf8(), "");
            }
        }
        2 if !s.is_empty() => {
            let i = at(rng, &s);
            if let Some(c) = s[i..].chars().next() {
                s.replace_range(i..i + c.len_utf8(), PIECES[rng.below(PIECES.len())]);
            }
        }
        _ => {
            let mut lines: Vec<String> = s.split_inclusive('\n').map(str::to_owned).collect();
            if lines.is_empty() {
                return s;
            }
            let n = rng.below(lines.len());
            match rng.below(4) {
                0 => lines[n].insert_str(0, [" ", "  ", "   "][rng.below(3)]),
                1 => {
                    let trimmed = lines[n].trim_start_matches(' ').to_owned();
                    let keep = (lines[n].len() - trimmed.len()).saturating_sub(1 + rng.below(2));
                    lines[n] = format!("{}{trimmed}", " ".repeat(keep));
                }
                2 => {
                    let dup = lines[n].clone();
                    lines.insert(n, dup);
                }
                _ => {
                    if lines[n].ends_with('\n') && n + 1 < lines.len() {
                        lines[n].pop();
                    }
                }
            }
            s = lines.concat();
        }
    }
    s
}

#[test]
fn mutated_fixture_documents_never_read_differently() {
    // 20 from the fixture files alone (no Helm), many more with the rendered charts.
    mutated_documents_never_read_differently(fixture_documents(), 20);
}

#[test]
fn mutated_corpus_documents_never_read_differently() {
    if let Some(docs) = corpus_documents() {
        mutated_documents_never_read_differently(docs, 100);
    }
}

/// `docs` (at least `fewest` of them small enough and taken by the fast path) mutated.
fn mutated_documents_never_read_differently(docs: Vec<(String, String)>, fewest: usize) {
    let docs: Vec<_> = docs
        .into_iter()
        .filter(|(_, text)| text.len() < 20_000 && fast(text, &all).is_some())
        .collect();
    assert!(
        docs.len() >= fewest,
        "only {} documents to mutate",
        docs.len()
    );
    // HELM_REGCRED_MUTATIONS=N[,SEED] for a longer hunt than the suite's.
    let setting = std::env::var("HELM_REGCRED_MUTATIONS").unwrap_or_default();
    let mut parts = setting.split(',').map(|x| x.trim().parse::<u64>().ok());
    let rounds = parts.next().flatten().unwrap_or(6000);
    let seed = parts.next().flatten().unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng(seed | 1);
    let (mut tried, mut taken) = (0, 0);
    for round in 0..rounds {
        // The hand-written cases are few but dense in edge cases: a third of the rounds.
        let (name, text) = if rng.below(3) == 0 {
            ("a hand-written case", ACCEPTED[rng.below(ACCEPTED.len())])
        } else {
            let (name, text) = &docs[rng.below(docs.len())];
            (name.as_str(), text.as_str())
        };
        let mut mutated = mutate(text, &mut rng);
        if rng.below(3) == 0 {
            mutated = mutate(&mutated, &mut rng);
        }
        tried += 1;
        match agrees(&mutated, &all) {
            Ok(took) => taken += took as usize,
            Err(e) => panic!("round {round}, mutation of {name}: {e}"),
        }
    }
    eprintln!("mutations: fast path took {taken} of {tried}");
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    // The binary parses on its main thread, 8 MiB of stack by default on Linux; a test thread
    // has 2 MiB. Debug frames are larger than release ones, so passing here leaves a margin.
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(deep_nesting)
        .unwrap()
        .join()
        .unwrap();
}

fn deep_nesting() {
    for (open, close) in [("- ", ""), ("a:\n", ""), ("[", "]"), ("{a: ", "}")] {
        let deep = 3000;
        let mut text = String::new();
        for level in 0..deep {
            if open == "a:\n" {
                text.push_str(&" ".repeat(level));
                text.push_str(open);
            } else {
                text.push_str(open);
            }
        }
        text.push('x');
        text.push_str(&close.repeat(deep));
        text.push('\n');
        assert!(fast(&text, &all).is_none());
        let err = crate::yaml::parse_document(&text, ORIGIN, &all).unwrap_err();
        assert!(err.message.contains("nested deeper than"), "{err}");
    }
}

/// Whether the collection at `path` (mapping keys) is unread, found without reading any
/// collection on the way (a lookup would hand over a copy, read whole).
fn unread_at(node: &crate::yaml::Node<'_>, path: &[&str]) -> bool {
    use crate::yaml::Value;
    let Some((first, rest)) = path.split_first() else {
        return match &node.value {
            Value::Seq { items, .. } => !items.is_read(),
            Value::Map { entries, .. } => !entries.is_read(),
            _ => false,
        };
    };
    let mut found = None;
    node.visit_entries(|k, v| {
        if k.as_str() == Some(first) {
            found = Some(unread_at(v, rest));
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    });
    found.expect("the path")
}

fn fast_node(text: &str) -> crate::yaml::Node<'_> {
    match crate::yaml::parse_document(text, ORIGIN, &all).unwrap() {
        Parsed::Node(node) => node,
        other => panic!("{other:?}"),
    }
}

#[test]
fn long_collections_are_left_unread_and_read_again_the_same() {
    // (document, path of a collection the fast path leaves unread)
    let cases = [
        (
            "args:\n- a\n- 'b'\n- \"c\\td\"\n- |\n  lit\n- e # c\n\n- f\n",
            &["args"][..],
        ),
        (
            "spec:\n  args:\n  - a\n  - b\n  - c\nnext: 1\n",
            &["spec", "args"],
        ),
        (
            "labels:\n  a: x\n  'b': 'y'\n  c: \"z\"\n  d:\n  e: |\n    v\n",
            &["labels"],
        ),
        ("args: [a, 'b', \"c\", -d]\n", &["args"]),
        ("labels: {a: x, b: y, 'c': z}\n", &["labels"]),
        ("nested: [[a, b, c], [d, e]]\n", &["nested"]),
        (
            "env:\n- name: a\n  value: x\n- name: b\n  value: y\n- {name: c}\n",
            &["env"],
        ),
        (
            "mixed:\n  a: x\n  b: y\n  c: [z]\n  d:\n    e: f\n    g: [h, i]\n",
            &["mixed"],
        ),
        ("mixed:\n- a\n- b\n- - x\n  - y\n- c\n", &["mixed"]),
    ];
    for (text, path) in cases {
        accepted(text);
        let node = fast_node(text);
        assert!(unread_at(&node, path), "{text}");
        let Ok(Parsed::Node(reference)) = parse_document_reference(text, ORIGIN, &all) else {
            panic!("{text}");
        };
        // Read again, the slice is what the reference parser keeps.
        assert_eq!(node.path(path), reference.path(path), "{text}");
        // And so is each child a visit hands over.
        let kept = reference.path(path).unwrap();
        let mut visited = Vec::new();
        match &node.path(path).unwrap().value {
            crate::yaml::Value::Seq { items, .. } => {
                let _ = items.visit(|item| {
                    visited.push(format!("{item:?}"));
                    std::ops::ControlFlow::Continue(())
                });
                let want: Vec<_> = kept
                    .as_seq()
                    .unwrap()
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect();
                assert_eq!(visited, want, "{text}");
            }
            crate::yaml::Value::Map { .. } => {
                node.path(path).unwrap().visit_entries(|k, v| {
                    visited.push(format!("{k:?}{v:?}"));
                    std::ops::ControlFlow::Continue(())
                });
                let want: Vec<_> = kept
                    .as_map()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| format!("{k:?}{v:?}"))
                    .collect();
                assert_eq!(visited, want, "{text}");
            }
            _ => unreachable!(),
        }
    }
    // The root too: the planner looks its keys up.
    let root = fast_node("a: 1\nb: 2\nc: 3\n");
    assert!(matches!(&root.value, crate::yaml::Value::Map { entries, .. } if !entries.is_read()));
    assert_eq!(root.get("b").and_then(crate::yaml::Node::as_str), Some("2"));
}

#[test]
fn keys_of_an_unread_mapping_are_found_without_reading_it() {
    let text = "labels:\n  a: x\n  b: 'y'\n  c: z\n";
    let node = fast_node(text);
    let labels = node.get("labels").unwrap();
    assert!(unread_at(&node, &["labels"]));
    for _ in 0..2 {
        let (key, value) = labels.entry("b").unwrap();
        assert_eq!(
            (key.as_str(), value.as_str(), value.line),
            (Some("b"), Some("y"), 5)
        );
        assert_eq!(
            &text[value.start - ORIGIN.offset..value.end - ORIGIN.offset],
            "'y'"
        );
    }
    assert!(labels.get("nope").is_none());
    let mut keys = Vec::new();
    labels.visit_entries(|k, _| {
        keys.push(k.as_str().unwrap().to_string());
        std::ops::ControlFlow::Continue(())
    });
    assert_eq!(keys, ["a", "b", "c"]);
    assert!(
        unread_at(&node, &["labels"]),
        "lookups and visits keep it unread"
    );
    assert_eq!(labels.as_map().unwrap().len(), 3);
}

#[test]
fn an_unread_mapping_is_refused_as_a_kept_one_would_be() {
    for text in [
        "labels:\n  a: x\n  b: y\n  a: z\n",
        "labels: {a: x, b: y, c: w, b: z}\n",
        "labels:\n  a: x\n  <<: y\n  c: z\n",
        "labels: {a: x, <<: y}\n",
        // Inside a child of an unread collection, found as it is read again.
        "env:\n- name: a\n- name: b\n  name: c\n",
        "env:\n- {a: x}\n- {<<: {b: y}}\n",
    ] {
        let fast_error = crate::yaml::parse_document(text, ORIGIN, &all).unwrap_err();
        let reference = parse_document_reference(text, ORIGIN, &all).unwrap();
        let reference_error = crate::yaml::readable(&reference, text, ORIGIN).unwrap_err();
        assert_eq!(fast_error, reference_error, "{text}");
    }
}

#[test]
fn a_last_document_without_a_final_break_keeps_its_collections() {
    let text = "args:\n- a\n- b\n- c";
    let node = fast_node(text);
    assert!(!unread_at(&node, &["args"]));
    let items: Vec<_> = node
        .get("args")
        .unwrap()
        .as_seq()
        .unwrap()
        .iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(items, [Some("a"), Some("b"), Some("c")]);
}

#[test]
fn the_reference_path_leaves_long_collections_unread_and_reads_them_again_the_same() {
    // (document the fast path leaves to libyaml-safer, path of the collection, left unread)
    let cases = [
        (
            "args:\r\n- a\r\n- b\r\n- |\r\n  lit\r\n- c\r\nnext: 1\r\n",
            &["args"][..],
            true,
        ),
        (
            "labels:\n  a: !t x\n  b: >\n    folded\n  c: z\n",
            &["labels"],
            true,
        ),
        // A collection with a tag or an anchor of its own keeps its children.
        (
            "labels: !!map\n  a: x\n  b: >\n    folded\n  c: z\n",
            &["labels"],
            false,
        ),
        ("args: &a [x, y, z]\nnext: !t 1\n", &["args"], false),
        ("args: [a,\n  b, c]\nnext: [d, e]\n", &["args"], true),
        (
            "spec: {args: [a, b, c], k: v}\nnext: !t 1\n",
            &["spec"],
            true,
        ),
        (
            "list:\n- - a\n  - b\n  - c\n- x\nnext: !t 1\n",
            &["list"],
            true,
        ),
        (
            "env:\r\n- name: a\r\n  value: x\r\n- name: b\r\n",
            &["env"],
            true,
        ),
        // Before it on its line: text that would not read as spaces.
        ("é: [a, b, c]\nnext: !t 1\n", &["é"], false),
        (
            "%TAG !e! tag:example.com,2000:\n---\nargs: [!e!x a, b, c]\n",
            &["args"],
            false,
        ),
    ];
    for (text, path, unread) in cases {
        assert!(fast(text, &all).is_none(), "the fast path took {text:?}");
        let Ok(Parsed::Node(node)) = crate::yaml::parse_document(text, ORIGIN, &all) else {
            panic!("{text:?}");
        };
        assert_eq!(unread_at(&node, path), unread, "{text:?}");
        // Every collection read again equals one read whole, with nothing left unread.
        let whole = crate::yaml::parse_unguarded(text, ORIGIN, &all, false).unwrap();
        let Parsed::Node(whole) = whole else { panic!() };
        assert!(format!("{whole:?}") == format!("{node:?}"), "{text:?}");
    }
}
