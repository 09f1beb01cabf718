//! A literal block scalar (`|`, `|-`, `|+`) maps every inner line to one outer line shifted by
//! the block's indentation, so inner edits become outer edits that change only the added
//! lines. The seam of this module is the outer style, not the inner format: YAML and JSON
//! configs are parsed the same way (`parse_inner`) and carried out the same way (here).

use crate::edit::{self, Edit};
use crate::yaml::Node;

/// Where each inner line sits in the outer text of a literal block scalar.
pub(super) struct LiteralLines {
    /// Outer offset of the start of each physical content line (before its indentation), plus
    /// one entry past the last line.
    raw_starts: Vec<usize>,
    indent: usize,
    /// The last line ends with a line break (false at the end of a file without one).
    last_has_break: bool,
}

impl LiteralLines {
    /// `None` when the block's lines do not reproduce `inner` exactly (explicit indentation
    /// indicators, tabs): then the caller rewrites the value whole instead of guessing.
    pub(super) fn read(text: &str, field: &Node, inner: &str) -> Option<LiteralLines> {
        let header_end = edit::line_end(text, field.start + 1);
        let header = &text[field.start..header_end];
        if header.trim_end().chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let body = &text[header_end..field.end.max(header_end)];
        let indent = body
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len())?;
        let mut raw_starts = Vec::new();
        let mut rebuilt = String::with_capacity(inner.len());
        let mut offset = header_end;
        for line in body.split_inclusive('\n') {
            raw_starts.push(offset);
            let content = line.trim_end_matches('\n').trim_end_matches('\r');
            rebuilt.push_str(content.get(indent..).unwrap_or(""));
            rebuilt.push('\n');
            offset += line.len();
        }
        raw_starts.push(offset);
        (rebuilt.trim_end_matches('\n') == inner.trim_end_matches('\n')).then_some(LiteralLines {
            raw_starts,
            indent,
            last_has_break: body.ends_with('\n'),
        })
    }

    pub(super) fn map_edits(&self, edits: &[Edit], newline: &str) -> Vec<Edit> {
        let pad = " ".repeat(self.indent);
        edits
            .iter()
            .map(|e| {
                let (line, col) = self.inner_line_col(e.range.start);
                let whole_lines = col == 0 && e.range.is_empty() && e.text.ends_with('\n');
                if whole_lines {
                    let text: String = e
                        .text
                        .split_inclusive('\n')
                        .map(|l| format!("{pad}{}{newline}", l.trim_end_matches('\n')))
                        .collect();
                    let at = self.raw_starts[line.min(self.raw_starts.len() - 1)];
                    return Edit {
                        range: at..at,
                        text: text.into(),
                    };
                }
                let start = self.outer(line, col);
                let (end_line, end_col) = self.inner_line_col(e.range.end);
                Edit {
                    range: start..self.outer(end_line, end_col),
                    text: e.text.replace('\n', &format!("{newline}{pad}")).into(),
                }
            })
            .collect()
    }

    fn outer(&self, line: usize, col: usize) -> usize {
        self.raw_starts[line] + self.indent + col
    }

    /// Line and column of an inner offset, from the inner line lengths the outer lines imply.
    /// The offset just past the last line is column 0 of the line after it.
    fn inner_line_col(&self, offset: usize) -> (usize, usize) {
        let lines = self.raw_starts.len() - 1;
        let mut start = 0;
        for line in 0..lines {
            let len = self.raw_starts[line + 1] - self.raw_starts[line];
            // Inner line = outer line minus indentation; a blank line may be shorter than the
            // indentation but still holds its line break.
            let inner_len = len.saturating_sub(self.indent).max(1);
            if offset < start + inner_len {
                return (line, offset - start);
            }
            start += inner_len;
        }
        if !self.last_has_break && lines > 0 {
            let last_len =
                (self.raw_starts[lines] - self.raw_starts[lines - 1]).saturating_sub(self.indent);
            return (lines - 1, offset - (start - last_len));
        }
        (lines, offset - start)
    }
}
