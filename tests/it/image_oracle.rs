//! Differential test: [`ImageRef::parse`], a hand-written scanner, against
//! `oci_spec::distribution::Reference`, a regex port of Docker's reference grammar.
//!
//! Every image in the corpus, a hand list of tricky references and a few thousand generated
//! strings go through both. They must agree on accept/reject and, when both accept, on
//! registry, repository, tag and digest — except where `oci-spec` departs from Docker
//! (`github.com/distribution/reference` + `go-digest`, what kubelet and containerd run), which
//! `ImageRef` follows instead. Those known, intended divergences are each checked for the exact
//! behaviour `ImageRef` has instead:
//!
//! * a 64-character lowercase hex string is an image ID to Docker, not a repository name;
//! * a first component with uppercase is a host to Docker (`MyRegistry/app`), where the port
//!   leaves it in an (invalid, uppercase) Docker Hub repository path;
//! * go-digest wants lowercase hex; the port takes any case;
//! * Go's `\w` in tags is ASCII; the port's is Unicode;
//! * Docker allows bracketed IPv6 hosts (`[::1]:5000/app`); the port has no IPv6 at all;
//! * the 255-character limit applies to the normalized `host/path` here (Docker before
//!   distribution/reference v0.6.0), to the path only in the port;
//! * Docker Hub aliases Docker itself does not fold (`registry-1.docker.io/nginx`) still get
//!   the `library/` prefix here, so that `full()` has one Docker Hub shape.

use std::collections::BTreeSet;
use std::path::Path;

use helm_regcred::registry::image::{ImageError, ImageRef, InvalidReason, normalize_registry_host};
use oci_spec::distribution::Reference;

const HEX64: &str = "e5a1ed5b1b8c7a0f1c3f2b9e1d1b9a0f8c7e6d5c4b3a29180716f5e4d3c2b1a0";

/// Compares the two parsers on one reference; returns whether both accepted it.
fn check(written: &str) -> bool {
    let ours = ImageRef::parse(written);
    let oracle = Reference::try_from(written);
    let invalid = |reason| {
        Err(ImageError::Invalid {
            written: written.to_owned(),
            reason,
        })
    };

    let oracle = match oracle {
        Err(oracle_err) => {
            assert!(
                ours.is_err(),
                "{written:?}: oci-spec rejects it ({oracle_err}), ImageRef accepts {ours:?}"
            );
            return false;
        }
        Ok(oracle) => oracle,
    };

    // Divergence: a bare 64-hex string is an image ID.
    if written.len() == 64
        && written
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        assert_eq!(
            ours,
            Err(ImageError::HexIdentifier {
                written: written.to_owned()
            }),
            "{written:?}"
        );
        return false;
    }
    // Divergence: ASCII `\w` in tags.
    if oracle.tag().is_some_and(|tag| !tag.is_ascii()) {
        assert_eq!(ours, invalid(InvalidReason::Tag), "{written:?}");
        return false;
    }
    // Divergence: go-digest's lowercase hex.
    // (oci-spec only accepts the lowercase algorithm names, so any uppercase is in the hex.)
    if oracle
        .digest()
        .is_some_and(|digest| digest.bytes().any(|b| b.is_ascii_uppercase()))
    {
        assert_eq!(ours, invalid(InvalidReason::DigestFormat), "{written:?}");
        return false;
    }

    // Divergence: an uppercase first component is the host, not part of a Docker Hub path.
    let (want_host, want_repository) = match oracle.repository().split_once('/') {
        Some((first, rest))
            if oracle.registry() == "docker.io"
                && first.bytes().any(|b| b.is_ascii_uppercase())
                && written.starts_with(&format!("{first}/")) =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => (oracle.registry().to_owned(), oracle.repository().to_owned()),
    };
    let name_len = want_host.len() + 1 + want_repository.len();
    let want_registry = normalize_registry_host(&want_host);
    // Divergence: `library/` under every Docker Hub alias.
    let want_repository = if want_registry == "docker.io" && !want_repository.contains('/') {
        format!("library/{want_repository}")
    } else {
        want_repository
    };

    let ours = match ours {
        // Divergence: the length limit counts the host.
        Err(ImageError::NameTooLong { len, .. }) => {
            assert_eq!(len, name_len, "{written:?}");
            assert!(len > 255, "{written:?}");
            return false;
        }
        Err(err) => panic!("{written:?}: oci-spec accepts it as {oracle}, ImageRef: {err}"),
        Ok(ours) => ours,
    };
    assert_eq!(ours.runtime_host(), want_host, "{written:?}");
    assert_eq!(ours.registry(), want_registry, "{written:?}");
    assert_eq!(ours.repository(), want_repository, "{written:?}");
    assert_eq!(ours.tag(), oracle.tag(), "{written:?}");
    assert_eq!(ours.digest(), oracle.digest(), "{written:?}");
    true
}

/// Every `image:` scalar in the files under `dir` (charts, values, rendered output); Helm
/// templates are not references and are left out.
fn images_in(dir: &Path) -> BTreeSet<String> {
    fn walk(dir: &Path, images: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, images);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for line in text.lines() {
                let line = line.trim_start();
                let line = line.strip_prefix("- ").unwrap_or(line).trim_start();
                let Some(value) = line.strip_prefix("image:") else {
                    continue;
                };
                let value = value.trim();
                let value = match value.chars().next() {
                    Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or(""),
                    _ => value.split(" #").next().unwrap().trim_end(),
                };
                if !value.is_empty() && !value.contains("{{") && !value.starts_with('{') {
                    images.insert(value.to_owned());
                }
            }
        }
    }
    let mut images = BTreeSet::new();
    walk(dir, &mut images);
    images
}

#[test]
fn fixture_images_parse_as_oci_spec_parses_them() {
    // The fixture charts' values and the hand-written streams spell images the ways real charts
    // do: Docker Hub short names, ports, IPs, digests with and without tags, ECR, GHCR, ...
    let images = images_in(&crate::util::fixtures_dir());
    let mut accepted = 0;
    for image in &images {
        accepted += usize::from(check(image));
    }
    assert!(
        images.len() >= 25,
        "only {} distinct fixture images found: {images:?}",
        images.len()
    );
    assert_eq!(accepted, images.len(), "{images:?}");
}

#[test]
fn corpus_images_parse_as_oci_spec_parses_them() {
    let Some(corpus) = crate::util::corpus() else {
        return;
    };
    let images = images_in(&corpus);
    let mut accepted = 0;
    for image in &images {
        accepted += usize::from(check(image));
    }
    assert!(
        images.len() >= 50,
        "only {} distinct corpus images found: {images:?}",
        images.len()
    );
    // The corpus is real charts: every image in it is a valid reference.
    assert_eq!(accepted, images.len(), "{images:?}");
}

#[test]
fn tricky_references_parse_as_oci_spec_parses_them() {
    let digest = format!("sha256:{HEX64}");
    let mut references: Vec<String> = [
        // Docker Hub spellings.
        "nginx",
        "nginx:1.25",
        "library/nginx",
        "cloudforet/console",
        "docker.io/nginx",
        "docker.io/library/nginx:1",
        "index.docker.io/nginx",
        "index.docker.io/library/nginx:1",
        "registry-1.docker.io/nginx",
        "registry.hub.docker.com/library/nginx",
        "Index.Docker.IO/nginx",
        "docker.io",
        // Hosts and ports.
        "localhost",
        "localhost/app",
        "localhost:5000/app:1",
        "LOCALHOST/app",
        "test.com:5000",
        "test.com:tag",
        "test.com:5000/app",
        "test:5000/repo",
        "csmssim01:80/team/app:1",
        "10.0.0.1:5000/team/app",
        "127.0.0.1/app",
        "MyRegistry/app:1",
        "MY-REGISTRY/team/app",
        "Registry.Example.COM:5000/team/app",
        "xn--n3h.com/myimage:xn--n3h.com",
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "foo_bar.com:8080",
        "foo/foo_bar.com:8080",
        "a_b.c/app",
        "registry:/app",
        "registry:50a/app",
        "registry:5000:6000/app",
        "-registry.com/app",
        "registry-.com/app",
        "registry..com/app",
        ".registry.com/app",
        "registry_x.com:5000/app",
        "Foo_Bar/app",
        "http://quay.io/app",
        "quay.io//app",
        // Path components.
        "a__b",
        "a___b",
        "a---b",
        "a.b",
        "a..b",
        "a._b",
        "a-.b",
        "a-",
        "_a",
        "a/b.c/d-e__f",
        "a/-b",
        "Nginx",
        "docker.io/Library/nginx",
        "quay.io/org/App:1",
        "foo/Bar",
        "nginx/",
        "/nginx",
        "a//b",
        "ngi nx",
        " nginx",
        "nginx ",
        "nginx\n",
        "é/app",
        "app/é",
        "",
        // Tags.
        "nginx:",
        ":tag",
        "nginx:tag:tag",
        "nginx:Latest",
        "nginx:_tag",
        "nginx:.tag",
        "nginx:-tag",
        "nginx:ta+g",
        "nginx:tagé",
        "nginx:٣",
        "nginx:v1/app",
        "opensuse/leap:15.3",
        // Digests.
        "nginx@",
        "nginx@sha256:short",
        "nginx@sha256:abcd",
        "nginx@md5:d41d8cd98f00b204e9800998ecf8427e",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    references.extend([
        HEX64.to_owned(),
        HEX64.to_uppercase(),
        format!("{}g", &HEX64[..63]),
        digest.clone(),
        format!("nginx@{digest}"),
        format!("nginx:1.25@{digest}"),
        format!("test:5000/repo:tag@{digest}"),
        format!("nginx:@{digest}"),
        format!("@{digest}"),
        format!("nginx@{digest}@{digest}"),
        format!("nginx@{digest}:tag"),
        format!("nginx@sha256:{}", HEX64.to_uppercase()),
        format!("nginx@SHA256:{HEX64}"),
        format!("nginx@sha256+b64:{HEX64}"),
        format!("nginx@sha256:{}", &HEX64[..63]),
        format!("nginx@sha256:{HEX64}0"),
        format!("nginx@sha256:{}", &HEX64[..31]),
        format!("nginx@sha256:{}", &HEX64[..32]),
        format!("nginx@sha384:{HEX64}{}", &HEX64[..32]),
        format!("nginx@sha512:{HEX64}{HEX64}"),
        format!("nginx@sha384:{HEX64}"),
        format!("nginx@1sha:{HEX64}"),
        format!("nginx@{HEX64}"),
        // Tag lengths.
        format!("nginx:{}", "t".repeat(128)),
        format!("nginx:{}", "t".repeat(129)),
        // Name lengths, around both limits.
        format!("example.com/{}", "a".repeat(243)),
        format!("example.com/{}", "a".repeat(244)),
        format!("example.com/{}", "a".repeat(255)),
        format!("example.com/{}", "a".repeat(256)),
        format!("{}/app", "a".repeat(250)),
        "a".repeat(246),
        "a".repeat(247),
    ]);
    let accepted = references.iter().filter(|r| check(r)).count();
    assert!(accepted >= 40, "only {accepted} accepted by both");
}

/// Docker's bracketed IPv6 hosts: accepted here, rejected by oci-spec, which has no IPv6.
#[test]
fn ipv6_hosts_are_a_known_divergence() {
    for (written, host, repository) in [
        ("[::1]:5000/app:1", "[::1]:5000", "app"),
        ("[::1]/app", "[::1]", "app"),
        ("[2001:db8::1]/team/app", "[2001:db8::1]", "team/app"),
        ("[2001:DB8::1]:443/app", "[2001:DB8::1]:443", "app"),
    ] {
        assert!(Reference::try_from(written).is_err(), "{written}");
        let ours = ImageRef::parse(written).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(ours.runtime_host(), host);
        assert_eq!(ours.repository(), repository);
        // The rest of the reference parses as it does under an ordinary host.
        let (_, rest) = written.split_once(']').unwrap();
        check(&format!("ipv6.example{rest}"));
    }
    for written in [
        "[::1",
        "[]/app",
        "[::g]/app",
        "[::1%eth0]/app",
        "[::1]x/app",
        "[::1]",
    ] {
        assert!(Reference::try_from(written).is_err(), "{written}");
        assert!(ImageRef::parse(written).is_err(), "{written}");
    }
}

/// Strings built from the grammar's tricky pieces: thousands of near-misses neither list has.
#[test]
fn generated_references_parse_as_oci_spec_parses_them() {
    const PIECES: &[&str] = &[
        "a",
        "b",
        "z9",
        "0",
        "Ab",
        "X",
        "-",
        "--",
        "_",
        "__",
        ".",
        "..",
        "/",
        "/",
        ":",
        ":",
        "5000",
        "@",
        "sha256:",
        HEX64,
        "sha512:",
        "localhost",
        "docker.io",
        "index.docker.io",
        "é",
        " ",
        "+",
        "latest",
        "v1.2",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: deterministic, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut seen = BTreeSet::new();
    for _ in 0..20_000 {
        let len = 1 + next() % 8;
        let written: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        seen.insert(written);
    }
    let accepted = seen.iter().filter(|written| check(written)).count();
    assert!(
        accepted >= 500,
        "only {accepted} of {} accepted",
        seen.len()
    );
}
