//! The input and output as the diff shows them: Secret data, old and new, is `<redacted>`.

use crate::edit::{self, Edit};
use crate::input::stream::Stream;
use crate::plan::Plan;

const REDACTED: &str = "<redacted>";

/// `(before, after)`: the input and the output with every Secret value redacted. `added` are
/// the added documents rendered without credentials.
pub(crate) fn redacted_views(stream: &Stream, plan: &Plan, added: &[String]) -> (String, String) {
    let redactions: Vec<Edit> = plan
        .sensitive
        .iter()
        .map(|range| {
            // A block scalar's range ends at a line start; keep the line break it owns.
            let keeps_newline = stream.text[range.clone()].ends_with('\n');
            Edit {
                range: range.clone(),
                text: if keeps_newline {
                    format!("{REDACTED}{}", stream.newline).into()
                } else {
                    REDACTED.into()
                },
            }
        })
        .collect();
    let before = edit::apply(stream.text, &redactions);
    let mut edits: Vec<Edit> = plan.edits.iter().cloned().chain(redactions).collect();
    edits.sort_by_key(|e| e.range.start);
    let added = super::stream::in_stream_newlines(stream, added.to_vec());
    let after = super::stream::assemble(stream, &added, &edits);
    let before = if stream.bom {
        format!("\u{feff}{before}")
    } else {
        before
    };
    (before, after)
}

#[cfg(test)]
mod tests {
    use crate::engine::{Request, run};
    use crate::{Config, Stream};

    const RULES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: pull\n    credentials: {env: {username: U, password: P}}\n";

    #[test]
    fn redacted_views_hide_every_secret_value() {
        let input = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  a: c2VjcmV0LWE=\nstringData:\n  b: |\n    secret-b\n  c: secret-c\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: r.example.com/x}]\n";
        let config = Config::parse(RULES, "<test>").unwrap();
        let stream = Stream::parse(input.as_bytes()).unwrap();
        let outcome = run(Request::new(&config, &stream).plan_only()).unwrap();
        let (before, after) = outcome.redacted();
        for view in [&before, &after] {
            for secret in ["c2VjcmV0LWE=", "secret-b", "secret-c"] {
                assert!(!view.contains(secret), "{secret} in {view}");
            }
        }
        assert!(
            before.contains("  b: <redacted>\n  c: <redacted>\n"),
            "{before}"
        );
        assert!(after.contains(".dockerconfigjson: <redacted>"), "{after}");
    }
}
