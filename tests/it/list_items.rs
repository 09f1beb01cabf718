//! Items already in a pull-secret list are checked against the list's schema, through the
//! real binary. `imagePullSecrets` (pod specs, ServiceAccounts) is `[]LocalObjectReference`:
//! a bare string does not decode (the API server refuses the pod), and `null`, `{}` or an
//! empty name are skipped by the kubelet. Such an item is a located error, never "present"
//! and never appended to.

use crate::util::{regcred, run_with_stdin};

const RULES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: quay.io\n    secret: quay-pull\n    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}\n";

fn pod(list: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: web, namespace: apps}}\nspec:\n  imagePullSecrets: {list}\n  containers:\n  - {{name: web, image: quay.io/team/web:1}}\n"
    )
}

fn run(args: &[&str], input: &str) -> std::process::Output {
    let (dir, rules) = crate::util::rules_file(RULES);
    let mut cmd = regcred();
    cmd.current_dir(dir.path()).args(args).arg("-r").arg(&rules);
    run_with_stdin(cmd, input.as_bytes())
}

#[test]
fn bad_items_are_located_errors_not_present_or_appended_to() {
    for (list, expected) in [
        (
            "[quay-pull]",
            "`spec.imagePullSecrets[0]` must be a LocalObjectReference `{name: SECRET}`, found a scalar",
        ),
        ("[null]", "`spec.imagePullSecrets[0]` has no `name`"),
        ("[{}]", "`spec.imagePullSecrets[0]` has no `name`"),
        (
            "[{name: other}, {name: ''}]",
            "`spec.imagePullSecrets[1]` has no `name`",
        ),
        (
            "[{name: [x]}]",
            "`spec.imagePullSecrets[0]` has a `name` that is a list, not a string",
        ),
    ] {
        for args in [&["post-render"][..], &["check"][..]] {
            let out = run(args, &pod(list));
            let err = String::from_utf8_lossy(&out.stderr);
            // `check` exits 2 on an input error (1 means findings); post-render exits 1.
            let code = if args == ["check"] { 2 } else { 1 };
            assert_eq!(out.status.code(), Some(code), "{list} {args:?}: {err}");
            assert!(
                out.stdout.is_empty(),
                "{list}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(
                err.contains("document 1 (Pod/web), line 5: "),
                "{list} {args:?}: {err}"
            );
            assert!(err.contains(expected), "{list} {args:?}: {err}");
        }
    }
}

#[test]
fn well_formed_items_are_kept_and_counted() {
    let out = run(&["post-render"], &pod("[{name: quay-pull}]"));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  imagePullSecrets: [{name: quay-pull}]\n"),
        "{stdout}"
    );
    let out = run(&["post-render"], &pod("[{name: other}]"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  imagePullSecrets: [{name: other}, {name: quay-pull}]\n"),
        "{stdout}"
    );
}
