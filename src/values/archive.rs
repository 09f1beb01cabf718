//! Reading a chart's files from a `.tgz` or a directory, within Helm's limits.
//!
//! Helm refuses a chart archive that decompresses to more than 100 MiB in all, or holds a file
//! of more than 5 MiB, and an entry whose path is absolute, climbs out of the chart directory
//! (`..`), names a drive (`c:/`), or puts `Chart.yaml` outside the chart directory
//! (`MaxDecompressedChartSize`, `MaxDecompressedFileSize` and the path checks in helm's
//! `pkg/chart/loader/archive.go`, `LoadArchiveFiles`, Helm 3.17 and 4). The same limits apply
//! here, with one budget for a chart and every archive nested in it, so a 1 MB archive can no
//! longer become gigabytes in memory.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::ValuesError;

/// Helm's `MaxDecompressedChartSize`.
pub const MAX_CHART_BYTES: u64 = 100 * 1024 * 1024;
/// Helm's `MaxDecompressedFileSize`.
pub const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;

/// A chart's files by path relative to the chart directory (`Chart.yaml`, `templates/x.yaml`).
pub type Files = std::collections::BTreeMap<String, Vec<u8>>;

/// What is left of the decompressed bytes a chart may take.
#[derive(Debug)]
pub struct Budget {
    remaining: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            remaining: MAX_CHART_BYTES,
        }
    }
}

impl Budget {
    fn take(&mut self, size: u64, file: &str, origin: &str) -> Result<(), ValuesError> {
        if size > MAX_FILE_BYTES {
            return Err(ValuesError::TooLarge {
                origin: origin.to_string(),
                what: format!(
                    "file {file} is {size} bytes decompressed, over Helm's limit of {MAX_FILE_BYTES}"
                ),
            });
        }
        if size > self.remaining {
            return Err(ValuesError::TooLarge {
                origin: origin.to_string(),
                what: format!(
                    "the chart decompresses to more than Helm's limit of {MAX_CHART_BYTES} bytes"
                ),
            });
        }
        self.remaining -= size;
        Ok(())
    }
}

/// The files of a `helm package` archive, without its top-level `<chart>/` directory.
pub fn unpack_tgz(
    bytes: impl Read,
    origin: &str,
    budget: &mut Budget,
) -> Result<Files, ValuesError> {
    let archive_err = |source| ValuesError::Archive {
        origin: origin.to_string(),
        source,
    };
    let unsafe_entry = |name: &str, why: &str| ValuesError::UnsafeArchive {
        origin: origin.to_string(),
        entry: name.to_string(),
        why: why.to_string(),
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Files::new();
    for entry in archive.entries().map_err(archive_err)? {
        let mut entry = entry.map_err(archive_err)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        // Helm splits on `\` when an archive made on Windows uses it.
        let delimiter = if raw.contains('\\') { '\\' } else { '/' };
        let mut parts = raw.split(delimiter);
        let top = parts.next().unwrap_or_default();
        let rel = parts.collect::<Vec<_>>().join("/");
        if top == "Chart.yaml" {
            return Err(unsafe_entry(
                &raw,
                "Chart.yaml is not in the chart directory",
            ));
        }
        if rel.starts_with('/') {
            return Err(unsafe_entry(&raw, "an absolute path"));
        }
        let clean = clean_path(&rel);
        if clean == "." || clean.is_empty() {
            return Err(unsafe_entry(&raw, "outside the chart directory"));
        }
        if clean.starts_with("..") {
            return Err(unsafe_entry(&raw, "it climbs out of the chart directory"));
        }
        let b = clean.as_bytes();
        if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
            return Err(unsafe_entry(&raw, "a drive letter path"));
        }
        // Links would point anywhere once unpacked; Helm's reader takes their (empty) body as
        // a file, which is what we do too, without following them.
        let size = entry.header().size().map_err(archive_err)?;
        budget.take(size, &clean, origin)?;
        let mut content = Vec::new();
        (&mut entry)
            .take(size)
            .read_to_end(&mut content)
            .map_err(archive_err)?;
        let content = content
            .strip_prefix(b"\xef\xbb\xbf")
            .map(<[u8]>::to_vec)
            .unwrap_or(content);
        files.insert(clean, content);
    }
    if files.is_empty() {
        return Err(ValuesError::NotAChart {
            path: PathBuf::from(origin),
        });
    }
    Ok(files)
}

/// Go's `path.Clean` for a relative path.
fn clean_path(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|p| *p != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}

/// Every file of a chart directory (symlinks followed, as Helm's loader does), within the budget.
pub fn read_dir(dir: &Path, budget: &mut Budget) -> Result<Files, ValuesError> {
    let mut files = Files::new();
    walk(dir, "", &mut files, budget, &dir.display().to_string(), 0)?;
    Ok(files)
}

fn walk(
    dir: &Path,
    prefix: &str,
    files: &mut Files,
    budget: &mut Budget,
    origin: &str,
    depth: usize,
) -> Result<(), ValuesError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ValuesError::Read { path, source }
    };
    if depth > 64 {
        return Err(ValuesError::TooLarge {
            origin: origin.to_string(),
            what: format!("{} is nested too deeply (a symlink loop?)", dir.display()),
        });
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err(dir))?
        .collect::<Result<_, _>>()
        .map_err(read_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let meta = std::fs::metadata(&path).map_err(read_err(&path))?;
        if meta.is_dir() {
            walk(&path, &format!("{rel}/"), files, budget, origin, depth + 1)?;
        } else if meta.is_file() {
            budget.take(meta.len(), &rel, origin)?;
            let mut content = Vec::new();
            std::fs::File::open(&path)
                .and_then(|f| f.take(meta.len()).read_to_end(&mut content))
                .map_err(read_err(&path))?;
            files.insert(rel, content);
        }
    }
    Ok(())
}

/// Writes `files` under `dir` (which must exist); paths were checked when they were read.
pub fn write_files(dir: &Path, files: &Files) -> std::io::Result<()> {
    for (rel, content) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut builder = tar::Builder::new(gz);
        for (path, content) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            // `set_path` refuses `..`; a hostile archive is written byte by byte.
            let name = header.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *content).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn entries_that_escape_the_chart_are_refused() {
        for (path, why) in [
            ("c/../../etc/passwd", "climbs out"),
            ("c//abs", "absolute"),
            ("Chart.yaml", "not in the chart directory"),
            ("c/C:/x", "drive letter"),
            ("c/.", "outside the chart"),
        ] {
            let bytes = tgz(&[("c/Chart.yaml", b"name: c\n"), (path, b"x")]);
            let err = unpack_tgz(&bytes[..], "c.tgz", &mut Budget::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains(why) && err.contains(path), "{path}: {err}");
        }
        // `a/../b` stays inside: Helm cleans it to `b`.
        let bytes = tgz(&[("c/a/../Chart.yaml", b"name: c\n")]);
        let files = unpack_tgz(&bytes[..], "c.tgz", &mut Budget::default()).unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["Chart.yaml"]);
    }

    #[test]
    fn helm_size_limits() {
        // 6 MiB of zeros compresses to a few kilobytes.
        let big = vec![0u8; 6 * 1024 * 1024];
        let bytes = tgz(&[("c/Chart.yaml", b"name: c\n"), ("c/files/big", &big)]);
        assert!(bytes.len() < 100_000);
        let err = unpack_tgz(&bytes[..], "c.tgz", &mut Budget::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("files/big") && err.contains("5242880"),
            "{err}"
        );
        // 25 files of 4.5 MiB: each under the file limit, over 100 MiB together.
        let part = vec![0u8; 4 * 1024 * 1024 + 512 * 1024];
        let names: Vec<String> = (0..25).map(|i| format!("c/files/{i}")).collect();
        let mut entries: Vec<(&str, &[u8])> = vec![("c/Chart.yaml", b"name: c\n")];
        entries.extend(names.iter().map(|n| (n.as_str(), part.as_slice())));
        let err = unpack_tgz(&tgz(&entries)[..], "c.tgz", &mut Budget::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("104857600"), "{err}");
    }
}
