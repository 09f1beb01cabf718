//! Problems (the run fails) and warnings (it goes on) the planner collects, each located.

use super::*;

impl Planner<'_, '_> {
    /// A template that cannot be rendered for this resource; reported once per message, not
    /// once per resource.
    pub(super) fn template_problem(&mut self, r: &Resource, message: String) {
        let kind = ProblemKind::Template(message);
        if !self.problems.iter().any(|p| p.kind == kind) {
            self.problems.push(Problem {
                at: r.at.clone(),
                kind,
            });
        }
    }

    pub(super) fn warn(&mut self, at: Option<&Location>, message: String) {
        self.plan.warnings.push(Warning {
            at: at.cloned(),
            message,
        });
    }

    pub(super) fn problem(&mut self, at: &Location, line: usize, kind: ProblemKind) {
        let at = Location { line, ..at.clone() };
        self.problems.push(Problem { at, kind });
    }

    pub(super) fn edit_problem(&mut self, at: &Location, path: &str, e: EditProblem) {
        let (line, kind) = edit_problem_kind(path.to_string(), e);
        self.problem(at, line, kind);
    }
}

fn edit_problem_kind(path: String, e: EditProblem) -> (usize, ProblemKind) {
    match e {
        EditProblem::NotAList { found, line } => (line, ProblemKind::NotAList { path, found }),
        EditProblem::Alias { line } => (line, ProblemKind::Alias { path }),
        EditProblem::ParentNotAMapping { found, line } => {
            (line, ProblemKind::NotAMappingAt { path, found })
        }
        EditProblem::NotAScalar { found, line } => (line, ProblemKind::NotAScalar { path, found }),
        EditProblem::MissingListItem { line } => (line, ProblemKind::MissingListItem { path }),
        EditProblem::BadItem {
            index,
            problem,
            line,
        } => (
            line,
            ProblemKind::BadListItem {
                path: format!("{path}[{index}]"),
                problem,
            },
        ),
    }
}

/// A document that failed to parse still deserves a findable name in the error: read its
/// top-level `kind:` and `metadata.name` off the text, best effort.
pub(super) fn guess_location(stream: &Stream, doc: &Document, line: usize) -> Location {
    let text = stream.doc_text(doc);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
            .filter(|v| !v.is_empty())
    };
    Location {
        doc: doc.index,
        kind: field("kind:"),
        name: field("  name:"),
        source: doc.source.clone(),
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::EditProblem;

    #[test]
    fn edit_problems_name_the_path_and_line() {
        let cases = [
            (
                EditProblem::Alias { line: 3 },
                3,
                ProblemKind::Alias { path: "p".into() },
            ),
            (
                EditProblem::NotAList {
                    found: "a mapping",
                    line: 4,
                },
                4,
                ProblemKind::NotAList {
                    path: "p".into(),
                    found: "a mapping",
                },
            ),
            (
                EditProblem::MissingListItem { line: 5 },
                5,
                ProblemKind::MissingListItem { path: "p".into() },
            ),
        ];
        for (problem, line, kind) in cases {
            assert_eq!(edit_problem_kind("p".into(), problem), (line, kind));
        }
    }

    #[test]
    fn an_unparseable_document_is_still_named() {
        let input = "a: 1\n---\nkind: Pod\nmetadata:\n  name: \"web\"\nspec: [\n";
        let stream = Stream::parse(input.as_bytes()).unwrap();
        let at = guess_location(&stream, &stream.docs[1], 6);
        assert_eq!(
            (at.doc, at.kind.as_deref(), at.name.as_deref(), at.line),
            (2, Some("Pod"), Some("web"), 6)
        );
    }
}
