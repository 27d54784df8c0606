//! The files commands write on request (`--json-out`, `--svg`): `-` is
//! stdout; a symlink is written through, not replaced; a regular file (or a
//! new one) is written whole or not at all, through a temporary file
//! renamed over it; anything else that is not a directory (a device, a
//! FIFO) is written into directly, and never replaced.

use super::Bad;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where `--flag PATH` sends its output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    /// The path as given, and the file it names once symlinks are followed.
    File {
        given: PathBuf,
        target: PathBuf,
    },
}

impl Output {
    /// Checks, before any work, that `path` (given with `flag`) can be
    /// written: `-`, or a file whose directory exists and takes new files,
    /// or something that is neither a regular file nor a directory.
    pub fn new(flag: &str, path: &Path) -> Result<Output, Bad> {
        if path.as_os_str() == "-" {
            return Ok(Output::Stdout);
        }
        let target = resolve(path)?;
        let shown = || {
            if target == path {
                path.display().to_string()
            } else {
                format!("{} (a link to {})", path.display(), target.display())
            }
        };
        match fs::metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                return Err(Bad(format!("{flag} {}: is a directory", shown())))
            }
            // Written into directly at the end: a FIFO would block if opened now.
            Ok(meta) if !meta.is_file() => {}
            _ => {
                let dir = parent(&target);
                if !dir.is_dir() {
                    return Err(Bad(format!(
                        "{flag} {}: no directory {} to write it in",
                        shown(),
                        dir.display()
                    )));
                }
                let probe = temporary(&target);
                fs::write(&probe, "")
                    .and_then(|()| fs::remove_file(&probe))
                    .map_err(|e| {
                        Bad(format!(
                            "{flag} {}: cannot write in {}: {e}",
                            shown(),
                            dir.display()
                        ))
                    })?;
            }
        }
        Ok(Output::File {
            given: path.to_path_buf(),
            target,
        })
    }

    pub fn is_stdout(&self) -> bool {
        *self == Output::Stdout
    }

    /// The path as given, for messages ("-" for stdout).
    pub fn name(&self) -> String {
        match self {
            Output::Stdout => "-".into(),
            Output::File { given, .. } => given.display().to_string(),
        }
    }

    /// Writes `text` (see the module).
    pub fn write(&self, text: &str) -> Result<(), Bad> {
        let (given, target) = match self {
            Output::Stdout => return super::out::content(text),
            Output::File { given, target } => (given, target),
        };
        let error = |e: std::io::Error| Bad(format!("cannot write {}: {e}", given.display()));
        match fs::metadata(target) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => fs::OpenOptions::new()
                .write(true)
                .open(target)
                .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.flush()))
                .map_err(error),
            _ => {
                let tmp = temporary(target);
                fs::write(&tmp, text)
                    .and_then(|()| fs::rename(&tmp, target))
                    .map_err(|e| {
                        let _ = fs::remove_file(&tmp);
                        error(e)
                    })
            }
        }
    }
}

/// `path` with every symlink followed (a dangling link: the file it would
/// create).
fn resolve(path: &Path) -> Result<PathBuf, Bad> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&path)
                    .map_err(|e| Bad(format!("{}: cannot read the link: {e}", path.display())))?;
                path = parent(&path).join(link);
            }
            _ => return Ok(path),
        }
    }
    Err(Bad(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// A hidden file next to `path`, for writing before renaming over it.
fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy());
    parent(path).join(format!(".{name}.tmp-{}", std::process::id()))
}

/// `--json-out` and `--svg`/`--json` outputs must not both be stdout, nor
/// the same file.
pub fn distinct(a: (&str, &Output), b: (&str, &Output)) -> Result<(), Bad> {
    match (a.1, b.1) {
        (Output::Stdout, Output::Stdout) => Err(Bad(format!(
            "{} - and {} -: both on stdout; give one a file",
            a.0, b.0
        ))),
        (Output::File { target: x, .. }, Output::File { target: y, .. }) if x == y => Err(Bad(
            format!("{} and {} name the same file; give each its own", a.0, b.0),
        )),
        _ => Ok(()),
    }
}

/// An output must not overwrite a file the command reads (`replay FILE
/// --svg FILE`).
pub fn not_input(flag: &str, output: &Output, input: &Path) -> Result<(), Bad> {
    if let Output::File { given, target } = output {
        if let (Ok(a), Ok(b)) = (fs::canonicalize(target), fs::canonicalize(input)) {
            if a == b {
                return Err(Bad(format!(
                    "{flag} {}: is the file this command reads; give the output another name",
                    given.display()
                )));
            }
        }
    }
    Ok(())
}
