//! The unified diff of what helm-regcred changed, as a user reads it in a terminal or CI log.
//!
//! It is computed from [`crate::engine::Outcome::redacted`], never from the real output, so Secret
//! data cannot reach it.

use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

use crate::plan::Plan;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Colour a plain unified diff (one read back from a file) the way [`unified`] colours its own.
pub fn paint(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    diff.lines()
        .map(|line| {
            let code = if line.starts_with("+++") || line.starts_with("---") {
                BOLD
            } else if line.starts_with('+') {
                GREEN
            } else if line.starts_with('-') {
                RED
            } else if line.starts_with("@@") {
                CYAN
            } else {
                return format!("{line}\n");
            };
            format!("{code}{line}{RESET}\n")
        })
        .collect()
}

/// A unified diff (3 lines of context) of `before` → `after`; empty when they are equal.
pub fn unified(before: &str, after: &str, color: bool) -> String {
    if before == after {
        return String::new();
    }
    let diff = TextDiff::from_lines(before, after);
    let mut out = String::new();
    let (bold, reset) = if color { (BOLD, RESET) } else { ("", "") };
    let _ = writeln!(out, "{bold}--- input{reset}\n{bold}+++ output{reset}");
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let header = hunk.header().to_string();
        if color {
            let _ = writeln!(out, "{CYAN}{header}{RESET}");
        } else {
            let _ = writeln!(out, "{header}");
        }
        for change in hunk.iter_changes() {
            let (sign, paint) = match change.tag() {
                ChangeTag::Delete => ('-', RED),
                ChangeTag::Insert => ('+', GREEN),
                ChangeTag::Equal => (' ', ""),
            };
            let line = change.value();
            let line = line.strip_suffix('\n').unwrap_or(line);
            let line = line.strip_suffix('\r').unwrap_or(line);
            if color && !paint.is_empty() {
                let _ = writeln!(out, "{paint}{sign}{line}{RESET}");
            } else {
                let _ = writeln!(out, "{sign}{line}");
            }
            if change.missing_newline() {
                let _ = writeln!(out, "\\ No newline at end of file");
            }
        }
    }
    out
}

/// What the plan does, for logs: one summary line, then why any edit beyond pull secrets was
/// made (restart annotations, ServiceAccount edits).
pub fn summary(plan: &Plan) -> String {
    let tally = plan.tally;
    let others = tally.other_lists_changed;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut out = format!(
        "helm-regcred: {} selected, {} changed, {} added",
        plural(tally.pod_specs, "pod spec"),
        tally.pod_specs_changed,
        plural(plan.secrets.len(), "pull Secret"),
    );
    if others > 0 {
        let _ = write!(out, ", {} changed", plural(others, "other list"));
    }
    if !plan.service_accounts.is_empty() {
        let _ = write!(
            out,
            ", {} added",
            plural(plan.service_accounts.len(), "ServiceAccount")
        );
    }
    for note in &plan.notes {
        let _ = write!(out, "\nhelm-regcred: note: {note}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_give_no_diff() {
        assert_eq!(unified("a\n", "a\n", false), "");
    }

    #[test]
    fn plain_diff() {
        let d = unified("a\nb\n", "a\nx\nb\n", false);
        assert_eq!(d, "--- input\n+++ output\n@@ -1,2 +1,3 @@\n a\n+x\n b\n");
    }

    #[test]
    fn colored_diff_marks_lines() {
        let d = unified("a\n", "a\nb\n", true);
        assert!(d.contains(&format!("{GREEN}+b{RESET}")), "{d:?}");
    }
}
