//! Running Helm: its stderr copied through as it comes (and its tail kept, to read errors),
//! its stdout passed, kept or both, and Ctrl-C left to Helm.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use anyhow::Context;

/// What becomes of Helm's stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// Straight to ours (a terminal stays a terminal).
    Pass,
    /// Copied to ours as it comes, and kept.
    PassAndKeep,
    /// Kept, not shown.
    Keep,
}

pub struct Ran {
    pub status: std::process::ExitStatus,
    /// The tail of Helm's stderr (which was copied to ours as it came).
    pub stderr: String,
    pub stdout: Option<Vec<u8>>,
}

/// Run `cmd` with its stderr copied to ours as it comes, keeping the tail (an error, if any, is
/// at the end).
pub fn run_helm(mut cmd: Command, helm: &OsStr, stdout: Stdout) -> anyhow::Result<Ran> {
    const KEEP: usize = 256 * 1024;
    cmd.stderr(Stdio::piped()).stdout(match stdout {
        Stdout::Pass => Stdio::inherit(),
        Stdout::PassAndKeep | Stdout::Keep => Stdio::piped(),
    });
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", helm.to_string_lossy()))?;
    // Ctrl-C reaches Helm too (same process group) and Helm decides what to do with it (roll
    // back, clean up). Dying first would close the pipes Helm writes to and kill it mid-cleanup.
    // Ignored only after the spawn, so Helm itself keeps the default handling.
    let guard = IgnoreInterrupts::new();
    let err_pipe = child.stderr.take().expect("stderr is piped");
    let err = std::thread::spawn(move || pump(err_pipe, Some(Box::new(std::io::stderr())), KEEP));
    let out = child.stdout.take().map(|pipe| {
        let to: Option<Box<dyn Write + Send>> = match stdout {
            Stdout::PassAndKeep => Some(Box::new(std::io::stdout())),
            _ => None,
        };
        std::thread::spawn(move || pump(pipe, to, usize::MAX))
    });
    let status = child.wait().context("waiting for helm")?;
    drop(guard);
    let stderr = err.join().unwrap_or_default();
    let stdout = out.map(|t| t.join().unwrap_or_default());
    Ok(Ran {
        status,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        stdout,
    })
}

/// Copy `from` to `to` as it comes; return what came, at most about the last `keep` bytes.
fn pump(mut from: impl Read, mut to: Option<Box<dyn Write + Send>>, keep: usize) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some(to) = to.as_mut() {
                    let _ = to.write_all(&buf[..n]).and_then(|()| to.flush());
                }
                seen.extend_from_slice(&buf[..n]);
                if seen.len() > keep.saturating_mul(2) {
                    seen.drain(..seen.len() - keep);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    seen
}

struct IgnoreInterrupts {
    #[cfg(unix)]
    previous: libc::sighandler_t,
}

impl IgnoreInterrupts {
    fn new() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: SIG_IGN is a valid disposition; restored in Drop.
            let previous = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
            IgnoreInterrupts { previous }
        }
        #[cfg(not(unix))]
        IgnoreInterrupts {}
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the disposition `new` found.
        unsafe {
            libc::signal(libc::SIGINT, self.previous);
        }
    }
}
