//! What a rendered chart lacks, the two questions `values` asks of the library: which secrets
//! the post-renderer would add to each pod spec (the engine's plan: what the override must
//! bring), and, with the override, which private pulls the kubelet would still have no
//! credential for (`check`'s kubelet simulation). The one place either is asked.

use crate::engine::{self, Env};
use crate::plan::Change;
use crate::views::check::{Finding, FindingCode};
use crate::{Config, Options, Stream};

use super::ValuesError;

/// Every pod spec the rules select, with what it lacks (`added`) in `rendered`.
pub fn pod_needs(
    rendered: &str,
    config: &Config,
    options: &Options,
    env: Env,
) -> Result<Vec<Change>, ValuesError> {
    let stream = Stream::parse(rendered.as_bytes()).map_err(|e| ValuesError::Rendered {
        message: e.to_string(),
    })?;
    let request = engine::Request::new(config, &stream)
        .options(options.clone())
        .env(env)
        .plan_only();
    let outcome = engine::run(request).map_err(|e| ValuesError::Rendered {
        message: e.to_string(),
    })?;
    // The override names Secrets the user creates ahead of the install, which exist at every
    // hook's event: a hook pod needs the Secret its hook Secret stands for, not a second one.
    let plan = &outcome.plan;
    Ok(plan
        .changes
        .iter()
        .map(|change| {
            let mut change = change.clone();
            let mut added: Vec<String> = Vec::new();
            for name in &change.added {
                let name = plan.stands_for(name).to_string();
                if !added.contains(&name) && !change.present.contains(&name) {
                    added.push(name);
                }
            }
            change.added = added;
            change
        })
        .collect())
}

/// `--verify`: the kubelet check (`check`'s view, [`crate::views::check`]) on the chart rendered
/// with the override: each private pull the kubelet would have no credential for.
pub fn uncovered(
    rendered: &str,
    config: &Config,
    options: &Options,
    env: Env,
) -> Result<Vec<Finding>, ValuesError> {
    let stream = Stream::parse(rendered.as_bytes()).map_err(|e| ValuesError::Rendered {
        message: e.to_string(),
    })?;
    let report = crate::views::check::check(&stream, config, options, env, false).map_err(|e| {
        ValuesError::Rendered {
            message: e.to_string(),
        }
    })?;
    Ok(report
        .findings
        .into_iter()
        .filter(|f| f.code == FindingCode::MissingCredential)
        .collect())
}
