//! `schema`: the JSON Schema of the rules file, for editors (`# yaml-language-server: $schema=`)
//! and CI validation. The committed `regcred.schema.json` is this output (a test checks it).

use std::process::ExitCode;

use helm_regcred::Config;

/// The schema as committed: pretty JSON with a final newline.
pub fn text() -> String {
    let mut text = serde_json::to_string_pretty(&Config::json_schema())
        .expect("a JSON value always serializes");
    text.push('\n');
    text
}

pub fn run() -> anyhow::Result<ExitCode> {
    super::write_stdout(text().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
