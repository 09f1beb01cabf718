use super::validate::sanitize_secret_name;
use super::*;
use crate::registry::credentials::CredentialSource;
use crate::registry::image::ImageRef;

const FULL: &str = include_str!("../../tests/fixtures/rules/full.yaml");

/// Joins lines so each test's YAML line numbers are the slice indexes plus one.
fn yaml(lines: &[&str]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// A valid file with `extra` lines appended (line 9 onwards).
fn with_rules(extra: &[&str]) -> String {
    let mut lines = vec![
        "apiVersion: helm-regcred/v1",                              // 1
        "kind: RegcredConfig",                                      // 2
        "registries:",                                              // 3
        "  - server: harbor.example.com",                           // 4
        "    secret: harbor-pull",                                  // 5
        "    credentials: {env: {username: U, password: P}}",       // 6
        "  - {server: docker.io, secret: hub-pull, create: false}", // 7
        "rules:",                                                   // 8
    ];
    lines.extend_from_slice(extra);
    yaml(&lines)
}

fn problems(text: &str) -> Vec<Problem> {
    match Config::parse(text, "regcred.yaml") {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(e) => e.problems().to_vec(),
    }
}

/// Asserts the only problem is `kind` at `line:column` with a hint containing `hint`, and that
/// the rendered error shows both.
#[track_caller]
fn assert_one(text: &str, kind: ProblemKind, line: u64, column: u64, hint: &str) -> Problem {
    let err = Config::parse(text, "regcred.yaml").expect_err("expected a problem");
    let found = err.problems();
    assert_eq!(found.len(), 1, "{err}");
    let p = found[0].clone();
    assert_eq!(p.kind, kind, "{err}");
    assert_eq!(p.position, Some(Position { line, column }), "{err}");
    assert!(p.hint.contains(hint), "hint {:?} lacks {hint:?}", p.hint);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("regcred.yaml:{line}:{column}: ")),
        "{shown}"
    );
    assert!(shown.contains("\n  hint: "), "{shown}");
    p
}

fn subject<'a>(
    kind: &'a str,
    name: &'a str,
    labels: &'a Vec<(String, String)>,
    images: &'a [ImageRef],
    source: Option<&'a str>,
) -> Subject<'a> {
    Subject {
        kind,
        name,
        namespace: "spaceone",
        labels,
        images,
        source,
    }
}

// ---- valid files -------------------------------------------------------------------------

#[test]
fn full_valid_file() {
    let config = Config::parse(FULL, "full.yaml").unwrap();
    assert_eq!(config.origin, "full.yaml");
    assert_eq!(config.registries.len(), 4);

    let harbor = &config.registries[0];
    assert_eq!(harbor.server, "harbor.example.com");
    assert_eq!(harbor.host, "harbor.example.com");
    assert_eq!(harbor.secret, "harbor-pull");
    assert_eq!(harbor.email.as_deref(), Some("ops@example.com"));
    assert_eq!(
        harbor.credentials,
        Some(CredentialSource::Env {
            username: "REG_USER".into(),
            password: "REG_PASSWORD".into()
        })
    );
    assert!(harbor.create, "create defaults to true");

    let hub = &config.registries[1];
    assert_eq!(hub.server, "https://index.docker.io/v1/");
    assert_eq!(hub.host, "docker.io");
    assert!(hub.create);

    let readonly = &config.registries[2];
    assert!(!readonly.create);
    assert!(readonly.credentials.is_none());

    assert_eq!(config.rules.len(), 3);
    let rule = &config.rules[0];
    assert_eq!(rule.name, "cloudforet-services");
    assert_eq!(
        rule.selector.kinds(),
        Some(&["Deployment".to_string(), "StatefulSet".to_string()][..])
    );
    assert_eq!(
        rule.secrets.as_deref(),
        Some(&["harbor-pull".to_string()][..])
    );
    assert!(rule.exclude.is_some());
    assert!(config.rules[1].secrets.is_none());
    assert!(config.rules[1].selector.kinds().is_none());
    assert!(
        config.rules[2].selector.is_empty(),
        "`match: {{}}` matches everything"
    );
}

#[test]
fn full_file_rules_match_as_documented() {
    let config = Config::parse(FULL, "full.yaml").unwrap();
    let rule = &config.rules[0];
    let labels = vec![(
        "app.kubernetes.io/part-of".to_string(),
        "cloudforet".to_string(),
    )];
    let images = vec![ImageRef::parse("harbor.example.com/cloudforet/console:1.12").unwrap()];
    let source = Some("spaceone/charts/console/templates/deployment.yaml");

    assert!(rule.matches(&subject("Deployment", "console", &labels, &images, source)));
    assert!(rule.matches(&subject(
        "StatefulSet",
        "supervisor-a",
        &labels,
        &images,
        source
    )));
    // exclude wins over match
    assert!(!rule.matches(&subject(
        "Deployment",
        "supervisor-test",
        &labels,
        &images,
        source
    )));
    assert!(rule.selector.matches(&subject(
        "Deployment",
        "supervisor-test",
        &labels,
        &images,
        source
    )));
    // each field is required
    assert!(!rule.matches(&subject("DaemonSet", "console", &labels, &images, source)));
    assert!(!rule.matches(&subject("Deployment", "console", &vec![], &images, source)));
    assert!(!rule.matches(&subject("Deployment", "console", &labels, &[], source)));
    assert!(!rule.matches(&subject("Deployment", "console", &labels, &images, None)));

    let nginx = vec![ImageRef::parse("nginx").unwrap()];
    assert!(config.rules[1].matches(&subject("Pod", "web", &vec![], &nginx, None)));
    assert!(config.rules[2].matches(&subject("Pod", "web", &vec![], &[], None)));
}

#[test]
fn load_reads_the_file_and_names_it() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/full.yaml");
    let config = Config::load(&path).unwrap();
    assert_eq!(config.origin, path.display().to_string());
    assert_eq!(config.registries.len(), 4);

    let missing = path.with_file_name("does-not-exist.yaml");
    let err = Config::load(&missing).unwrap_err();
    assert!(matches!(err, RulesError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("does-not-exist.yaml"), "{err}");
    assert!(err.problems().is_empty());
}

#[test]
fn load_reports_problems_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regcred.yaml");
    std::fs::write(&path, with_rules(&[]).replace("/v1", "/v2")).unwrap();
    let err = Config::load(&path).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{}:1:13: ", path.display())),
        "{shown}"
    );
}

#[test]
fn no_rules_means_the_default_rule() {
    let text = yaml(&[
        "apiVersion: helm-regcred/v1",
        "kind: RegcredConfig",
        "registries:",
        "  - server: harbor.example.com",
        "    secret: harbor-pull",
        "    credentials: {env: {username: U, password: P}}",
    ]);
    let config = Config::parse(&text, "<inline>").unwrap();
    assert!(config.rules.is_empty());
    assert_eq!(config.origin, "<inline>");

    let explicit_empty = format!("{text}rules: []\n");
    assert!(
        Config::parse(&explicit_empty, "<inline>")
            .unwrap()
            .rules
            .is_empty()
    );
    let null = format!("{text}rules:\n");
    assert!(Config::parse(&null, "<inline>").unwrap().rules.is_empty());
}

#[test]
fn reference_only_registry_needs_no_credentials() {
    let text = yaml(&[
        "apiVersion: helm-regcred/v1",
        "kind: RegcredConfig",
        "registries:",
        "  - {server: harbor.example.com, secret: existing, create: false}",
    ]);
    let config = Config::parse(&text, "<inline>").unwrap();
    assert!(!config.registries[0].create);
}

#[test]
fn lookup_by_host_and_secret() {
    let config = Config::parse(FULL, "full.yaml").unwrap();
    let secrets = |host: &str| -> Vec<&str> {
        config
            .registries_for_host(host)
            .map(|r| r.secret.as_str())
            .collect()
    };
    assert_eq!(
        secrets("harbor.example.com"),
        ["harbor-pull", "harbor-readonly"]
    );
    assert_eq!(secrets("docker.io"), ["dockerhub-pull"]);
    // Any spelling of the host finds it.
    assert_eq!(secrets("index.docker.io"), ["dockerhub-pull"]);
    assert_eq!(
        secrets("Harbor.Example.com"),
        ["harbor-pull", "harbor-readonly"]
    );
    assert!(secrets("quay.io").is_empty());

    let hosts: Vec<&str> = config
        .registry_by_secret("harbor-pull")
        .map(|r| r.host.as_str())
        .collect();
    assert_eq!(hosts, ["harbor.example.com", "ghcr.io"]);
    assert_eq!(config.registry_by_secret("nope").count(), 0);
}

// ---- header ------------------------------------------------------------------------------

#[test]
fn wrong_api_version() {
    let text = with_rules(&[]).replace("helm-regcred/v1", "helm-regcred/v2");
    let p = assert_one(
        &text,
        ProblemKind::ApiVersion,
        1,
        13,
        "apiVersion: helm-regcred/v1",
    );
    assert!(p.message.contains("`helm-regcred/v2`"), "{}", p.message);
}

#[test]
fn wrong_kind() {
    let text = with_rules(&[]).replace("kind: RegcredConfig", "kind: Regcred");
    assert_one(&text, ProblemKind::Kind, 2, 7, "kind: RegcredConfig");
}

#[test]
fn missing_api_version_and_kind() {
    let text = with_rules(&[]).replace("apiVersion: helm-regcred/v1\nkind: RegcredConfig\n", "");
    let found = problems(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found.iter().all(|p| p.kind == ProblemKind::MissingField));
    assert!(found[0].hint.contains("apiVersion: helm-regcred/v1"));
    assert!(found[1].hint.contains("kind: RegcredConfig"));
}

#[test]
fn empty_file() {
    for text in ["", "# nothing yet\n", "---\n", "---\n# later\n...\n"] {
        assert_one(
            text,
            ProblemKind::Empty,
            1,
            1,
            "apiVersion: helm-regcred/v1",
        );
    }
}

#[test]
fn a_file_with_only_empty_keys_is_not_called_empty() {
    let found = problems("registries:\nrules:\n");
    let kinds: Vec<ProblemKind> = found.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::MissingField,
            ProblemKind::MissingField,
            ProblemKind::NoRegistries
        ]
    );
}

// ---- shape errors from serde-saphyr --------------------------------------------------------

#[test]
fn unknown_top_level_field() {
    let text = with_rules(&[]).replace("registries:", "registry:");
    let p = assert_one(
        &text,
        ProblemKind::UnknownField,
        3,
        1,
        "did you mean `registries`?",
    );
    assert!(
        p.message.contains(
            "unknown field `registry`; valid fields here: apiVersion, kind, metadata, registries, rules, serviceAccounts, vars"
        ),
        "{}",
        p.message
    );
}

#[test]
fn unknown_registry_field() {
    let text = with_rules(&[]).replace("    secret: harbor-pull", "    secrets: harbor-pull");
    let p = assert_one(
        &text,
        ProblemKind::UnknownField,
        5,
        5,
        "did you mean `secret`?",
    );
    assert!(
        p.message
            .contains("server, secret, email, credentials, create"),
        "{}",
        p.message
    );
}

#[test]
fn unknown_selector_field_without_close_match() {
    let text = with_rules(&[
        "  - name: r",               // 9
        "    match:",                // 10
        "      kinds: [Deployment]", // 11
        "      containers: [app]",   // 12
    ]);
    let p = assert_one(
        &text,
        ProblemKind::UnknownField,
        12,
        7,
        "kinds, names, namespaces, labels, images, sources",
    );
    assert!(p.hint.starts_with("remove `containers`"), "{}", p.hint);
}

#[test]
fn unknown_credentials_field_and_source() {
    let text = with_rules(&[]).replace("password: P", "pasword: P");
    assert_one(
        &text,
        ProblemKind::UnknownField,
        6,
        38,
        "did you mean `password`?",
    );

    let text = with_rules(&[]).replace("{env: {", "{vault: {");
    let p = assert_one(
        &text,
        ProblemKind::UnknownVariant,
        6,
        19,
        "write one of: env",
    );
    assert!(p.message.contains("`vault`"), "{}", p.message);
}

#[test]
fn unknown_field_in_rule_suggests_match() {
    let text = with_rules(&["  - name: r", "    matches: {}"]);
    assert_one(
        &text,
        ProblemKind::UnknownField,
        10,
        5,
        "did you mean `match`?",
    );
}

#[test]
fn wrong_types() {
    // a string where a list belongs
    let text = with_rules(&["  - name: r", "    match: {kinds: Deployment}"]);
    let p = assert_one(&text, ProblemKind::WrongType, 10, 20, "`[a]`");
    assert_eq!(p.message, "expected a list");

    // a YAML 1.1 boolean
    let text = with_rules(&[]).replace("create: false", "create: no");
    let p = assert_one(&text, ProblemKind::WrongType, 7, 51, "`true` or `false`");
    assert!(p.message.contains("`true` or `false`"), "{}", p.message);

    // a mapping where a list belongs
    let text = yaml(&[
        "apiVersion: helm-regcred/v1",
        "kind: RegcredConfig",
        "registries: {server: harbor.example.com}",
    ]);
    assert_one(&text, ProblemKind::WrongType, 3, 13, "`[a, b]`");

    // a list where a string belongs
    let text = with_rules(&[]).replace("secret: harbor-pull", "secret: [harbor-pull]");
    assert_one(&text, ProblemKind::WrongType, 5, 13, "one value");
}

#[test]
fn yaml_syntax_error() {
    let text = with_rules(&[]).replace("    secret: harbor-pull", "    secret: 'harbor-pull");
    let p = assert_one(&text, ProblemKind::Syntax, 5, 13, "quoting");
    assert!(p.message.starts_with("invalid YAML: "), "{}", p.message);
}

#[test]
fn duplicate_key() {
    let text = with_rules(&[]).replace(
        "    secret: harbor-pull",
        "    secret: harbor-pull\n    secret: other",
    );
    assert_one(&text, ProblemKind::DuplicateKey, 6, 5, "keep one `secret:`");
}

#[test]
fn several_documents() {
    let text = format!("{}---\n{}", with_rules(&[]), with_rules(&[]));
    let p = assert_one(&text, ProblemKind::Syntax, 10, 1, "`---`");
    assert!(p.message.contains("more than one YAML document"));
}

// ---- registries --------------------------------------------------------------------------

#[test]
fn empty_and_missing_server() {
    let text = with_rules(&[]).replace("server: harbor.example.com", "server: \"\"");
    assert_one(
        &text,
        ProblemKind::EmptyServer,
        4,
        13,
        "server: harbor.example.com",
    );

    let text = with_rules(&[]).replace("  - server: harbor.example.com\n    secret", "  - secret");
    let p = assert_one(
        &text,
        ProblemKind::MissingField,
        4,
        5,
        "`docker.io` for Docker Hub",
    );
    assert_eq!(p.message, "registry entry has no `server`");

    let text = with_rules(&[]).replace("server: harbor.example.com", "server: https://");
    assert_one(
        &text,
        ProblemKind::EmptyServer,
        4,
        13,
        "server: harbor.example.com",
    );

    let text = with_rules(&[]).replace("server: harbor.example.com", "server: harbor example");
    assert_one(
        &text,
        ProblemKind::InvalidServer,
        4,
        13,
        "server: harbor.example.com",
    );
}

#[test]
fn servers_the_kubelet_could_never_match_are_refused_with_what_to_write() {
    // (server, a part of the message, a part of the hint); issue 13 item 3.
    let cases = [
        (
            "\"harbor[.example.com\"",
            "not a valid glob",
            "close the `[...]` class",
        ),
        ("harbor.example.com:50x0", "invalid port", "digits only"),
        (
            "\"harbor_ex{ample}.com\"",
            "cannot hold",
            "host[:port][/path]",
        ),
    ];
    for (server, message, hint) in cases {
        let text =
            with_rules(&[]).replace("server: harbor.example.com", &format!("server: {server}"));
        let p = assert_one(&text, ProblemKind::InvalidServer, 4, 13, hint);
        assert!(p.message.contains(message), "{server}: {}", p.message);
        assert!(p.message.contains("never send"), "{}", p.message);
    }
    // A glob per host part, a path, a scheme with `/v2/`: all matchable, so accepted.
    for server in [
        "\"*.dkr.ecr.eu-west-1.amazonaws.com\"",
        "harbor.example.com/team-a",
        "https://other.example.com/v2/",
    ] {
        let text =
            with_rules(&[]).replace("server: harbor.example.com", &format!("server: {server}"));
        Config::parse(&text, "regcred.yaml").unwrap_or_else(|e| panic!("{server}: {e}"));
    }
}

#[test]
fn missing_secret_suggests_one_from_the_host() {
    let text = with_rules(&[]).replace("    secret: harbor-pull\n", "");
    assert_one(
        &text,
        ProblemKind::MissingField,
        4,
        5,
        "secret: harbor-example-com",
    );
}

#[test]
fn same_host_twice_with_different_secrets_is_fine() {
    let text = with_rules(&[]).replace(
        "rules:",
        "  - {server: harbor.example.com, secret: other, create: false}\nrules:",
    );
    assert!(Config::parse(&text, "<inline>").is_ok());
}

#[test]
fn duplicate_host_and_secret() {
    // Another spelling of the same host is the same registry.
    let text = with_rules(&[]).replace(
        "rules:",
        "  - {server: \"https://Harbor.example.com/\", secret: harbor-pull, create: true, \
         credentials: {env: {username: A, password: B}}}\nrules:",
    );
    let p = assert_one(
        &text,
        ProblemKind::DuplicateRegistry,
        8,
        5,
        "different `secret:`",
    );
    assert!(
        p.message.contains("already listed at line 4"),
        "{}",
        p.message
    );
}

#[test]
fn invalid_secret_name() {
    let text = with_rules(&[]).replace("secret: harbor-pull", "secret: Harbor_Pull");
    let p = assert_one(
        &text,
        ProblemKind::InvalidSecretName,
        5,
        13,
        "write `secret: harbor-pull`",
    );
    assert!(p.message.contains("`Harbor_Pull`"), "{}", p.message);

    let long = "a".repeat(254);
    let text = with_rules(&[]).replace("secret: harbor-pull", &format!("secret: {long}"));
    let p = assert_one(
        &text,
        ProblemKind::InvalidSecretName,
        5,
        13,
        "write `secret: aaa",
    );
    assert!(p.message.contains("254 characters"), "{}", p.message);
}

#[test]
fn sanitized_secret_names_are_valid() {
    for (bad, good) in [
        ("Harbor_Pull", "harbor-pull"),
        ("-my..cred-", "my.cred"),
        ("a b/c", "a-b-c"),
        ("ünïcode", "n-code"),
        ("___", "regcred"),
    ] {
        let suggestion = sanitize_secret_name(bad);
        assert_eq!(suggestion, good, "{bad}");
        assert!(
            crate::names::is_dns1123_subdomain(&suggestion),
            "{suggestion}"
        );
    }
    let long = sanitize_secret_name(&format!("{}-x", "a".repeat(252)));
    assert!(long.len() <= 253 && crate::names::is_dns1123_subdomain(&long));
}

#[test]
fn create_without_credentials() {
    let text = with_rules(&[]).replace("    credentials: {env: {username: U, password: P}}\n", "");
    let p = assert_one(
        &text,
        ProblemKind::MissingCredentials,
        4,
        5,
        "credentials: {env: {username: VAR, password: VAR}}",
    );
    assert!(p.message.contains("defaults to true"), "{}", p.message);
    assert!(p.hint.contains("create: false"), "{}", p.hint);

    let text = with_rules(&[]).replace("create: false", "create: true");
    let p = assert_one(
        &text,
        ProblemKind::MissingCredentials,
        7,
        5,
        "credentials: {env:",
    );
    assert!(!p.message.contains("defaults"), "{}", p.message);
}

#[test]
fn shared_secret_must_agree_on_create() {
    let text = with_rules(&[]).replace("secret: hub-pull", "secret: harbor-pull");
    let p = assert_one(
        &text,
        ProblemKind::ConflictingCreate,
        7,
        5,
        "same `create:`",
    );
    assert!(p.message.contains("line 4"), "{}", p.message);
}

#[test]
fn no_registries() {
    let text = yaml(&[
        "apiVersion: helm-regcred/v1",
        "kind: RegcredConfig",
        "registries: []",
    ]);
    assert_one(
        &text,
        ProblemKind::NoRegistries,
        3,
        13,
        "registries: [{server:",
    );
    let text = yaml(&["apiVersion: helm-regcred/v1", "kind: RegcredConfig"]);
    assert_one(
        &text,
        ProblemKind::NoRegistries,
        1,
        1,
        "registries: [{server:",
    );
}

// ---- rules -------------------------------------------------------------------------------

#[test]
fn bad_globs_name_the_pattern_and_why() {
    let text = with_rules(&["  - name: r", "    match: {names: [\"ok-*\", \"app-[a\"]}"]);
    let p = assert_one(&text, ProblemKind::InvalidPattern, 10, 29, "[...]");
    assert!(
        p.message.contains("`match.names`") && p.message.contains("`app-[a`"),
        "{}",
        p.message
    );
    assert!(
        p.message.contains("unclosed character class"),
        "{}",
        p.message
    );

    let text = with_rules(&[
        "  - name: r",
        "    match: {images: [\"harbor.example.com**\"]}",
    ]);
    let p = assert_one(&text, ProblemKind::InvalidPattern, 10, 22, "prefix/**");
    assert!(
        p.message.contains("not a whole path segment"),
        "{}",
        p.message
    );

    let text = with_rules(&["  - name: r", "    exclude: {labels: {tier: \"{a,b\"}}"]);
    let p = assert_one(&text, ProblemKind::InvalidPattern, 10, 30, "braces");
    assert!(p.message.contains("`exclude.labels.tier`"), "{}", p.message);

    let text = with_rules(&["  - name: r", "    match: {sources: [\"\"]}"]);
    assert_one(&text, ProblemKind::InvalidPattern, 10, 23, "\"*\"");
}

#[test]
fn invalid_kinds() {
    let cases = [
        ("deployment", "write `Deployment`"),
        ("Statefulset", "write `StatefulSet`"),
        ("Deploy*", "list each kind"),
        ("my-kind", "write `MyKind`"),
        ("1x", "e.g. `Deployment`"),
    ];
    for (kind, hint) in cases {
        let text = with_rules(&[
            "  - name: r",
            &format!("    match: {{kinds: [Pod, \"{kind}\"]}}"),
        ]);
        assert_one(&text, ProblemKind::InvalidKind, 10, 26, hint);
    }
    // Custom resources are fine.
    let text = with_rules(&[
        "  - name: r",
        "    match: {kinds: [Rollout, SparkApplication]}",
    ]);
    assert!(Config::parse(&text, "<inline>").is_ok());
}

#[test]
fn unknown_secret_in_rule() {
    let text = with_rules(&["  - name: r", "    secrets: [harbor-pul]"]);
    let p = assert_one(
        &text,
        ProblemKind::UnknownSecret,
        10,
        15,
        "did you mean `harbor-pull`?",
    );
    assert!(p.hint.contains("`harbor-pull`, `hub-pull`"), "{}", p.hint);
    assert!(p.message.contains("rule `r`"), "{}", p.message);

    let text = with_rules(&["  - name: r", "    secrets: [quay]"]);
    let p = assert_one(
        &text,
        ProblemKind::UnknownSecret,
        10,
        15,
        "use a defined secret (`harbor-pull`, `hub-pull`)",
    );
    assert!(p.hint.contains("secret: quay"), "{}", p.hint);
}

#[test]
fn duplicate_rule_names() {
    let text = with_rules(&[
        "  - name: web",   // 9
        "  - name: web",   // 10
        "  - name: web-2", // 11
        "  - name: web",   // 12
    ]);
    let found = problems(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    for (p, line) in found.iter().zip([10, 12]) {
        assert_eq!(p.kind, ProblemKind::DuplicateRuleName);
        assert_eq!(p.position, Some(Position { line, column: 11 }));
        assert!(
            p.message.contains("already used at line 9"),
            "{}",
            p.message
        );
        assert!(p.hint.contains("name: web-3"), "{}", p.hint);
    }
}

#[test]
fn missing_rule_name() {
    let text = with_rules(&["  - match: {}"]);
    assert_one(&text, ProblemKind::MissingRuleName, 9, 5, "name: rule-1");
    let text = with_rules(&["  - name: ''"]);
    assert_one(&text, ProblemKind::MissingRuleName, 9, 11, "name: rule-1");
}

#[test]
fn empty_lists_and_exclude() {
    let text = with_rules(&["  - name: r", "    match: {names: []}"]);
    assert_one(
        &text,
        ProblemKind::EmptyList,
        10,
        20,
        "delete `names` to match any name",
    );
    let text = with_rules(&["  - name: r", "    secrets: []"]);
    assert_one(&text, ProblemKind::EmptyList, 10, 14, "delete `secrets`");
    let text = with_rules(&["  - name: r", "    exclude: {}"]);
    let p = assert_one(&text, ProblemKind::EmptyExclude, 10, 14, "delete `exclude`");
    assert!(
        p.message.contains("rule `r` never applies"),
        "{}",
        p.message
    );
}

#[test]
fn label_values_are_text_whatever_they_look_like() {
    let text = with_rules(&[
        "  - name: r",
        "    match: {labels: {tier: 1, canary: true, app: \"web-*\"}}",
    ]);
    let config = Config::parse(&text, "<inline>").unwrap();
    let keys: Vec<(&str, &str)> = config.rules[0]
        .selector
        .labels()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(keys, [("tier", "1"), ("canary", "true"), ("app", "web-*")]);
    let labels = vec![
        ("tier".to_string(), "1".to_string()),
        ("canary".to_string(), "true".to_string()),
        ("app".to_string(), "web-frontend".to_string()),
    ];
    assert!(config.rules[0].matches(&subject("Pod", "x", &labels, &[], None)));
}

#[test]
fn match_block_may_be_empty_or_absent() {
    let text = with_rules(&[
        "  - name: a",
        "    match: {}",
        "  - name: b",
        "    secrets: [hub-pull]",
    ]);
    let config = Config::parse(&text, "<inline>").unwrap();
    assert!(config.rules.iter().all(|r| r.selector.is_empty()));
}

// ---- several at once ---------------------------------------------------------------------

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = yaml(&[
        "apiVersion: helm-regcred/v2",    // 1
        "kind: RegcredConfig",            // 2
        "registries:",                    // 3
        "  - server: harbor.example.com", // 4
        "    secret: Harbor_Pull",        // 5
        "  - server: \"\"",               // 6
        "    secret: hub-pull",           // 7
        "    create: false",              // 8
        "  - {server: harbor.example.com, secret: Harbor_Pull, create: false}", // 9
        "rules:",                         // 10
        "  - name: web",                  // 11
        "    match: {kinds: [deployment], names: [\"app-[\"]}", // 12
        "    secrets: [hub-pul]",         // 13
        "  - name: web",                  // 14
    ]);
    let err = Config::parse(&text, "regcred.yaml").unwrap_err();
    let found: Vec<(ProblemKind, u64, u64)> = err
        .problems()
        .iter()
        .map(|p| {
            let at = p.position.unwrap();
            (p.kind, at.line, at.column)
        })
        .collect();
    assert_eq!(
        found,
        [
            (ProblemKind::ApiVersion, 1, 13),
            (ProblemKind::MissingCredentials, 4, 5),
            (ProblemKind::InvalidSecretName, 5, 13),
            (ProblemKind::EmptyServer, 6, 13),
            (ProblemKind::DuplicateRegistry, 9, 5),
            (ProblemKind::InvalidSecretName, 9, 42),
            (ProblemKind::InvalidKind, 12, 21),
            (ProblemKind::InvalidPattern, 12, 42),
            (ProblemKind::UnknownSecret, 13, 15),
            (ProblemKind::DuplicateRuleName, 14, 11),
        ]
    );
    let shown = err.to_string();
    assert_eq!(shown.matches("\n  hint: ").count(), 10, "{shown}");
    assert_eq!(shown.lines().count(), 20, "{shown}");
    assert!(
        shown.starts_with(
            "regcred.yaml:1:13: unsupported apiVersion `helm-regcred/v2`; this helm-regcred reads \
         `helm-regcred/v1`\n  hint: write `apiVersion: helm-regcred/v1`\nregcred.yaml:4:5: "
        ),
        "{shown}"
    );
}

#[test]
fn display_without_a_position() {
    let p = Problem {
        kind: ProblemKind::Syntax,
        origin: "x.yaml".into(),
        position: None,
        message: "broken".into(),
        hint: "fix it".into(),
    };
    assert_eq!(p.to_string(), "x.yaml: broken\n  hint: fix it");
}

#[test]
fn service_accounts_declare_what_accounts_outside_the_manifests_carry() {
    let text = with_rules(&[
        "  - name: all",
        "serviceAccounts:",
        "  - {namespaces: [\"team-*\"], names: [default, builder], imagePullSecrets: [corp-pull]}",
        "  - {names: [default], imagePullSecrets: [corp-pull, mirror]}",
        "  - {names: [quiet], imagePullSecrets: []}",
    ]);
    let config = Config::parse(&text, "regcred.yaml").unwrap();
    let secrets = |ns: &str, name: &str| config.service_account_secrets(ns, name);
    let strings = |names: &[&str]| Some(names.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        secrets("team-a", "default"),
        strings(&["corp-pull", "mirror"])
    );
    assert_eq!(secrets("team-a", "builder"), strings(&["corp-pull"]));
    assert_eq!(secrets("other", "builder"), None);
    assert_eq!(secrets("other", "quiet"), strings(&[]));

    // (entry, kind, line, column, hint)
    let cases = [
        (
            "  - {imagePullSecrets: [x]}",
            ProblemKind::MissingField,
            11,
            5,
            "names: [default]",
        ),
        (
            "  - {names: [default]}",
            ProblemKind::MissingField,
            11,
            5,
            "`[]` for none",
        ),
        (
            "  - {names: [], imagePullSecrets: [x]}",
            ProblemKind::EmptyList,
            11,
            13,
            "list the ServiceAccounts",
        ),
        (
            "  - {names: [Default], imagePullSecrets: [x]}",
            ProblemKind::InvalidValue,
            11,
            14,
            "DNS-1123",
        ),
        (
            "  - {names: [default], imagePullSecrets: [Corp]}",
            ProblemKind::InvalidSecretName,
            11,
            43,
            "DNS-1123",
        ),
        (
            "  - {namespaces: [\"[a\"], names: [default], imagePullSecrets: [x]}",
            ProblemKind::InvalidPattern,
            11,
            19,
            "",
        ),
    ];
    for (entry, kind, line, column, hint) in cases {
        let text = with_rules(&["  - name: all", "serviceAccounts:", entry]);
        assert_one(&text, kind, line, column, hint);
    }
}

#[test]
fn unknown_enum_names_are_each_reported_with_what_to_write() {
    let text = with_rules(&[
        "  - name: a",                                                                     // 9
        "    mode: podspecc",                                                              // 10
        "  - name: b",                                                                     // 11
        "    match: {kinds: [ConfigMap]}",                                                 // 12
        "    target: {field: \"$.data.x\", format: xml, path: \"$.a.b\", itemShape: bad}", // 13
    ]);
    let found = problems(&text);
    let shown: Vec<(String, u64, &str)> = found
        .iter()
        .map(|p| (p.message.clone(), p.position.unwrap().line, p.hint.as_str()))
        .collect();
    assert_eq!(found.len(), 3, "{shown:?}");
    assert!(found.iter().all(|p| p.kind == ProblemKind::InvalidValue));
    assert_eq!(shown[0].0, "unknown mode `podspecc`");
    assert_eq!(shown[0].1, 10);
    assert!(shown[0].2.contains("`mode: serviceAccount`"));
    assert_eq!(shown[1].0, "unknown format `xml`");
    assert!(shown[1].2.contains("`format: json`"));
    assert_eq!(shown[2].0, "unknown itemShape `bad`");
    assert!(shown[2].2.contains("`itemShape: string`"));
    assert_eq!((shown[1].1, shown[2].1), (13, 13));
}
