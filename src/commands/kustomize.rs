//! `kustomize`: helm-regcred as a legacy Kustomize exec transformer plugin.
//!
//! `kubectl kustomize --enable-alpha-plugins` runs
//! `$KUSTOMIZE_PLUGIN_HOME/helm-regcred/v1/regcredconfig/RegcredConfig CONFIG` (installed by
//! `scripts/install-kustomize-plugin`, which calls this command) with the transformer's config
//! resource — the rules — in the temp file CONFIG, the resources as a plain multi-document
//! stream on stdin, and takes stdout as the new resources: the post-renderer's engine, with the
//! rules from the config resource. Each input document keeps its `kustomize.config.k8s.io/id`
//! annotation (kustomize matches output to input by it); the added Secrets have none, which
//! kustomize takes as new resources.

use std::path::PathBuf;

use anyhow::Context;
use helm_regcred::adapters::krm;
use helm_regcred::registry::credentials::Stdin;
use helm_regcred::trust::Trust;
use helm_regcred::{Options, Request, Stream, engine};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The transformer's config resource (a RegcredConfig), written to a temp file by kustomize.
    #[arg(value_name = "CONFIG")]
    pub config: PathBuf,
    /// Namespace of documents without `metadata.namespace` (kustomize passes the words of the
    /// config's `argsOneLiner` after CONFIG, so `argsOneLiner: --namespace shop` sets it). Only
    /// needed when some resources have a namespace and others will get the same one later:
    /// the Secret is then emitted once, not once per spelling.
    #[arg(short, long)]
    pub namespace: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    // Only from the environment: this command's arguments come from the rules resource
    // itself (`argsOneLiner`), which must not choose its own trust.
    let policy = super::trust::from_env(Trust::Trusted)?;
    let text = helm_regcred::trust::read_regular(&args.config)
        .with_context(|| format!("cannot read the plugin config {}", args.config.display()))?;
    // The file is kustomize's re-serialized temp copy: name the resource, not the temp path.
    let config = krm::rules_from_resource(&text, "RegcredConfig (kustomize transformer config)")?;

    let input = super::read_stdin()?;
    let stream = Stream::parse(&input)?;
    // A `namespace:` transformer that ran before us has set every namespace already; one that
    // runs after sets the Secrets' namespace along with everything else (docs/kustomize.md).
    let options = Options {
        namespace: args.namespace.clone(),
        trust: policy.clone(),
        ..Options::default()
    };
    let env = super::process_env;
    // The summary line is all it shows of the selected lists: counts, not a record each.
    let request = Request::new(&config, &stream)
        .counts_only()
        .options(options)
        .env(&env)
        .stdin(Stdin::unavailable(super::STDIN_TAKEN));
    let outcome = engine::run(request)?;
    super::print_warnings(outcome.warnings());
    outcome
        .write_output(|pieces| super::write_stdout_pieces(pieces))
        .expect("credentials were resolved")
}
