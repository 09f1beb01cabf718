//! `krm`: helm-regcred as a KRM function. A `ResourceList` on stdin, the same `ResourceList` on
//! stdout with the edits, the pull Secrets and `results:`.
//!
//! kpt: `kpt fn eval DIR --exec "helm-regcred krm" --fn-config regcred.yaml`, or a Kptfile
//! mutator `exec: "helm-regcred krm"` run by `kpt fn render --allow-exec`. The rules come from
//! `functionConfig` (see `helm_regcred::adapters::krm`).

use std::path::PathBuf;

use helm_regcred::adapters::krm::{KrmError, ResourceList};
use helm_regcred::registry::credentials::Stdin;
use helm_regcred::trust::{Policy, Trust};
use helm_regcred::{Options, Request, engine};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rules file to use when the ResourceList's `functionConfig` names none (absent, or the
    /// ConfigMap with no data that `kpt fn eval` sends without `--fn-config`); else
    /// $HELM_REGCRED_RULES, else ./regcred.yaml if it exists. Rules in the functionConfig win.
    #[arg(short, long, env = "HELM_REGCRED_RULES", value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Namespace of items without `metadata.namespace`, when they will be applied to one that
    /// other items name: the Secret is then emitted once, not once per spelling.
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// A KRM function renders packages from a repository: untrusted unless `--trust trusted`.
    #[command(flatten)]
    pub trust: super::trust::TrustArgs,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let input = super::read_stdin()?;
    // Without a ResourceList there is nothing to answer with: stderr and the exit code only.
    let list = ResourceList::parse(&input)?;
    let env = super::process_env;
    let policy = args.trust.policy(Trust::Untrusted)?;
    let (output, failure) = match transform(&list, args, &env, &policy) {
        Ok(output) => (output, None),
        Err(e) => {
            // KRM runners show `results` located on the resource; the exit code fails the
            // pipeline (a kustomize build ignores error results otherwise).
            let results = list.error_results(&e);
            (list.render(&[], &[], &results)?, Some(e))
        }
    };
    super::write_stdout(output.as_bytes())?;
    match failure {
        // The message alone: it already says what its causes say.
        Some(e) => Err(anyhow::anyhow!("{e}")),
        None => Ok(()),
    }
}

fn transform(
    list: &ResourceList,
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
    policy: &Policy,
) -> Result<String, KrmError> {
    let fallback = args.rules.clone().or_else(|| {
        helm_regcred::rules::find_file(None, env)
            .ok()
            .filter(|p| p.is_file())
    });
    let config = list.rules(fallback.as_deref(), policy)?;
    // KRM items carry their own namespaces: no release namespace unless the user names one.
    let options = Options {
        namespace: args.namespace.clone(),
        trust: policy.clone(),
        ..Options::default()
    };
    let request = Request::new(&config, &list.stream)
        .options(options)
        .env(env)
        .stdin(Stdin::unavailable(super::STDIN_TAKEN));
    let outcome = engine::run(request)?;
    super::print_warnings(outcome.warnings());
    let results = list.plan_results(&outcome.plan);
    list.render(&outcome.plan.edits, &outcome.added_documents(), &results)
}
