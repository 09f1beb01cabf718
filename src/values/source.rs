//! Chart references as Helm takes them: a directory, a `.tgz`, `repo/chart`, `oci://host/path`,
//! a chart archive's URL, or a name with `--repo URL`. What is not on disk is fetched with the user's `helm pull`, so
//! their repositories, registry logins and TLS settings apply unchanged.

use std::path::Path;

use super::ValuesError;
use super::archive::{self, Budget, Files};
use super::helm::{Fetch, Helm};

/// Where the chart came from, for messages and the generated file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Directory,
    Archive,
    /// Fetched with `helm pull`.
    Remote,
}

/// Every file of the chart (within Helm's size limits), and how it was found.
pub fn load(
    reference: &str,
    fetch: &Fetch,
    helm: &Helm,
    scratch: &Path,
) -> Result<(Files, Origin), ValuesError> {
    let path = Path::new(reference);
    // `oci://…`, `https://…/chart-1.0.0.tgz` and `--repo` are Helm's to fetch.
    let local = fetch.repo.is_none() && !reference.contains("://");
    if local && let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            if !path.join("Chart.yaml").is_file() {
                return Err(ValuesError::NotAChart {
                    path: path.to_path_buf(),
                });
            }
            return Ok((
                archive::read_dir(path, &mut Budget::default())?,
                Origin::Directory,
            ));
        }
        return Ok((read_archive(path)?, Origin::Archive));
    }
    // Helm reads `./x`, `/x` and `x.tgz` as paths only; say so rather than ask a repository.
    let looks_like_path = reference.starts_with(['.', '/', '~'])
        || reference.ends_with(".tgz")
        || reference.ends_with(".tar.gz");
    if local && (looks_like_path || !reference.contains('/')) {
        return Err(ValuesError::NoSuchChart {
            reference: reference.to_string(),
        });
    }
    let dir = scratch.join("pulled");
    std::fs::create_dir_all(&dir).map_err(|source| ValuesError::Read {
        path: dir.clone(),
        source,
    })?;
    let tgz = helm.pull(reference, fetch, &dir)?;
    Ok((read_archive(&tgz)?, Origin::Remote))
}

/// Streamed: only the decompressed files that fit Helm's limits are ever in memory.
fn read_archive(path: &Path) -> Result<Files, ValuesError> {
    use std::io::{Read, Seek};
    let read_err = |source| ValuesError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    if !gzip {
        return Err(ValuesError::NotAChart {
            path: path.to_path_buf(),
        });
    }
    file.rewind().map_err(read_err)?;
    archive::unpack_tgz(
        std::io::BufReader::new(file),
        &path.display().to_string(),
        &mut Budget::default(),
    )
}
