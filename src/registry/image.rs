//! Container image references, resolved the way the container runtime resolves them.
//!
//! The grammar is Docker's, from `github.com/distribution/reference` (`regexp.go`,
//! `reference.go`, `normalize.go`'s `ParseNormalizedNamed`, which kubelet and containerd use),
//! plus the digest rules of `github.com/opencontainers/go-digest`. It is checked here by a small
//! hand-written scanner rather than a regular expression: the regex-based parser this module used
//! to delegate to (`oci_spec::distribution::Reference`) compiles a large Unicode regex on first
//! use, measured at ~115 ms — more than the whole post-render of the largest corpus chart, paid
//! on every `helm install`. The scanner costs microseconds from the first call.
//!
//! `oci-spec` remains a dev-dependency: `tests/it/image_oracle.rs` runs every corpus image and a
//! list of tricky references through both parsers and requires them to agree, except where
//! `oci-spec` itself departs from Docker (see that test for the list). Where Docker and the port
//! differ, this module follows Docker, so that an image the runtime would pull from host X is
//! never attributed to host Y here.

use thiserror::Error;

/// Docker's limit on the length of a normalized name (`domain/path`, without tag or digest).
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// `tag := [\w][\w.-]{0,127}`.
const TAG_LENGTH_MAX: usize = 128;

/// Docker's grammar accepts no shorter hex part, whatever the algorithm.
const DIGEST_HEX_MIN: usize = 32;

const DOCKER_HUB: &str = "docker.io";

/// The one Docker Hub alias Docker itself folds into `docker.io`.
const DOCKER_HUB_LEGACY: &str = "index.docker.io";

const DOCKER_HUB_OFFICIAL_PREFIX: &str = "library/";

const DEFAULT_TAG: &str = "latest";

/// Host names that all reach Docker Hub. `docker.io` is how Docker prints them, so it is the one
/// spelling this crate compares and reports.
const DOCKER_HUB_ALIASES: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// Why an image reference was rejected.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("image reference is empty")]
    Empty,
    /// Kubelet does not trim either, so a padded reference would fail to pull.
    #[error("image reference {written:?} has leading or trailing whitespace")]
    Whitespace { written: String },
    /// Docker refuses these because they are indistinguishable from a local image ID.
    #[error("image reference {written:?} is a 64-character hex image ID, not a repository name")]
    HexIdentifier { written: String },
    #[error("image reference {written:?} is invalid: {reason}")]
    Invalid {
        written: String,
        reason: InvalidReason,
    },
    #[error(
        "image reference {written:?} is invalid: name is {len} characters long \
         once normalized, more than {NAME_TOTAL_LENGTH_MAX}"
    )]
    NameTooLong { written: String, len: usize },
}

/// Which part of a reference breaks Docker's grammar.
///
/// Docker reports every grammar failure as "invalid reference format"; the scanner knows which
/// part failed, so it says so. The digest reasons are go-digest's.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum InvalidReason {
    /// No repository name at all (`:tag`, `@sha256:…`).
    #[error("invalid reference format")]
    Format,
    /// The repository path has uppercase letters; Docker only allows them in the host.
    #[error("repository name must be lowercase")]
    Uppercase,
    /// The first component was taken as a registry host, and is not a valid `host[:port]`.
    #[error("invalid registry host")]
    Host,
    /// A repository path component is empty or not `[a-z0-9]+` joined by `.`, `_`, `__` or `-`s.
    #[error("invalid repository path")]
    Path,
    /// Not `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    #[error("invalid tag")]
    Tag,
    /// Not `algorithm:hex` with at least 32 hex digits, or (go-digest) hex not lowercase.
    #[error("invalid digest format")]
    DigestFormat,
    /// A known algorithm with the wrong number of hex digits (`sha256` needs 64).
    #[error("invalid digest length")]
    DigestLength,
    /// Well formed, but not `sha256`, `sha384` or `sha512`.
    #[error("unsupported digest algorithm")]
    DigestAlgorithm,
}

/// An image reference from a manifest, with its fully qualified form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    written: String,
    /// The registry host exactly as Docker normalization leaves it (case kept, no aliasing).
    runtime_host: String,
    /// The path Docker's `Named.Name()` has after the host: `library/` only on `docker.io`.
    runtime_path: String,
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    full: String,
}

impl ImageRef {
    /// Parses an image reference as written in a pod spec.
    pub fn parse(written: &str) -> Result<ImageRef, ImageError> {
        if written.is_empty() {
            return Err(ImageError::Empty);
        }
        if written.trim() != written {
            return Err(ImageError::Whitespace {
                written: written.to_owned(),
            });
        }
        if written.len() == 64 && written.bytes().all(is_lower_hex) {
            return Err(ImageError::HexIdentifier {
                written: written.to_owned(),
            });
        }
        let reference = Reference::scan(written).map_err(|reason| ImageError::Invalid {
            written: written.to_owned(),
            reason,
        })?;

        let (runtime_host, repository) = split_docker_domain(reference.name);
        let name_len = runtime_host.len() + 1 + repository.len();
        if name_len > NAME_TOTAL_LENGTH_MAX {
            return Err(ImageError::NameTooLong {
                written: written.to_owned(),
                len: name_len,
            });
        }

        let registry = normalize_host(runtime_host);
        let runtime_path = repository.clone();
        // Only reachable through a differently spelled Docker Hub alias (`Index.Docker.IO/x`,
        // `registry-1.docker.io/x`): keep `full()` in the one canonical Docker Hub shape.
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("{DOCKER_HUB_OFFICIAL_PREFIX}{repository}")
        } else {
            repository
        };

        let tag = match (reference.tag, reference.digest) {
            (None, None) => Some(DEFAULT_TAG),
            (tag, _) => tag,
        };
        let tag = tag.map(str::to_owned);
        let digest = reference.digest.map(str::to_owned);
        let mut full = format!("{registry}/{repository}");
        if let Some(tag) = &tag {
            full.push(':');
            full.push_str(tag);
        }
        if let Some(digest) = &digest {
            full.push('@');
            full.push_str(digest);
        }

        Ok(ImageRef {
            written: written.to_owned(),
            runtime_host: runtime_host.to_owned(),
            runtime_path,
            registry,
            repository,
            tag,
            digest,
            full,
        })
    }

    /// The reference exactly as it appears in the manifest.
    pub fn written(&self) -> &str {
        &self.written
    }

    /// The registry as `host[:port]`, lowercased, with every Docker Hub alias reported as
    /// `docker.io`; comparable with [`normalize_registry_host`] output.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The registry host as the runtime and kubelet see it: Docker-normalized
    /// (`index.docker.io` becomes `docker.io`) but otherwise as written, case included.
    ///
    /// Kubelet matches `.dockerconfigjson` `auths` keys against this spelling case-sensitively,
    /// so it is what a pull Secret's server key must match, where [`Self::registry`] is what
    /// rules are matched against.
    pub fn runtime_host(&self) -> &str {
        &self.runtime_host
    }

    /// The repository path as the runtime and kubelet see it: Docker-normalized, so
    /// `library/` is added on `docker.io` only (`registry-1.docker.io/nginx` keeps `nginx`).
    ///
    /// `runtime_host()/runtime_path()` is the name kubelet looks credentials up for
    /// (`ParseImageName` in `pkg/util/parsers`, then `Named.Name()`).
    pub fn runtime_path(&self) -> &str {
        &self.runtime_path
    }

    /// The repository path within the registry, e.g. `library/nginx`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag; `latest` when the reference had neither a tag nor a digest.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`algorithm:hex`), if the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The fully qualified reference: `registry()/repository[:tag][@digest]`,
    /// e.g. `docker.io/library/nginx:latest`.
    pub fn full(&self) -> &str {
        &self.full
    }
}

/// A reference that matches Docker's `ReferenceRegexp` and passes go-digest's validation:
/// `name [":" tag] ["@" digest]`, as written.
struct Reference<'a> {
    name: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

impl<'a> Reference<'a> {
    /// Splits and checks `written` against the grammar.
    ///
    /// The split needs no backtracking: neither a name nor a tag may contain `@`, so the first
    /// `@` starts the digest; a tag contains neither `:` nor `/`, and a name's only `:` (a port,
    /// or inside an IPv6 host) is always followed by a `/`, so a `:` after the last `/` starts
    /// the tag.
    fn scan(written: &'a str) -> Result<Reference<'a>, InvalidReason> {
        let (rest, digest) = match written.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (written, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(colon) if !rest[colon..].contains('/') => {
                (&rest[..colon], Some(&rest[colon + 1..]))
            }
            _ => (rest, None),
        };

        if name.is_empty() {
            return Err(InvalidReason::Format);
        }
        // `ParseNormalizedNamed` checks this before the grammar, with the host split off.
        let (_, remote) = split_docker_domain(name);
        if remote.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(InvalidReason::Uppercase);
        }
        check_name(name)?;
        if let Some(tag) = tag
            && !is_tag(tag)
        {
            return Err(InvalidReason::Tag);
        }
        if let Some(digest) = digest {
            check_digest(digest)?;
        }
        Ok(Reference { name, tag, digest })
    }
}

/// `name := [domain '/'] remote-name`, `remote-name := path-component ['/' path-component]*`.
///
/// The first component may be read either way, so the name is valid if all components are path
/// components, or if there are several and the first is a domain. Whether the first component
/// *is* the host is [`split_docker_domain`]'s business, not the grammar's.
fn check_name(name: &str) -> Result<(), InvalidReason> {
    let (first, rest) = match name.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    let rest_ok = rest.is_none_or(|rest| rest.split('/').all(is_path_component));
    if rest_ok && (is_path_component(first) || (rest.is_some() && is_domain(first))) {
        return Ok(());
    }
    // Blame the host only where Docker would have taken the first component for one.
    if rest.is_some() && looks_like_domain(first) && !is_domain(first) {
        Err(InvalidReason::Host)
    } else {
        Err(InvalidReason::Path)
    }
}

/// `path-component := [a-z0-9]+ (separator [a-z0-9]+)*`, `separator := [_.] | __ | [-]+`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let mut i = 0;
    loop {
        let run = bytes[i..]
            .iter()
            .take_while(|&&b| b.is_ascii_lowercase() || b.is_ascii_digit())
            .count();
        if run == 0 {
            return false;
        }
        i += run;
        match bytes.get(i) {
            None => return true,
            Some(b'.') => i += 1,
            Some(b'_') => {
                i += if bytes.get(i + 1) == Some(&b'_') {
                    2
                } else {
                    1
                }
            }
            Some(b'-') => i += bytes[i..].iter().take_while(|&&b| b == b'-').count(),
            Some(_) => return false,
        }
    }
}

/// `domain := host [':' port-number]`, where `host` is a dotted domain name (which covers IPv4)
/// or an IPv6 address in brackets, and `port-number := [0-9]+`.
fn is_domain(domain: &str) -> bool {
    let port = if let Some(bracketed) = domain.strip_prefix('[') {
        // `\[[a-fA-F0-9:]+\]`: no zone identifiers, no embedded IPv4.
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return false,
        }
    } else {
        let (host, port) = match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        };
        if !host.split('.').all(is_domain_component) {
            return false;
        }
        port
    };
    port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`
fn is_domain_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        }
        _ => false,
    }
}

/// `tag := [\w][\w.-]{0,127}`, with Go's ASCII-only `\w`.
fn is_tag(tag: &str) -> bool {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match tag.as_bytes().split_first() {
        Some((&first, rest)) => {
            tag.len() <= TAG_LENGTH_MAX
                && is_word(first)
                && rest.iter().all(|&b| is_word(b) || b == b'.' || b == b'-')
        }
        None => false,
    }
}

/// Docker's `digest := algorithm ':' hex` grammar, then go-digest's `Digest.Validate`.
fn check_digest(digest: &str) -> Result<(), InvalidReason> {
    // algorithm := [A-Za-z][A-Za-z0-9]* joined by [-_+.]; hex := [0-9a-fA-F]{32,}
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(InvalidReason::DigestFormat);
    };
    let is_algorithm_component = |component: &str| {
        component
            .as_bytes()
            .split_first()
            .is_some_and(|(first, rest)| {
                first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_alphanumeric)
            })
    };
    if !algorithm
        .split(['-', '_', '+', '.'])
        .all(is_algorithm_component)
        || hex.len() < DIGEST_HEX_MIN
        || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(InvalidReason::DigestFormat);
    }
    // go-digest knows these three, and wants exactly their length in lowercase hex.
    let want_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        // Unknown algorithms are unsupported if they are at least well formed for go-digest,
        // whose grammar has lowercase algorithm names only.
        _ if algorithm.bytes().any(|b| b.is_ascii_uppercase()) => {
            return Err(InvalidReason::DigestFormat);
        }
        _ => return Err(InvalidReason::DigestAlgorithm),
    };
    if hex.len() != want_len {
        Err(InvalidReason::DigestLength)
    } else if !hex.bytes().all(is_lower_hex) {
        Err(InvalidReason::DigestFormat)
    } else {
        Ok(())
    }
}

/// Whether Docker's `splitDockerDomain` takes this first component for a host.
fn looks_like_domain(first: &str) -> bool {
    first == "localhost"
        || first.contains(['.', ':'])
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

/// Docker's `splitDockerDomain`: the host the runtime pulls from, and the repository path.
///
/// The first component is a host only if it contains `.` or `:`, is `localhost`, or has
/// uppercase (which a repository path cannot); otherwise the image is on Docker Hub, where a
/// single-component path is an official image under `library/`. Only `index.docker.io` is
/// folded into `docker.io`; other aliases are left for [`normalize_host`].
fn split_docker_domain(name: &str) -> (&str, String) {
    let (host, remote) = match name.split_once('/') {
        Some((first, rest)) if looks_like_domain(first) => (
            if first == DOCKER_HUB_LEGACY {
                DOCKER_HUB
            } else {
                first
            },
            rest,
        ),
        _ => (DOCKER_HUB, name),
    };
    if host == DOCKER_HUB && !remote.contains('/') {
        (host, format!("{DOCKER_HUB_OFFICIAL_PREFIX}{remote}"))
    } else {
        (host, remote.to_owned())
    }
}

/// Normalizes a registry server as written in the rules file (or a docker config key) to the
/// form [`ImageRef::registry`] reports.
///
/// Strips an `http://` / `https://` scheme and any path (`https://index.docker.io/v1/` is how
/// `docker login` keys Docker Hub), lowercases the host because DNS names are case-insensitive,
/// and maps Docker Hub aliases to `docker.io`. Ports are kept: `localhost:5000` and `localhost`
/// are different registries to the runtime.
pub fn normalize_registry_host(server: &str) -> String {
    let without_scheme = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            server
                .get(..scheme.len())
                .filter(|prefix| prefix.eq_ignore_ascii_case(scheme))
                .map(|_| &server[scheme.len()..])
        })
        .unwrap_or(server);
    let host = without_scheme
        .split_once('/')
        .map_or(without_scheme, |(host, _)| host);
    normalize_host(host)
}

fn normalize_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        DOCKER_HUB.to_owned()
    } else {
        host
    }
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:e5a1ed5b1b8c7a0f1c3f2b9e1d1b9a0f8c7e6d5c4b3a29180716f5e4d3c2b1a0";

    fn full(written: &str) -> String {
        ImageRef::parse(written)
            .unwrap_or_else(|e| panic!("{written}: {e}"))
            .full()
            .to_owned()
    }

    fn registry(written: &str) -> String {
        ImageRef::parse(written).unwrap().registry().to_owned()
    }

    #[test]
    fn docker_hub_official_image() {
        let image = ImageRef::parse("nginx").unwrap();
        assert_eq!(image.written(), "nginx");
        assert_eq!(image.registry(), "docker.io");
        assert_eq!(image.runtime_host(), "docker.io");
        assert_eq!(image.repository(), "library/nginx");
        assert_eq!(image.tag(), Some("latest"));
        assert_eq!(image.digest(), None);
        assert_eq!(image.full(), "docker.io/library/nginx:latest");
        assert_eq!(full("nginx:1.14.2"), "docker.io/library/nginx:1.14.2");
    }

    #[test]
    fn docker_hub_user_image() {
        assert_eq!(
            full("cloudforet/console"),
            "docker.io/cloudforet/console:latest"
        );
        assert_eq!(registry("cloudforet/console"), "docker.io");
    }

    #[test]
    fn docker_hub_spellings() {
        for written in [
            "docker.io/nginx",
            "docker.io/library/nginx",
            "index.docker.io/nginx",
            "index.docker.io/library/nginx",
        ] {
            let image = ImageRef::parse(written).unwrap();
            assert_eq!(image.registry(), "docker.io", "{written}");
            assert_eq!(image.runtime_host(), "docker.io", "{written}");
            assert_eq!(image.full(), "docker.io/library/nginx:latest", "{written}");
        }
    }

    #[test]
    fn docker_hub_aliases_docker_itself_does_not_fold() {
        let image = ImageRef::parse("registry-1.docker.io/library/nginx:1").unwrap();
        assert_eq!(image.registry(), "docker.io");
        assert_eq!(image.runtime_host(), "registry-1.docker.io");
        assert_eq!(image.full(), "docker.io/library/nginx:1");

        let image = ImageRef::parse("Index.Docker.IO/nginx").unwrap();
        assert_eq!(image.registry(), "docker.io");
        assert_eq!(image.runtime_host(), "Index.Docker.IO");
        assert_eq!(image.full(), "docker.io/library/nginx:latest");
    }

    #[test]
    fn first_component_is_a_host_only_with_dot_colon_or_localhost() {
        assert_eq!(registry("quay.io/org/app"), "quay.io");
        assert_eq!(registry("localhost/app"), "localhost");
        assert_eq!(registry("localhost:5000/app"), "localhost:5000");
        assert_eq!(registry("csmssim01:80/team/app:1"), "csmssim01:80");
        assert_eq!(full("myregistry/app"), "docker.io/myregistry/app:latest");
        assert_eq!(full("localhost"), "docker.io/library/localhost:latest");
        // A single component with a port-looking suffix is a tag, not a host.
        assert_eq!(full("test.com:5000"), "docker.io/library/test.com:5000");
    }

    #[test]
    fn uppercase_first_component_is_a_host_as_in_docker() {
        let image = ImageRef::parse("MyRegistry/app:1").unwrap();
        assert_eq!(image.runtime_host(), "MyRegistry");
        assert_eq!(image.registry(), "myregistry");
        assert_eq!(image.repository(), "app");
        assert_eq!(image.full(), "myregistry/app:1");
    }

    #[test]
    fn uppercase_host_is_lowercased() {
        let image = ImageRef::parse("Registry.Example.COM:5000/team/app").unwrap();
        assert_eq!(image.registry(), "registry.example.com:5000");
        assert_eq!(image.runtime_host(), "Registry.Example.COM:5000");
        assert_eq!(image.full(), "registry.example.com:5000/team/app:latest");
    }

    #[test]
    fn digests_are_kept_and_suppress_default_tag() {
        assert_eq!(
            full(&format!("repo@{SHA}")),
            format!("docker.io/library/repo@{SHA}")
        );
        let image = ImageRef::parse(&format!("repo:tag@{SHA}")).unwrap();
        assert_eq!(image.tag(), Some("tag"));
        assert_eq!(image.digest(), Some(SHA));
        assert_eq!(image.full(), format!("docker.io/library/repo:tag@{SHA}"));

        let written = format!("registry.k8s.io/ingress-nginx/controller:v1.12.1@{SHA}");
        let image = ImageRef::parse(&written).unwrap();
        assert_eq!(image.registry(), "registry.k8s.io");
        assert_eq!(image.repository(), "ingress-nginx/controller");
        assert_eq!(image.full(), written);
        assert_eq!(image.written(), written);
    }

    #[test]
    fn tags_may_have_uppercase() {
        assert_eq!(full("nginx:Latest"), "docker.io/library/nginx:Latest");
    }

    #[test]
    fn empty_is_an_error() {
        assert_eq!(ImageRef::parse(""), Err(ImageError::Empty));
    }

    #[test]
    fn surrounding_whitespace_is_an_error() {
        for written in [" nginx", "nginx ", "nginx\n", "\tnginx", " "] {
            assert_eq!(
                ImageRef::parse(written),
                Err(ImageError::Whitespace {
                    written: written.to_owned()
                }),
                "{written:?}"
            );
        }
        assert!(matches!(
            ImageRef::parse("ngi nx"),
            Err(ImageError::Invalid { .. })
        ));
    }

    #[test]
    fn uppercase_repository_is_reported_as_such() {
        for written in ["Nginx", "docker.io/Library/nginx", "quay.io/org/App:1"] {
            assert_eq!(
                ImageRef::parse(written),
                Err(ImageError::Invalid {
                    written: written.to_owned(),
                    reason: InvalidReason::Uppercase
                }),
                "{written}"
            );
        }
    }

    #[test]
    fn bad_digests_are_errors() {
        let short = "nginx@sha256:abcd";
        let err = ImageRef::parse(short).unwrap_err();
        assert!(matches!(err, ImageError::Invalid { .. }), "{err}");

        let wrong_len = format!("nginx@sha256:{}", "a".repeat(63));
        assert_eq!(
            ImageRef::parse(&wrong_len),
            Err(ImageError::Invalid {
                written: wrong_len.clone(),
                reason: InvalidReason::DigestLength
            })
        );

        let unknown = format!("nginx@md5:{}", "a".repeat(32));
        assert_eq!(
            ImageRef::parse(&unknown),
            Err(ImageError::Invalid {
                written: unknown.clone(),
                reason: InvalidReason::DigestAlgorithm
            })
        );

        let upper_hex = format!("nginx@sha256:{}", "A".repeat(64));
        assert_eq!(
            ImageRef::parse(&upper_hex),
            Err(ImageError::Invalid {
                written: upper_hex.clone(),
                reason: InvalidReason::DigestFormat
            })
        );

        let not_hex = format!("nginx@sha256:{}", "g".repeat(64));
        assert!(ImageRef::parse(&not_hex).is_err());
    }

    #[test]
    fn other_malformed_references_are_errors() {
        for written in [
            "nginx:",
            ":tag",
            "/nginx",
            "nginx/",
            "a//b",
            "nginx:tag:tag",
            "http://quay.io/app",
            "-nginx",
        ] {
            assert!(ImageRef::parse(written).is_err(), "{written}");
        }
        let hex = "a".repeat(64);
        assert_eq!(
            ImageRef::parse(&hex),
            Err(ImageError::HexIdentifier { written: hex })
        );
    }

    fn reason(written: &str) -> InvalidReason {
        match ImageRef::parse(written) {
            Err(ImageError::Invalid { reason, .. }) => reason,
            other => panic!("{written}: expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn ip_hosts_and_ports() {
        for (written, host, repository) in [
            ("10.0.0.1:5000/team/app:1", "10.0.0.1:5000", "team/app"),
            ("10.0.0.1/app", "10.0.0.1", "app"),
            ("[::1]:5000/app:1", "[::1]:5000", "app"),
            ("[2001:DB8::1]/team/app", "[2001:DB8::1]", "team/app"),
            ("localhost:5000/app", "localhost:5000", "app"),
            ("registry:5000/app", "registry:5000", "app"),
            (
                "my-registry.example.com/app",
                "my-registry.example.com",
                "app",
            ),
        ] {
            let image = ImageRef::parse(written).unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(image.runtime_host(), host, "{written}");
            assert_eq!(image.repository(), repository, "{written}");
        }
        assert_eq!(registry("[2001:DB8::1]:443/app"), "[2001:db8::1]:443");
        for written in [
            "[::1/app",
            "[]/app",
            "[::1]x/app",
            "[::g]/app",
            "[::1]:/app",
            "[::1%eth0]/app",
            "[::1]",
            "registry:/app",
            "registry:50a/app",
            "-registry.com/app",
            "registry-.com/app",
            "registry..com/app",
            "registry_x.com:5000/app",
        ] {
            assert!(ImageRef::parse(written).is_err(), "{written}");
        }
        assert_eq!(reason("registry:/app"), InvalidReason::Host);
        assert_eq!(reason("[::1]x/app"), InvalidReason::Host);
    }

    #[test]
    fn path_component_separators() {
        for written in [
            "a.b",
            "a_b",
            "a__b",
            "a-b",
            "a---b",
            "a.b_c__d-e",
            "a/b.c/d",
            "0",
            "a1-2",
        ] {
            assert!(ImageRef::parse(written).is_ok(), "{written}");
        }
        for written in [
            "a..b", "a___b", "a._b", "a_.b", "a-.b", "a.-b", "a-", "a.", "_a", ".a", "a/-b",
            "a/b_", "ab/", "a:b/c", "é",
        ] {
            assert!(ImageRef::parse(written).is_err(), "{written}");
        }
        assert_eq!(reason("a..b"), InvalidReason::Path);
        assert_eq!(reason("a//b"), InvalidReason::Path);
        // `a_b.c` is a valid path component, so Docker's grammar accepts it even though
        // `splitDockerDomain` then takes it for a host (it has a dot).
        assert_eq!(registry("a_b.c/app"), "a_b.c");
    }

    #[test]
    fn tag_grammar() {
        let longest = format!("nginx:{}", "t".repeat(128));
        assert!(ImageRef::parse(&longest).is_ok());
        for written in ["nginx:_tag", "nginx:0", "nginx:v1.2.3-rc.1_b", "nginx:A"] {
            assert!(ImageRef::parse(written).is_ok(), "{written}");
        }
        for written in [
            format!("nginx:{}", "t".repeat(129)),
            "nginx:".to_owned(),
            "nginx:.tag".to_owned(),
            "nginx:-tag".to_owned(),
            "nginx:ta+g".to_owned(),
            // Go's `\w` is ASCII.
            "nginx:tagé".to_owned(),
        ] {
            assert_eq!(reason(&written), InvalidReason::Tag, "{written}");
        }
        // Not a tag: the colon is before the last slash, so this is a host with a bad port.
        assert_eq!(reason("nginx:v1/app"), InvalidReason::Host);
        assert_eq!(reason(":tag"), InvalidReason::Format);
    }

    #[test]
    fn digest_grammar() {
        for (algorithm, len) in [("sha256", 64), ("sha384", 96), ("sha512", 128)] {
            let written = format!("nginx@{algorithm}:{}", "0f".repeat(len / 2));
            let image = ImageRef::parse(&written).unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(image.tag(), None);
            assert_eq!(image.digest(), Some(&written["nginx@".len()..]));
        }
        let hex = "a".repeat(64);
        for (written, want) in [
            (
                format!("nginx@sha256+b64:{hex}"),
                InvalidReason::DigestAlgorithm,
            ),
            (format!("nginx@SHA256:{hex}"), InvalidReason::DigestFormat),
            (
                format!("nginx@sha256:{}", "a".repeat(31)),
                InvalidReason::DigestFormat,
            ),
            (
                format!("nginx@sha256:{}", "a".repeat(65)),
                InvalidReason::DigestLength,
            ),
            (format!("nginx@sha384:{hex}"), InvalidReason::DigestLength),
            (format!("nginx@{hex}"), InvalidReason::DigestFormat),
            (format!("nginx@1sha:{hex}"), InvalidReason::DigestFormat),
            (
                format!("nginx@sha256:{hex}@sha256:{hex}"),
                InvalidReason::DigestFormat,
            ),
            (
                format!("nginx@sha256:{hex}:tag"),
                InvalidReason::DigestFormat,
            ),
            ("nginx@".to_owned(), InvalidReason::DigestFormat),
            (format!("@sha256:{hex}"), InvalidReason::Format),
        ] {
            assert_eq!(reason(&written), want, "{written}");
        }
    }

    #[test]
    fn uppercase_is_reported_against_the_path_docker_checks() {
        assert_eq!(reason("foo/Bar"), InvalidReason::Uppercase);
        assert_eq!(reason("localhost/App"), InvalidReason::Uppercase);
        // Host and tag may have uppercase; an invalid uppercase host is a bad host.
        assert!(ImageRef::parse("HOST/app:TAG").is_ok());
        assert_eq!(reason("Foo_Bar/app"), InvalidReason::Host);
    }

    #[test]
    fn overlong_names_are_errors() {
        let written = format!("example.com/{}", "a".repeat(250));
        assert!(matches!(
            ImageRef::parse(&written),
            Err(ImageError::NameTooLong { len: 262, .. })
        ));
    }

    #[test]
    fn error_messages_name_the_reference() {
        let err = ImageRef::parse("Nginx").unwrap_err();
        assert_eq!(
            err.to_string(),
            "image reference \"Nginx\" is invalid: repository name must be lowercase"
        );
    }

    #[test]
    fn normalizes_rules_file_servers() {
        for (server, want) in [
            ("https://index.docker.io/v1/", "docker.io"),
            ("index.docker.io", "docker.io"),
            ("registry-1.docker.io", "docker.io"),
            ("registry.hub.docker.com", "docker.io"),
            ("docker.io", "docker.io"),
            ("HTTPS://Docker.IO", "docker.io"),
            ("http://localhost:5000", "localhost:5000"),
            ("localhost:5000/v2/", "localhost:5000"),
            ("csmssim01:80", "csmssim01:80"),
            ("Quay.IO", "quay.io"),
            ("ghcr.io/org/repo", "ghcr.io"),
            ("docker.io:443", "docker.io:443"),
        ] {
            assert_eq!(normalize_registry_host(server), want, "{server}");
        }
    }
}
