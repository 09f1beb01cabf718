//! The kubelet's credential keyring: which `auths` key of which pull Secret the kubelet sends
//! when it pulls an image. One model, for planning (which keys a Secret needs), the Secret
//! payload, `check` and `explain`.
//!
//! Ported in behaviour (not code) from kubernetes/kubernetes `pkg/credentialprovider/keyring.go`
//! (`BasicDockerKeyring.Add`, `Lookup`, `isDefaultRegistryMatch`, `URLsMatch`, `SplitURL`,
//! `ParseSchemelessURL`; unchanged in substance from v1.10 to v1.35), with the image name the
//! kubelet looks up from `pkg/util/parsers.ParseImageName` (docker's `ParseNormalizedNamed`,
//! then `Name()`: no tag, no digest, `docker.io/library/` added, case kept):
//!
//! * an `auths` key loses an `https://`/`http://` prefix (those exact bytes; any other text is
//!   read as if `https://` were in front of it) and goes through Go's `url.Parse`; the entry is
//!   `Host + path`, where a path starting `/v1/` or `/v2/` loses those three bytes and a path of
//!   `/` counts as none;
//! * the entries are sorted in reverse byte order, so `quay.io/coreos` comes before `quay.io`,
//!   and every entry that matches the image is returned in that order (the kubelet tries each);
//! * an entry matches when the ports are equal (no port is not `:443`), the host has as many
//!   `.`-separated parts as the image's, each part matches as a Go `filepath.Match` glob (so `*`
//!   never spans a dot), and the entry's path is a plain *string* prefix of the image's path
//!   (`harbor.example.com/team-a` also matches `harbor.example.com/team-ab/x`);
//! * only when nothing matched, an entry keyed exactly `index.docker.io` serves any image whose
//!   name starts with `docker.io/`, `index.docker.io/`, or a first component without `.`/`:`.
//!   Nothing maps `registry-1.docker.io` or `registry.hub.docker.com` to Docker Hub.
//!
//! Where Go's `url.Parse` would reject a key (an invalid port, a character not allowed in a
//! host), the kubelet logs and ignores it; [`Entry::parse`] returns the reason instead. Keys with
//! `%`-escapes are refused here too: Go would decode them, no registry key needs them, and
//! decoding twice (the kubelet parses the key again when matching) is not worth modelling.

use std::fmt;

use crate::registry::image::ImageRef;

/// The key of the Docker Hub fallback (`defaultRegistryHost` in keyring.go), also what
/// `https://index.docker.io/v1/` — `docker login`'s key for Docker Hub — becomes.
pub const DOCKER_HUB_DEFAULT_KEY: &str = "index.docker.io";

/// Host spellings that reach Docker Hub. Only `docker.io` and `index.docker.io` are Docker Hub
/// *to the kubelet*; the other two are ordinary hosts there (see [`Entry::serves`]).
const DOCKER_HUB_ALIASES: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// One keyring entry: an `auths` key as the kubelet indexes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    written: String,
    /// `url.URL.Host`: host and port, as written (case kept).
    host: String,
    /// The effective path: empty, or starting with `/` and longer than `/`.
    path: String,
}

/// Why the kubelet ignores an `auths` key (or could never match it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("`{key}` has no host")]
    NoHost { key: String },
    #[error("`{key}` has a control character")]
    Control { key: String },
    #[error("`{key}` has {ch:?} in its host, which a URL host cannot hold")]
    HostCharacter { key: String, ch: char },
    #[error("`{key}` has an invalid port `{port}` (digits only)")]
    Port { key: String, port: String },
    #[error("`{key}` opens `[` for an IPv6 address and never closes it")]
    Bracket { key: String },
    #[error("`{key}`: host part `{part}` is not a valid glob, so it never matches")]
    Glob { key: String, part: String },
}

impl EntryError {
    /// What to write instead.
    pub fn hint(&self) -> &'static str {
        match self {
            EntryError::NoHost { .. } => "write the registry host, e.g. `harbor.example.com`",
            EntryError::Control { .. } | EntryError::HostCharacter { .. } => {
                "write `host[:port][/path]`, e.g. `harbor.example.com:5000/team`; a host part may \
                 be a glob such as `*.dkr.ecr.eu-west-1.amazonaws.com`"
            }
            EntryError::Port { .. } => "a port is digits only, e.g. `localhost:5000`",
            EntryError::Bracket { .. } => "write an IPv6 host as `[::1]:5000`",
            EntryError::Glob { .. } => {
                "close the `[...]` class, or escape a literal `[`, `*` or `\\` with `\\`"
            }
        }
    }
}

impl Entry {
    /// Reads an `auths` key (or a rules file's `server`) the way `BasicDockerKeyring.Add` does.
    pub fn parse(written: &str) -> Result<Entry, EntryError> {
        let err_key = || written.to_string();
        // Add prefixes `https://` unless one of these exact prefixes is there.
        let rest = written
            .strip_prefix("https://")
            .or_else(|| written.strip_prefix("http://"))
            .unwrap_or(written);
        // url.Parse: the fragment goes first, control characters fail, the query goes.
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        if rest.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(EntryError::Control { key: err_key() });
        }
        let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        // Userinfo (`user:pw@host`) is not part of `Host`.
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        check_host(host, written)?;
        if host.is_empty() {
            return Err(EntryError::NoHost { key: err_key() });
        }
        if path.contains('%') {
            return Err(EntryError::HostCharacter {
                key: err_key(),
                ch: '%',
            });
        }
        let path = if path.starts_with("/v1/") || path.starts_with("/v2/") {
            &path[3..]
        } else {
            path
        };
        let path = if path == "/" { "" } else { path };
        let entry = Entry {
            written: written.to_string(),
            host: host.to_string(),
            path: path.to_string(),
        };
        let (parts, _) = split_url_host(&entry.host);
        if let Some(part) = parts.iter().find(|p| glob_match(p, "").is_err()) {
            return Err(EntryError::Glob {
                key: err_key(),
                part: part.to_string(),
            });
        }
        Ok(entry)
    }

    /// The key as written.
    pub fn written(&self) -> &str {
        &self.written
    }

    /// The key as the kubelet indexes it: `host[:port][/path]`, no scheme, no `/v1/`/`/v2/`.
    /// This is what a Secret should carry as its `auths` key.
    pub fn key(&self) -> String {
        format!("{}{}", self.host, self.path)
    }

    /// `host[:port]`, as written.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path the image's path must start with (`""`: any).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the kubelet sends this entry's credential for the image by the normal rule
    /// (`URLsMatch`); the Docker Hub fallback is [`Keyring::lookup`]'s business.
    pub fn kubelet_matches(&self, image: &ImageRef) -> bool {
        urls_match(
            &self.host,
            &self.path,
            image.runtime_host(),
            &format!("/{}", image.runtime_path()),
        )
    }

    /// Whether this entry stands for the image's registry as a person means it: the kubelet's
    /// rule, with host names compared case-insensitively (DNS is) and every Docker Hub spelling
    /// taken for Docker Hub. The registry of a rules file "serves" an image in this sense; the
    /// kubelet then still needs an `auths` key spelled its way ([`Entry::key_for`]).
    pub fn serves(&self, image: &ImageRef) -> bool {
        if self.kubelet_matches(image) {
            return true;
        }
        let glob = fold_host(&self.host);
        let target = fold_host(image.runtime_host());
        urls_match(
            &glob,
            &self.path,
            &target,
            &format!("/{}", image.repository()),
        ) || urls_match(
            &glob,
            &self.path,
            &target,
            &format!("/{}", image.runtime_path()),
        )
    }

    /// The `auths` key that makes the kubelet send this entry's credential for an image it
    /// serves: the entry's own key when the kubelet already matches it (or the Docker Hub
    /// fallback applies), else the image's host as written, with the entry's path.
    pub fn key_for(&self, image: &ImageRef) -> Option<String> {
        if !self.serves(image) {
            return None;
        }
        let fallback =
            self.key() == DOCKER_HUB_DEFAULT_KEY && default_registry_match(&kubelet_name(image));
        if self.kubelet_matches(image) || fallback {
            Some(self.key())
        } else {
            Some(format!("{}{}", image.runtime_host(), self.path))
        }
    }

    /// Every `auths` key a Secret for this entry needs so that the kubelet sends it for each of
    /// `images` the entry serves: its own key first (what `kubectl create secret
    /// docker-registry --docker-server` writes for one host), then each other host spelling.
    pub fn required_keys<'i>(&self, images: impl IntoIterator<Item = &'i ImageRef>) -> Vec<String> {
        let mut keys = vec![self.key()];
        for key in images.into_iter().filter_map(|image| self.key_for(image)) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// The name the kubelet looks credentials up for: `host/path`, no tag or digest.
pub fn kubelet_name(image: &ImageRef) -> String {
    format!("{}/{}", image.runtime_host(), image.runtime_path())
}

/// Whether a Secret with these `auths` keys covers the image: the kubelet would send one of its
/// credentials when it is the pod's only pull secret.
pub fn covers<S: AsRef<str>>(keys: &[S], image: &ImageRef) -> bool {
    let mut keyring = Keyring::new();
    for key in keys {
        // An ignored key covers nothing, as in the kubelet.
        let _ = keyring.add(key.as_ref(), ());
    }
    !keyring.lookup(image).is_empty()
}

/// The keyring the kubelet builds from a pod's pull secrets (`MakeDockerKeyring`): every
/// `auths` key of every usable Secret, each remembering where it came from (`S`).
#[derive(Debug, Clone)]
pub struct Keyring<S> {
    /// Reverse-sorted by key, one element per distinct key.
    index: Vec<Indexed<S>>,
}

#[derive(Debug, Clone)]
struct Indexed<S> {
    key: String,
    entry: Entry,
    /// In the order they were added: the pod's secrets in list order.
    sources: Vec<S>,
}

/// One entry the kubelet would try for an image.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'k, S> {
    pub entry: &'k Entry,
    /// Every credential stored under this key, in the pod's secret order.
    pub sources: &'k [S],
    /// Served by the Docker Hub fallback, not by the normal rule.
    pub docker_hub_default: bool,
}

impl<S> Default for Keyring<S> {
    fn default() -> Self {
        Keyring { index: Vec::new() }
    }
}

impl<S> Keyring<S> {
    pub fn new() -> Keyring<S> {
        Keyring::default()
    }

    /// Adds one `auths` key; a key the kubelet would ignore is refused with the reason.
    pub fn add(&mut self, key: &str, source: S) -> Result<(), EntryError> {
        let entry = Entry::parse(key)?;
        let key = entry.key();
        // Reverse byte order, as `sort.Sort(sort.Reverse(sort.StringSlice(dk.index)))`.
        match self
            .index
            .binary_search_by(|probe| key.as_str().cmp(probe.key.as_str()))
        {
            Ok(i) => self.index[i].sources.push(source),
            Err(i) => self.index.insert(
                i,
                Indexed {
                    key,
                    entry,
                    sources: vec![source],
                },
            ),
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Every entry the kubelet tries for the image, most specific first.
    pub fn lookup(&self, image: &ImageRef) -> Vec<Hit<'_, S>> {
        let hits: Vec<Hit<'_, S>> = self
            .index
            .iter()
            .filter(|i| i.entry.kubelet_matches(image))
            .map(|i| Hit {
                entry: &i.entry,
                sources: &i.sources,
                docker_hub_default: false,
            })
            .collect();
        if !hits.is_empty() || !default_registry_match(&kubelet_name(image)) {
            return hits;
        }
        self.index
            .iter()
            .filter(|i| i.key == DOCKER_HUB_DEFAULT_KEY)
            .map(|i| Hit {
                entry: &i.entry,
                sources: &i.sources,
                docker_hub_default: true,
            })
            .collect()
    }
}

/// `isDefaultRegistryMatch`, on the kubelet's image name.
fn default_registry_match(name: &str) -> bool {
    let first = name.split_once('/').map_or(name, |(first, _)| first);
    if first.is_empty() {
        return false;
    }
    if !name.contains('/') || first == "docker.io" || first == DOCKER_HUB_DEFAULT_KEY {
        return true;
    }
    !first.contains(['.', ':'])
}

/// `URLsMatch` on already split URLs: ports equal, same number of host parts, path prefix,
/// each part a glob.
fn urls_match(glob_host: &str, glob_path: &str, target_host: &str, target_path: &str) -> bool {
    let (glob_parts, glob_port) = split_url_host(glob_host);
    let (target_parts, target_port) = split_url_host(target_host);
    glob_port == target_port
        && glob_parts.len() == target_parts.len()
        && target_path.starts_with(glob_path)
        && glob_parts
            .iter()
            .zip(&target_parts)
            .all(|(glob, part)| glob_match(glob, part) == Ok(true))
}

/// `SplitURL`: the host's `.`-separated parts and the port, by Go's `net.SplitHostPort`; when
/// that fails (no port, too many colons) the whole host and no port.
fn split_url_host(hostport: &str) -> (Vec<&str>, &str) {
    let (host, port) = split_host_port(hostport).unwrap_or((hostport, ""));
    (host.split('.').collect(), port)
}

/// Go's `net.SplitHostPort`; `None` where it returns an error.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let colon = hostport.rfind(':')?;
    let (host, inner_from, inner_to) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        // The `]` must be followed by the last colon.
        if end + 1 != colon {
            return None;
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[inner_from..].contains('[') || hostport[inner_to..].contains(']') {
        return None;
    }
    Some((host, &hostport[colon + 1..]))
}

/// Go's `url.parseHost` checks: the port is digits, and only these bytes may appear in a host.
fn check_host(host: &str, written: &str) -> Result<(), EntryError> {
    let key = || written.to_string();
    let port = if let Some(inner) = host.strip_prefix('[') {
        let Some(end) = inner.rfind(']') else {
            return Err(EntryError::Bracket { key: key() });
        };
        &inner[end + 1..]
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    if let Some(digits) = port.strip_prefix(':') {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EntryError::Port {
                key: key(),
                port: digits.to_string(),
            });
        }
    } else if !port.is_empty() {
        return Err(EntryError::Port {
            key: key(),
            port: port.to_string(),
        });
    }
    // `shouldEscape(c, encodeHost)` is false for these ASCII bytes; others fail `unescape`.
    let allowed = |c: char| {
        !c.is_ascii() || c.is_ascii_alphanumeric() || "-_.~!$&'()*+,;=:[]<>\"".contains(c)
    };
    match host.chars().find(|&c| !allowed(c)) {
        Some(ch) => Err(EntryError::HostCharacter { key: key(), ch }),
        None => Ok(()),
    }
}

/// Lowercase, and every Docker Hub spelling as `docker.io` (the port kept).
fn fold_host(host: &str) -> String {
    let lower = host.to_ascii_lowercase();
    let (name, port) = match split_host_port(&lower) {
        Some((name, port)) => (name.to_string(), format!(":{port}")),
        None => (lower.clone(), String::new()),
    };
    if DOCKER_HUB_ALIASES.contains(&name.as_str()) {
        format!("docker.io{port}")
    } else {
        lower
    }
}

/// The pattern is malformed (`filepath.ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BadPattern;

/// Go's `path/filepath.Match` on Unix (`/` the separator, `\` escapes), behaviour for behaviour:
/// `*` any run of non-`/` characters, `?` one non-`/` character, `[...]` a class (`^` negates,
/// `a-z` ranges), and `ErrBadPattern` for a malformed pattern even when an earlier part already
/// failed to match. Hand-written because no crate implements Go's dialect (`globset` and `glob`
/// negate with `!`, have `**`, and accept patterns Go rejects).
fn glob_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern;
    let mut name = name;
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains('/'));
        }
        let (matched, err) = match match_chunk(chunk, name) {
            Ok(Some(t)) => (Some(t), false),
            Ok(None) => (None, false),
            Err(BadPattern) => (None, true),
        };
        if let Some(t) = matched
            && (t.is_empty() || !pattern.is_empty())
        {
            name = t;
            continue;
        }
        if err {
            return Err(BadPattern);
        }
        if star {
            for (i, c) in name.char_indices() {
                if c == '/' {
                    break;
                }
                let skip = i + c.len_utf8();
                match match_chunk(chunk, &name[skip..])? {
                    Some(t) if pattern.is_empty() && !t.is_empty() => continue,
                    Some(t) => {
                        name = t;
                        continue 'pattern;
                    }
                    None => {}
                }
            }
        }
        // Before failing, the rest of the pattern must still be well formed.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, "")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// `scanChunk`: leading stars, then up to the next star outside a class.
fn scan_chunk(pattern: &str) -> (bool, &str, &str) {
    let trimmed = pattern.trim_start_matches('*');
    let star = trimmed.len() != pattern.len();
    let bytes = trimmed.as_bytes();
    let mut in_range = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &trimmed[..i], &trimmed[i..])
}

/// `matchChunk`: the rest of `s` after the chunk matched its start, `None` if it did not;
/// the whole chunk is checked for syntax either way.
fn match_chunk<'s>(chunk: &str, s: &'s str) -> Result<Option<&'s str>, BadPattern> {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while let Some(c) = chunk.chars().next() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c {
            '[' => {
                let mut r = None;
                if !failed {
                    let next = s.chars().next().expect("not empty");
                    s = &s[next.len_utf8()..];
                    r = Some(next);
                }
                chunk = &chunk[1..];
                let negated = chunk.starts_with('^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if ranges > 0 && chunk.starts_with(']') {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if let Some(after) = chunk.strip_prefix('-') {
                        let (h, rest) = get_esc(after)?;
                        hi = h;
                        chunk = rest;
                    }
                    if r.is_some_and(|r| lo <= r && r <= hi) {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    let next = s.chars().next().expect("not empty");
                    if next == '/' {
                        failed = true;
                    }
                    s = &s[next.len_utf8()..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if c == '\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                // Go compares byte by byte; comparing the whole character gives the same
                // answer, since a match can only fail or succeed on all of its bytes.
                let c = chunk.chars().next().expect("not empty");
                if !failed {
                    match s.strip_prefix(c) {
                        Some(rest) => s = rest,
                        None => failed = true,
                    }
                }
                chunk = &chunk[c.len_utf8()..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

/// `getEsc`: one possibly escaped character of a class; the class must go on after it.
fn get_esc(chunk: &str) -> Result<(char, &str), BadPattern> {
    if chunk.is_empty() || chunk.starts_with('-') || chunk.starts_with(']') {
        return Err(BadPattern);
    }
    let chunk = match chunk.strip_prefix('\\') {
        Some("") => return Err(BadPattern),
        Some(rest) => rest,
        None => chunk,
    };
    let c = chunk.chars().next().expect("not empty");
    let rest = &chunk[c.len_utf8()..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(written: &str) -> ImageRef {
        ImageRef::parse(written).unwrap_or_else(|e| panic!("{written}: {e}"))
    }

    /// The matching facts of `keyring.go`, one row each: key, image, whether the kubelet sends
    /// the key's credential for the image when it is the only key.
    #[test]
    fn kubelet_matching_facts() {
        #[rustfmt::skip]
        let table: &[(&str, &str, bool)] = &[
            // Plain hosts; tag and digest play no part.
            ("harbor.example.com", "harbor.example.com/team/app:1", true),
            ("harbor.example.com", "harbor.example.com/app@sha256:e5a1ed5b1b8c7a0f1c3f2b9e1d1b9a0f8c7e6d5c4b3a29180716f5e4d3c2b1a0", true),
            ("harbor.example.com", "other.example.com/app", false),
            ("harbor.example.com", "sub.harbor.example.com/app", false),
            // Ports must be equal; no port is not :443.
            ("localhost:5000", "localhost:5000/app", true),
            ("localhost:5000", "localhost/app", false),
            ("localhost", "localhost:5000/app", false),
            ("harbor.example.com", "harbor.example.com:443/app", false),
            ("harbor.example.com:443", "harbor.example.com/app", false),
            ("harbor.example.com:443", "harbor.example.com:443/app", true),
            ("[::1]:5000", "[::1]:5000/app", true),
            // A glob per dot-separated part, the same number of parts.
            ("*.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", true),
            ("*.dkr.ecr.eu-west-1.amazonaws.com", "dkr.ecr.eu-west-1.amazonaws.com/app", false),
            ("*.example.com", "harbor.example.com/app", true),
            ("*.example.com", "a.b.example.com/app", false),
            ("*.example.com", "example.com/app", false),
            ("*", "localhost/app", true),
            ("*", "harbor.example.com/app", false),
            // `?` starts a URL query, so this key's host is `harbor-`: it never matches.
            ("harbor-?.example.com", "harbor-1.example.com/app", false),
            ("harbor-[0-9].example.com", "harbor-7.example.com/app", true),
            ("harbor-[^0-9].example.com", "harbor-7.example.com/app", false),
            ("*.example.com:5000", "harbor.example.com:5000/app", true),
            ("*.example.com:5000", "harbor.example.com/app", false),
            // Hosts are compared case-sensitively, as written after docker's normalization.
            ("harbor.example.com", "Harbor.Example.com/app", false),
            ("Harbor.Example.com", "Harbor.Example.com/app", true),
            // Paths are plain string prefixes.
            ("harbor.example.com/team-a", "harbor.example.com/team-a/app", true),
            ("harbor.example.com/team-a", "harbor.example.com/team-ab/app", true),
            ("harbor.example.com/team-a", "harbor.example.com/team-b/app", false),
            ("harbor.example.com/team-a/", "harbor.example.com/team-a/app", true),
            ("harbor.example.com/team-a/", "harbor.example.com/team-ab/app", false),
            ("quay.io/coreos", "quay.io/coreos/etcd", true),
            // Schemes are stripped; /v1/ and /v2/ count as no path; `/` counts as none.
            ("https://harbor.example.com", "harbor.example.com/app", true),
            ("http://harbor.example.com", "harbor.example.com/app", true),
            ("https://other.example.com/v2/", "other.example.com/app", true),
            ("other.example.com/v1/", "other.example.com/app", true),
            ("other.example.com/", "other.example.com/app", true),
            ("https://harbor.example.com/v2/team-a", "harbor.example.com/team-a/app", true),
            ("https://harbor.example.com/v2/team-a", "harbor.example.com/team-b/app", false),
            // `/v2` without the slash is an ordinary path.
            ("harbor.example.com/v2", "harbor.example.com/app", false),
            ("harbor.example.com/v2", "harbor.example.com/v2app", true),
            // The scheme is stripped only in lower case; `HTTPS://` is read as a host.
            ("HTTPS://harbor.example.com", "harbor.example.com/app", false),
            // Docker Hub: `docker.io` by the normal rule, `index.docker.io` by the fallback.
            ("docker.io", "nginx", true),
            ("docker.io", "bitnami/redis:7", true),
            ("docker.io", "docker.io/library/nginx", true),
            ("docker.io", "index.docker.io/library/nginx", true),
            ("index.docker.io", "nginx", true),
            ("https://index.docker.io/v1/", "nginx", true),
            ("https://index.docker.io/v1/", "docker.io/bitnami/redis", true),
            ("index.docker.io", "index.docker.io/bitnami/redis", true),
            ("index.docker.io/v1/", "bitnami/redis", true),
            // ...and nothing maps the other Docker Hub hosts to Docker Hub.
            ("docker.io", "registry-1.docker.io/library/nginx", false),
            ("index.docker.io", "registry-1.docker.io/library/nginx", false),
            ("docker.io", "registry.hub.docker.com/library/nginx", false),
            ("index.docker.io", "registry.hub.docker.com/library/nginx", false),
            ("registry-1.docker.io", "registry-1.docker.io/library/nginx", true),
            ("registry.hub.docker.com", "registry.hub.docker.com/bitnami/redis", true),
            // The fallback keys on `index.docker.io` exactly; the kubelet's first-component
            // test then also takes hosts without a dot or colon for Docker Hub.
            ("index.docker.io:443", "nginx", false),
            ("index.docker.io", "localhost/app", true),
            ("index.docker.io", "quay.io/app", false),
            // Keys Go's url.Parse rejects are ignored.
            ("harbor.example.com:50a", "harbor.example.com/app", false),
            ("", "nginx", false),
            ("harbor example.com", "harbor/app", false),
        ];
        for &(key, written, want) in table {
            assert_eq!(
                covers(&[key], &image(written)),
                want,
                "key {key:?}, image {written:?}"
            );
        }
    }

    #[test]
    fn entries_are_read_as_the_kubelet_indexes_them() {
        for (written, key) in [
            ("harbor.example.com", "harbor.example.com"),
            ("https://harbor.example.com/", "harbor.example.com"),
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("https://other.example.com/v2/", "other.example.com"),
            ("http://localhost:5000/v2/team", "localhost:5000/team"),
            ("harbor.example.com/team-a", "harbor.example.com/team-a"),
            ("user:pw@harbor.example.com/x", "harbor.example.com/x"),
            ("harbor.example.com/x?y#z", "harbor.example.com/x"),
            ("[::1]:5000", "[::1]:5000"),
        ] {
            assert_eq!(Entry::parse(written).unwrap().key(), key, "{written}");
        }
        for (written, want) in [
            ("", "has no host"),
            ("https://", "has no host"),
            ("/team", "has no host"),
            ("harbor.example.com:https", "invalid port"),
            ("harbor example.com", "' '"),
            ("[::1", "never closes"),
            ("harbor[.example.com", "not a valid glob"),
            ("harbor.example.com\n", "control character"),
        ] {
            let err = Entry::parse(written).unwrap_err();
            assert!(err.to_string().contains(want), "{written:?}: {err}");
            assert!(!err.hint().is_empty());
        }
    }

    #[test]
    fn all_matches_most_specific_first_then_the_docker_hub_fallback() {
        let mut keyring = Keyring::new();
        for (key, secret) in [
            ("quay.io", "a"),
            ("quay.io/coreos", "b"),
            ("https://quay.io/v2/", "c"),
            ("index.docker.io", "d"),
            ("*.io", "e"),
        ] {
            keyring.add(key, secret).unwrap();
        }
        let hits = keyring.lookup(&image("quay.io/coreos/etcd:3"));
        let keys: Vec<(String, &[&str])> =
            hits.iter().map(|h| (h.entry.key(), h.sources)).collect();
        assert_eq!(
            keys,
            [
                ("quay.io/coreos".to_string(), &["b"][..]),
                ("quay.io".to_string(), &["a", "c"][..]),
                ("*.io".to_string(), &["e"][..]),
            ]
        );
        assert!(hits.iter().all(|h| !h.docker_hub_default));

        // `*.io` matches docker.io, so the fallback is not used.
        let hits = keyring.lookup(&image("nginx"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].entry.key(), "*.io");

        let mut keyring = Keyring::new();
        keyring.add("https://index.docker.io/v1/", "hub").unwrap();
        let hits = keyring.lookup(&image("bitnami/redis"));
        assert_eq!(hits.len(), 1);
        assert!(hits[0].docker_hub_default);
        assert!(keyring.lookup(&image("quay.io/x")).is_empty());
        assert!(keyring.add("harbor.example.com:x", "bad").is_err());
    }

    #[test]
    fn a_rules_registry_serves_every_spelling_of_its_host() {
        let docker_hub = Entry::parse("docker.io").unwrap();
        for written in [
            "nginx",
            "docker.io/library/nginx",
            "index.docker.io/nginx",
            "registry-1.docker.io/library/nginx",
            "registry.hub.docker.com/bitnami/redis",
            "Registry-1.Docker.IO/library/nginx",
        ] {
            assert!(docker_hub.serves(&image(written)), "{written}");
        }
        assert!(!docker_hub.serves(&image("quay.io/x")));
        let harbor = Entry::parse("Harbor.example.com").unwrap();
        assert!(harbor.serves(&image("harbor.example.com/x")));
        assert!(!harbor.serves(&image("harbor.example.com:5000/x")));
        let ecr = Entry::parse("*.dkr.ecr.eu-west-1.amazonaws.com").unwrap();
        assert!(ecr.serves(&image("1234.dkr.ecr.eu-west-1.amazonaws.com/app")));
        let team = Entry::parse("harbor.example.com/team-a").unwrap();
        assert!(team.serves(&image("harbor.example.com/team-a/app")));
        assert!(!team.serves(&image("harbor.example.com/team-b/app")));
    }

    #[test]
    fn required_keys_name_every_host_spelling_the_images_use() {
        let docker_hub = Entry::parse("docker.io").unwrap();
        let images = [
            image("nginx"),
            image("bitnami/redis"),
            image("registry-1.docker.io/library/nginx"),
            image("registry.hub.docker.com/bitnami/redis"),
            image("index.docker.io/library/busybox"),
            image("quay.io/not/served"),
        ];
        let keys = docker_hub.required_keys(&images);
        assert_eq!(
            keys,
            [
                "docker.io",
                "registry-1.docker.io",
                "registry.hub.docker.com"
            ]
        );
        // The keys do what they are for.
        for image in &images[..5] {
            assert!(covers(&keys, image), "{}", image.written());
        }

        // One host: exactly the key `kubectl create secret docker-registry` would write.
        let harbor = Entry::parse("https://harbor.example.com/v2/").unwrap();
        assert_eq!(
            harbor.required_keys(&[image("harbor.example.com/a/b")]),
            ["harbor.example.com"]
        );
        // `index.docker.io` keeps serving Docker Hub through the fallback.
        let index = Entry::parse("https://index.docker.io/v1/").unwrap();
        assert_eq!(
            index.required_keys(&[image("nginx"), image("registry-1.docker.io/x/y")]),
            ["index.docker.io", "registry-1.docker.io"]
        );
        // A path stays on every spelling.
        let team = Entry::parse("docker.io/team").unwrap();
        assert_eq!(
            team.required_keys(&[image("registry-1.docker.io/team/app")]),
            ["docker.io/team", "registry-1.docker.io/team"]
        );
        // A different case is a different spelling to the kubelet.
        let harbor = Entry::parse("harbor.example.com").unwrap();
        assert_eq!(
            harbor.required_keys(&[image("Harbor.Example.com/app")]),
            ["harbor.example.com", "Harbor.Example.com"]
        );
    }

    /// Go's `filepath.Match` table (`match_test.go`), the rows that apply on Unix.
    #[test]
    fn glob_is_go_filepath_match() {
        #[rustfmt::skip]
        let table: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("[x-]", "-", Err(BadPattern)),
            ("[x-]", "z", Err(BadPattern)),
            ("[-x]", "x", Err(BadPattern)),
            ("[-x]", "-", Err(BadPattern)),
            ("[-x]", "a", Err(BadPattern)),
            ("\\", "a", Err(BadPattern)),
            ("[a-b-c]", "a", Err(BadPattern)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("[^bc", "a", Err(BadPattern)),
            ("a[", "a", Err(BadPattern)),
            ("a[", "ab", Err(BadPattern)),
            ("a[", "x", Err(BadPattern)),
            ("a/b[", "x", Err(BadPattern)),
            ("*x", "xxx", Ok(true)),
        ];
        for &(pattern, name, want) in table {
            assert_eq!(glob_match(pattern, name), want, "{pattern:?} {name:?}");
        }
    }

    #[test]
    fn split_host_port_is_go_s() {
        assert_eq!(split_host_port("a.b:5000"), Some(("a.b", "5000")));
        assert_eq!(split_host_port("[::1]:5000"), Some(("::1", "5000")));
        assert_eq!(split_host_port("a.b:"), Some(("a.b", "")));
        assert_eq!(split_host_port("a.b"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("a:b:c"), None);
        assert_eq!(split_host_port("a[b]:1"), None);
    }
}
