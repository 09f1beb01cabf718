//! The kubelet check on a rendered chart: which pod specs still lack a pull secret the rules
//! give them. `values` uses it twice: on the chart rendered with the user's values (what each pod
//! needs) and, for `--verify`, on the chart rendered with the generated file too.
//!
//! The seam: this is the one place `values` asks "which pods lack what". It runs the engine's
//! plan, as `check` does today (a pod spec the rules select that lacks one of their Secrets);
//! when `check` becomes a library view over a stream, only this function changes.

use crate::engine::{self, Env};
use crate::plan::Change;
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
    Ok(outcome.plan.changes)
}

/// The pod specs that still lack a pull secret.
pub fn uncovered(
    rendered: &str,
    config: &Config,
    options: &Options,
    env: Env,
) -> Result<Vec<Change>, ValuesError> {
    Ok(pod_needs(rendered, config, options, env)?
        .into_iter()
        .filter(|c| !c.added.is_empty())
        .collect())
}
