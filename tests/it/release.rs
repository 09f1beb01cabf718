//! The release as a user gets it: `scripts/release` archives, `helm plugin install` from a git
//! repository, from the extracted archive and from signed Helm 4 packages — with the real Helm
//! 3 and Helm 4, a release directory served over loopback HTTP, and no cargo on PATH.
//!
//! The release is packaged once per test run from the test build (`--bin`, stripped to keep the
//! archives small); `scripts/build-release`, which the real release runs, is not repeated here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::helm::{CHART, Helm, RULES, documents, ok, repo, text};
use crate::util::{bin, tool, write_executable};

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// A PATH with the usual tools and no cargo (rustup puts it in ~/.cargo/bin).
const NO_CARGO_PATH: &str = "/usr/bin:/bin";
const SIGNER: &str = "helm-regcred release test <release-test@helm-regcred.invalid>";

pub struct Release {
    /// What the release workflow publishes: the archive and SHA256SUMS.
    pub dir: PathBuf,
    pub archive: PathBuf,
    /// The archive, extracted: `helm-regcred-<version>-<os>-<arch>/`.
    pub extracted: PathBuf,
    /// The public half of the throwaway key the Helm 4 packages are signed with.
    pub pubring: PathBuf,
    /// The stripped test build that was packaged.
    pub binary: PathBuf,
    /// A git repository holding this working tree's files (what `helm plugin install URL` clones).
    pub git: PathBuf,
}

fn host() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{os}-{}", std::env::consts::ARCH)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// The release of this test run, made on first use.
pub fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(make_release)
}

fn make_release() -> Release {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release-test");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    // The debug build is ~100 MB of debug info; the release tooling does not care what it packs.
    let binary = work.join("helm-regcred");
    run(Command::new("strip").arg("-o").arg(&binary).arg(bin()));

    // A throwaway signing key in its own GNUPGHOME; Helm reads legacy (non-keybox) keyrings.
    let gnupg = work.join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg = || {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", &gnupg).args(["--batch", "--quiet"]);
        cmd
    };
    run(gpg().args([
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-gen-key",
        SIGNER,
        "rsa2048",
        "sign",
        "never",
    ]));
    let secring = work.join("secring.gpg");
    let pubring = work.join("pubring.gpg");
    let secret = run(gpg().args(["--export-secret-keys", SIGNER]));
    std::fs::write(&secring, &secret.stdout).unwrap();
    let public = run(gpg().args(["--export", SIGNER]));
    std::fs::write(&pubring, &public.stdout).unwrap();
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &gnupg)
        .args(["--kill", "gpg-agent"])
        .status();

    let dir = work.join("release");
    let out = run(Command::new(repo().join("scripts/release"))
        .arg("--out")
        .arg(&dir)
        .arg("--bin")
        .arg(&binary)
        .arg("--helm4")
        .arg(tool(
            "HELM4_BIN",
            "/root/.cache/helm-regcred/tools/helm4/helm",
        ))
        .args(["--sign", "release-test@helm-regcred.invalid", "--keyring"])
        .arg(&secring)
        .env("PATH", NO_CARGO_PATH)
        .env_remove("CARGO"));
    let name = format!("helm-regcred-{VERSION}-{}", host());
    let archive = dir.join(format!("{name}.tar.gz"));
    assert_eq!(text(&out.stdout).trim(), archive.to_str().unwrap());

    let unpacked = work.join("extracted");
    std::fs::create_dir_all(&unpacked).unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked));

    Release {
        dir,
        archive,
        extracted: unpacked.join(name),
        pubring,
        binary,
        git: git_repository(&work.join("helm-regcred.git")),
    }
}

/// A git repository of the working tree as it is (tracked and new files, nothing ignored).
fn git_repository(dest: &Path) -> PathBuf {
    let files = run(Command::new("git").current_dir(repo()).args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]));
    for file in files.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let file = Path::new(std::str::from_utf8(file).unwrap());
        let from = repo().join(file);
        // Deleted but still in the index, or a symlink to a directory: git handles those.
        let Ok(meta) = std::fs::symlink_metadata(&from) else {
            continue;
        };
        let to = dest.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from).unwrap(), &to).unwrap();
        } else {
            std::fs::copy(&from, &to).unwrap();
        }
    }
    let git = |args: &[&str]| {
        run(Command::new("git")
            .current_dir(dest)
            .args(["-c", "user.email=test@helm-regcred.invalid"])
            .args([
                "-c",
                "user.name=release test",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "release test"]);
    dest.to_path_buf()
}

/// A static file server on loopback for `dir`, counting the files it served.
pub struct Server {
    pub url: String,
    pub served: Arc<AtomicUsize>,
}

pub fn serve(dir: &Path) -> Server {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let (dir, count) = (dir.to_path_buf(), served.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let file = dir.join(path.trim_start_matches('/'));
            let mut stream = &stream;
            match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                }
                _ => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    Server { url, served }
}

/// `helm plugin install SOURCE [ARGS]` with no cargo on PATH; returns stdout and stderr together
/// (Helm passes the hook's output through on either).
fn plugin_install(helm: &Helm, source: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = helm.cmd();
    without_cargo(&mut cmd, NO_CARGO_PATH);
    cmd.arg("plugin").arg("install");
    if source.extension().is_some_and(|e| e == "git") {
        cmd.arg(format!("file://{}", source.display()));
    } else {
        cmd.arg(source);
    }
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// No cargo to be found: not on PATH, and not as $CARGO (which cargo sets for the tests it
/// runs, and scripts/install-plugin honours).
fn without_cargo(cmd: &mut Command, path: &str) {
    cmd.env("PATH", path)
        .env_remove("CARGO")
        .env_remove("RUSTC");
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// `helm regcred template` as a user whose Helm has the installed plugin (no HELM_REGCRED_BINARY:
/// the plugin runs the binary it installed).
fn assert_helm_regcred_works(helm: &Helm) {
    let out = helm
        .cmd()
        .env("PATH", NO_CARGO_PATH)
        .args([
            "regcred",
            "template",
            "demo",
            CHART,
            "--rules",
            RULES,
            "--no-diff",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    // Helm 4 sorts the output by kind; Helm 3 keeps the Secret first.
    let docs = documents(&stdout);
    assert!(
        docs.iter()
            .any(|(source, _)| source == "helm-regcred/pull-secrets.yaml"),
        "{stdout}\n{stderr}"
    );
    assert!(stdout.contains("- name: demo-pull"), "{stdout}");
}

/// `helm template --post-renderer regcred-postrender` (Helm 4), from the installed plugin.
fn assert_post_renderer_plugin_works(helm: &Helm) {
    let out = helm
        .cmd()
        .env("PATH", NO_CARGO_PATH)
        .args([
            "template",
            "demo",
            CHART,
            "--post-renderer",
            "regcred-postrender",
        ])
        .arg(format!("--post-renderer-args=--rules={RULES}"))
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert!(
        stdout.contains("# Source: helm-regcred/pull-secrets.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("- name: demo-pull"), "{stdout}");
}

fn names(helm: &Helm) -> Vec<String> {
    crate::plugin::plugin_names(&helm.plugin_list())
}

#[test]
fn release_archive_holds_binary_plugins_completions_manuals_and_sums() {
    let release = release();
    let listing = text(&run(Command::new("tar").arg("-tzf").arg(&release.archive)).stdout);
    let name = format!("helm-regcred-{VERSION}-{}", host());
    for entry in [
        "bin/helm-regcred",
        "plugin.yaml",
        "plugin.complete",
        "scripts/plugin-exec",
        "scripts/install-plugin",
        "plugins/regcred-postrender/plugin.yaml",
        "plugins/regcred-postrender/scripts",
        &format!("helm4/regcred-{VERSION}.tgz"),
        &format!("helm4/regcred-{VERSION}.tgz.prov"),
        &format!("helm4/regcred-postrender-{VERSION}.tgz"),
        &format!("helm4/regcred-postrender-{VERSION}.tgz.prov"),
        "completions/helm-regcred.bash",
        "completions/_helm-regcred",
        "completions/helm-regcred.fish",
        "completions/_helm-regcred.ps1",
        "man/man1/helm-regcred.1",
        "man/man1/helm-regcred-install.1",
        "man/man1/helm-regcred-post-render.1",
        "LICENSE",
        "README.md",
    ] {
        let path = format!("{name}/{entry}");
        assert!(
            listing.lines().any(|l| l.trim_end_matches('/') == path),
            "{path} missing from the archive:\n{listing}"
        );
    }
    // Nothing of the build or the sources.
    assert!(
        !listing.contains("/src/") && !listing.contains("/target/"),
        "{listing}"
    );

    // The published sums check out, with the ordinary tool.
    let sums = std::fs::read_to_string(release.dir.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 1, "{sums}");
    assert!(sums.ends_with(&format!("  {name}.tar.gz\n")), "{sums}");
    run(Command::new("sha256sum").current_dir(&release.dir).args([
        "--check",
        "--strict",
        "SHA256SUMS",
    ]));
    // As docs/install.md shows it, for a download of one archive.
    run(Command::new("sha256sum").current_dir(&release.dir).args([
        "--check",
        "--ignore-missing",
        "SHA256SUMS",
    ]));

    let x = &release.extracted;
    let version = run(Command::new(x.join("bin/helm-regcred")).arg("--version"));
    assert_eq!(
        text(&version.stdout).trim(),
        format!("helm-regcred {VERSION}")
    );
    let license = std::fs::read_to_string(x.join("LICENSE")).unwrap();
    assert!(license.contains("Apache License") && license.contains("Version 2.0"));
    // The bash script loads and registers the completion; the man page is a man page.
    let bash = run(Command::new("bash").arg("-c").arg(format!(
        "source {}/completions/helm-regcred.bash && complete -p helm-regcred",
        x.display()
    )));
    assert!(
        text(&bash.stdout).contains("helm-regcred"),
        "{}",
        text(&bash.stdout)
    );
    let page = std::fs::read_to_string(x.join("man/man1/helm-regcred-install.1")).unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH"),
        "{page}"
    );
    assert!(page.contains("helm regcred install app ./chart"), "{page}");
}

/// `helm plugin install <git URL>`: the hook downloads the archive for this OS/CPU from the
/// release (here a loopback server) and checks it against SHA256SUMS.
fn install_from_git_downloads_the_release(helm: Helm, args: &[&str]) -> Helm {
    let release = release();
    let server = serve(&release.dir);
    let out = plugin_install(
        &helm,
        &release.git,
        args,
        &[("HELM_REGCRED_RELEASE_URL", &server.url)],
    );
    let said = both(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "using downloaded {}/helm-regcred-{VERSION}-{}.tar.gz (SHA256 verified against SHA256SUMS)",
            server.url,
            host()
        )),
        "{said}"
    );
    assert_eq!(
        server.served.load(Ordering::SeqCst),
        2,
        "SHA256SUMS and the archive"
    );
    assert_eq!(names(&helm), ["regcred"]);
    assert_helm_regcred_works(&helm);
    helm
}

#[test]
fn helm3_plugin_install_from_git_downloads_the_release() {
    install_from_git_downloads_the_release(Helm::v3(), &[]);
}

#[test]
fn helm4_plugin_install_from_git_downloads_the_release() {
    // Helm 4 cannot verify a git source and says to pass --verify=false.
    let helm = install_from_git_downloads_the_release(Helm::v4(), &["--verify=false"]);
    // The post-renderer plugin, from the directory Helm cloned into (docs/install.md), runs
    // the binary the hook downloaded.
    let plugins = helm.home.path().join("data/plugins");
    let nested = plugins.join("helm-regcred.git/plugins/regcred-postrender");
    let out = plugin_install(&helm, &nested, &[], &[]);
    assert!(out.status.success(), "{}", both(&out));
    assert_post_renderer_plugin_works(&helm);
}

/// A release whose archive does not match its SHA256SUMS is never used: the hook falls back to
/// helm-regcred on PATH, and with nothing else to fall back to fails and leaves no plugin.
fn tampered_release_is_refused(helm: Helm, args: &[&str]) {
    let release = release();
    let tampered = tempfile::tempdir().unwrap();
    let archive = release.archive.file_name().unwrap().to_str().unwrap();
    std::fs::copy(&release.archive, tampered.path().join(archive)).unwrap();
    std::fs::write(
        tampered.path().join("SHA256SUMS"),
        format!("{}  {archive}\n", "0".repeat(64)),
    )
    .unwrap();
    let server = serve(tampered.path());
    let url = ("HELM_REGCRED_RELEASE_URL", server.url.as_str());

    let out = plugin_install(&helm, &release.git, args, &[url]);
    let said = both(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("SHA256 MISMATCH"), "{said}");
    assert!(said.contains("removed the half-installed plugin"), "{said}");
    assert!(names(&helm).is_empty(), "nothing half-installed");

    // With a helm-regcred on PATH the same install succeeds, and says what it used.
    let path_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&release.binary, path_dir.path().join("helm-regcred")).unwrap();
    let mut cmd = helm.cmd();
    let path = format!("{}:{NO_CARGO_PATH}", path_dir.path().display());
    cmd.env("PATH", &path)
        .env(url.0, url.1)
        .args(["plugin", "install"]);
    let out = cmd
        .arg(format!("file://{}", release.git.display()))
        .args(args)
        .output()
        .unwrap();
    let said = both(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("SHA256 MISMATCH"), "{said}");
    assert!(said.contains("using helm-regcred on PATH"), "{said}");
    assert_eq!(names(&helm), ["regcred"]);
}

#[test]
fn helm3_tampered_release_is_refused() {
    tampered_release_is_refused(Helm::v3(), &[]);
}

#[test]
fn helm4_tampered_release_is_refused() {
    tampered_release_is_refused(Helm::v4(), &["--verify=false"]);
}

/// No network at all: the extracted archive installs with its own binary (Helm 3: the CLI
/// plugin; Helm 4 through the archive's scripts/install-plugin: both plugins).
#[test]
fn helm3_installs_from_the_extracted_archive() {
    let release = release();
    let helm = Helm::v3();
    let offline = ("HELM_REGCRED_RELEASE_URL", "http://127.0.0.1:9/unreachable");
    let out = plugin_install(&helm, &release.extracted, &[], &[offline]);
    let said = both(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("using the binary already in"), "{said}");
    assert_eq!(names(&helm), ["regcred"]);
    assert_helm_regcred_works(&helm);
    // `helm regcred --help` in Helm's terms, from the installed plugin.
    let out = helm.cmd().args(["regcred", "--help"]).output().unwrap();
    let (stdout, _) = ok(&out);
    assert!(stdout.contains("Usage: helm regcred install|upgrade|template RELEASE CHART"));
    for machine in ["post-render", "krm", "kustomize"] {
        assert!(!stdout.contains(&format!("\n  {machine} ")), "{stdout}");
    }
}

#[test]
fn helm4_installs_both_plugins_from_the_extracted_archive() {
    let release = release();
    let helm = Helm::v4();
    let mut cmd = Command::new(release.extracted.join("scripts/install-plugin"));
    helm.isolate(&mut cmd);
    without_cargo(&mut cmd, NO_CARGO_PATH);
    let out = cmd
        .env("HELM_BIN", &helm.bin)
        .env("HELM_REGCRED_RELEASE_URL", "http://127.0.0.1:9/unreachable")
        .output()
        .unwrap();
    let said = both(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("using the binary already in"), "{said}");
    let mut installed = names(&helm);
    installed.sort();
    assert_eq!(installed, ["regcred", "regcred-postrender"]);
    assert_helm_regcred_works(&helm);
    assert_post_renderer_plugin_works(&helm);

    let out = helm.cmd().args(["regcred", "--help"]).output().unwrap();
    let (stdout, _) = ok(&out);
    assert!(stdout.contains("Usage: helm regcred install|upgrade|template RELEASE CHART"));

    // The same by hand, as docs/install.md shows it.
    let helm = Helm::v4();
    for dir in [
        release.extracted.clone(),
        release.extracted.join("plugins/regcred-postrender"),
    ] {
        let out = plugin_install(&helm, &dir, &[], &[]);
        assert!(out.status.success(), "{}", both(&out));
    }
    assert_helm_regcred_works(&helm);
    assert_post_renderer_plugin_works(&helm);
}

/// The signed Helm 4 packages install with verification on (Helm 4's default), and a package
/// that does not match its provenance file is refused.
#[test]
fn helm4_signed_packages_install_with_verification() {
    let release = release();
    let helm = Helm::v4();
    let keyring = release.pubring.to_str().unwrap();
    for plugin in ["regcred", "regcred-postrender"] {
        let package = release
            .extracted
            .join(format!("helm4/{plugin}-{VERSION}.tgz"));
        let out = plugin_install(&helm, &package, &["--keyring", keyring], &[]);
        let said = both(&out);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("Plugin Hash Verified"), "{said}");
        assert!(said.contains("release-test@helm-regcred.invalid"), "{said}");
    }
    let list = helm.plugin_list();
    assert_eq!(list.matches("signed").count(), 2, "{list}");
    assert_helm_regcred_works(&helm);
    assert_post_renderer_plugin_works(&helm);

    let other = Helm::v4();
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join(format!("regcred-{VERSION}.tgz"));
    let mut bytes = std::fs::read(
        release
            .extracted
            .join(format!("helm4/regcred-{VERSION}.tgz")),
    )
    .unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&package, bytes).unwrap();
    std::fs::copy(
        release
            .extracted
            .join(format!("helm4/regcred-{VERSION}.tgz.prov")),
        dir.path().join(format!("regcred-{VERSION}.tgz.prov")),
    )
    .unwrap();
    let out = plugin_install(&other, &package, &["--keyring", keyring], &[]);
    assert!(!out.status.success(), "{}", both(&out));
    assert!(names(&other).is_empty());
}

/// `scripts/install-plugin --bin PATH` and a binary already found never run cargo (here a cargo
/// that would leave a mark).
#[test]
fn install_plugin_never_builds_when_a_binary_is_given_or_found() {
    let release = release();
    let checkout = tempfile::tempdir().unwrap();
    let copy = git_repository(&checkout.path().join("helm-regcred"));
    let fake = tempfile::tempdir().unwrap();
    let mark = fake.path().join("cargo-ran");
    write_executable(
        &fake.path().join("cargo"),
        &format!("#!/bin/sh\ntouch '{}'\nexit 1\n", mark.display()),
    );
    // build-release asks rustc for the host first.
    write_executable(
        &fake.path().join("rustc"),
        "#!/bin/sh\necho 'host: x86_64-unknown-linux-gnu'\n",
    );
    let path = format!("{}:{NO_CARGO_PATH}", fake.path().display());
    let helm = Helm::v3();
    let install = |args: &[&str], path: &str| {
        let mut cmd = Command::new(copy.join("scripts/install-plugin"));
        helm.isolate(&mut cmd);
        without_cargo(&mut cmd, path);
        cmd.args(args)
            .env("HELM_BIN", &helm.bin)
            .env("HELM_REGCRED_RELEASE_URL", "off")
            .output()
            .unwrap()
    };

    let out = install(&["--bin", release.binary.to_str().unwrap()], &path);
    let said = both(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("using the given binary"), "{said}");
    assert!(copy.join("bin/helm-regcred").is_file());
    // Again, without --bin: the binary in bin/ is found.
    let out = install(&[], &path);
    let said = both(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("using the binary already in"), "{said}");
    assert!(!mark.exists(), "cargo ran");
    assert_helm_regcred_works(&helm);

    // No binary in bin/, none to download: helm-regcred on PATH, still no cargo.
    std::fs::remove_file(copy.join("bin/helm-regcred")).unwrap();
    std::os::unix::fs::symlink(&release.binary, fake.path().join("helm-regcred")).unwrap();
    let out = install(&["--uninstall"], &path);
    assert!(out.status.success(), "{}", both(&out));
    let out = install(&[], &path);
    let said = both(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("using helm-regcred on PATH"), "{said}");
    assert!(!mark.exists(), "cargo ran");

    // Nothing at all: the fake cargo is the last resort, and its failure is reported.
    std::fs::remove_file(fake.path().join("helm-regcred")).unwrap();
    install(&["--uninstall"], &path);
    let out = install(&[], &path);
    assert!(!out.status.success());
    assert!(mark.exists(), "cargo is the last resort");
}

/// Both workflows pass actionlint (which also knows the runner labels and action versions), and
/// they run what they say: CI `.ci/run`, the release `scripts/release` on all four platforms.
#[test]
fn workflows_pass_actionlint() {
    let actionlint = tool(
        "ACTIONLINT_BIN",
        "/root/.cache/helm-regcred/tools/actionlint/bin/actionlint",
    );
    let workflows = repo().join(".github/workflows");
    let out = Command::new(&actionlint)
        .current_dir(repo())
        .args(["-no-color", "-oneline"])
        .arg(workflows.join("ci.yml"))
        .arg(workflows.join("release.yml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));

    // The linter does find mistakes (an untrusted expression in a script, an unknown runner).
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "on: issues\njobs:\n  a:\n    runs-on: ubuntu-oldest\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n",
    )
    .unwrap();
    let out = Command::new(&actionlint)
        .args(["-no-color", "-oneline"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = both(&out);
    assert!(said.contains("potentially untrusted"), "{said}");
    assert!(said.contains("ubuntu-oldest"), "{said}");

    let ci = std::fs::read_to_string(workflows.join("ci.yml")).unwrap();
    assert!(ci.contains("run: .ci/run"), "{ci}");
    let release = std::fs::read_to_string(workflows.join("release.yml")).unwrap();
    for platform in [
        "linux-x86_64",
        "linux-aarch64",
        "darwin-x86_64",
        "darwin-aarch64",
    ] {
        assert!(
            release.contains(&format!("platform: {platform}")),
            "{platform}"
        );
    }
    assert!(release.contains("scripts/release --out dist"));
    assert!(release.contains("sha256sum --check --strict SHA256SUMS"));
}

/// `cargo package` holds what a crate needs and nothing of the repository's tests, examples or
/// tooling, and `cargo install` of exactly that package gives a working binary. (A debug build in
/// a target dir of its own, kept between runs: the test build's dir is locked by `cargo test`.)
#[test]
fn cargo_package_is_clean_and_installs() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cargo-package");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = run(Command::new(&cargo)
        .current_dir(repo())
        .args([
            "package",
            "--allow-dirty",
            "--no-verify",
            "--offline",
            "--target-dir",
        ])
        .arg(&target));
    let listing = run(Command::new(&cargo)
        .current_dir(repo())
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "--target-dir",
        ])
        .arg(&target));
    let files = text(&listing.stdout);
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "LICENSE",
        "README.md",
        "src/main.rs",
        "src/lib.rs",
    ] {
        assert!(
            files.lines().any(|l| l == needed),
            "{needed} missing:\n{files}"
        );
    }
    for line in files.lines() {
        assert!(
            line.starts_with("src/") || !line.contains('/'),
            "{line} does not belong in the crate:\n{files}"
        );
    }
    // No warnings about missing metadata (description, license, repository, ...); that the
    // integration tests stay out (they need the repository's charts, scripts and tools) is meant.
    let said = both(&out);
    for line in said.lines().filter(|l| l.contains("warning")) {
        assert!(
            line.starts_with("warning: ignoring test `")
                && line.ends_with("is not included in the published package"),
            "{said}"
        );
    }

    let crate_file = target.join(format!("package/helm-regcred-{VERSION}.crate"));
    let unpacked = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&crate_file)
        .arg("-C")
        .arg(unpacked.path()));
    let root = tempfile::tempdir().unwrap();
    run(Command::new(&cargo)
        .args(["install", "--debug", "--locked", "--offline", "--path"])
        .arg(unpacked.path().join(format!("helm-regcred-{VERSION}")))
        .arg("--root")
        .arg(root.path())
        .arg("--target-dir")
        .arg(target.join("install")));
    let version = run(Command::new(root.path().join("bin/helm-regcred")).arg("--version"));
    assert_eq!(
        text(&version.stdout).trim(),
        format!("helm-regcred {VERSION}")
    );
}

/// scripts/release refuses to package a binary that is not this version's helm-regcred.
#[test]
fn release_refuses_a_binary_of_another_version() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("helm-regcred");
    write_executable(&fake, "#!/bin/sh\necho 'helm-regcred 0.0.0-other'\n");
    let out = Command::new(repo().join("scripts/release"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--bin")
        .arg(&fake)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        both(&out).contains(&format!("expected 'helm-regcred {VERSION}'")),
        "{}",
        both(&out)
    );
    assert!(!dir.path().join("out").exists(), "nothing written");
}
