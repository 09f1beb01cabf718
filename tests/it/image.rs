//! The container image (Containerfile, scripts/image), built with the real buildah into a
//! storage of its own. Containers cannot run on these machines (crun is refused setrlimit), so
//! what is checked is everything short of running it: the image's config (entrypoint, command,
//! user, OCI labels, platform) and that its only file is the binary, byte for byte; and the Argo
//! CD init container's command run with the same binary outside a container.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::helm::{repo, text};
use crate::util::{bin, tool};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob(layout: &Path, digest: &str) -> std::path::PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

/// The ENTRYPOINT the Containerfile declares.
fn containerfile_entrypoint() -> String {
    let file = std::fs::read_to_string(repo().join("Containerfile")).unwrap();
    let line = file
        .lines()
        .find(|l| l.starts_with("ENTRYPOINT "))
        .expect("an ENTRYPOINT");
    let list: Vec<String> = serde_json::from_str(line.trim_start_matches("ENTRYPOINT ")).unwrap();
    assert_eq!(list.len(), 1, "{line}");
    list[0].clone()
}

#[test]
fn container_image_holds_only_the_binary_as_its_entrypoint() {
    tool("BUILDAH_BIN", "/usr/bin/buildah");
    let binary = &crate::release::release().binary;
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("image.tar");
    let out = Command::new(repo().join("scripts/image"))
        .arg("--bin")
        .arg(binary)
        .args(["--tag", "localhost/helm-regcred:test", "--storage"])
        .arg(work.path().join("storage"))
        .arg("--oci-archive")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_string();
    assert_eq!(id.len(), 64, "an image ID: {id}");

    let layout = work.path().join("layout");
    std::fs::create_dir_all(&layout).unwrap();
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&layout)
        .status()
        .unwrap();
    assert!(untar.success());
    let index = json(&layout.join("index.json"));
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1, "{index}");
    let manifest = json(&blob(&layout, manifests[0]["digest"].as_str().unwrap()));
    let config = json(&blob(
        &layout,
        manifest["config"]["digest"].as_str().unwrap(),
    ));
    assert_eq!(
        manifest["config"]["digest"].as_str().unwrap(),
        format!("sha256:{id}")
    );

    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(config["os"], "linux");
    assert_eq!(config["architecture"], arch);
    let run = &config["config"];
    assert_eq!(
        run["Entrypoint"],
        serde_json::json!([containerfile_entrypoint()])
    );
    assert_eq!(
        run["Entrypoint"],
        serde_json::json!(["/usr/local/bin/helm-regcred"])
    );
    // kpt runs a function image without arguments: the KRM function.
    assert_eq!(run["Cmd"], serde_json::json!(["krm"]));
    assert_eq!(run["User"], "65532:65532", "not root");
    let labels = &run["Labels"];
    assert_eq!(labels["org.opencontainers.image.title"], "helm-regcred");
    assert_eq!(labels["org.opencontainers.image.version"], VERSION);
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    assert!(
        labels["org.opencontainers.image.source"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let revision = text(
        &Command::new("git")
            .current_dir(repo())
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(labels["org.opencontainers.image.revision"], revision.trim());

    // FROM scratch: one layer, and in it nothing but the binary.
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    let rootfs = work.path().join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(blob(&layout, layers[0]["digest"].as_str().unwrap()))
        .arg("-C")
        .arg(&rootfs)
        .status()
        .unwrap();
    assert!(untar.success());
    let listing = Command::new("find")
        .arg(".")
        .args(["-type", "f"])
        .current_dir(&rootfs)
        .output()
        .unwrap();
    assert_eq!(text(&listing.stdout), "./usr/local/bin/helm-regcred\n");
    let inside = rootfs.join("usr/local/bin/helm-regcred");
    assert!(
        std::fs::read(&inside).unwrap() == std::fs::read(binary).unwrap(),
        "not the binary given"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&inside).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o755);
    // The debug test build is dynamically linked, which scripts/image says (release images get
    // the static build).
    assert!(
        text(&out.stderr).contains("dynamically linked"),
        "{}",
        text(&out.stderr)
    );
}

/// The Argo CD sidecar's init container: the release image, and its command (run here with the
/// same binary, its paths moved into a temp dir) leaves a working binary and Kustomize plugin.
#[test]
fn argocd_init_container_installs_the_binary_and_kustomize_plugin() {
    let patch =
        std::fs::read_to_string(repo().join("examples/argocd/repo-server-patch.yaml")).unwrap();
    let patch: Value = serde_saphyr::from_str(&patch).unwrap();
    let init = &patch["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(init["name"], "helm-regcred-install");
    assert_eq!(
        init["image"],
        format!("ghcr.io/helm-regcred/helm-regcred:{VERSION}"),
        "the release image, at this version"
    );
    let command: Vec<String> = serde_json::from_value(init["command"].clone()).unwrap();
    assert_eq!(command[0], containerfile_entrypoint());
    assert!(init.get("args").is_none(), "{init}");
    let volume = init["volumeMounts"][0]["mountPath"].as_str().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let moved = |arg: &String| arg.replacen(volume, dir.path().to_str().unwrap(), 1);
    let out = Command::new(bin())
        .args(command[1..].iter().map(moved))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let copied = dir.path().join("helm-regcred");
    assert!(std::fs::read(&copied).unwrap() == std::fs::read(bin()).unwrap());

    // The sidecar's KUSTOMIZE_PLUGIN_HOME, moved the same way, is where the plugin went; the
    // real kustomize runs it on the kustomize example.
    let sidecar = &patch["spec"]["template"]["spec"]["containers"][0];
    let home = sidecar["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "KUSTOMIZE_PLUGIN_HOME")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    let home = moved(&home);
    let built =
        crate::kustomize::kustomize_ok(&repo().join("examples/kustomize"), Some(Path::new(&home)));
    assert!(built.contains("name: shop-pull"), "{built}");
}
