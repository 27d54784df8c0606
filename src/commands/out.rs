//! Standard output for every command: one mechanism, so that a write error
//! is never a panic. A closed pipe (`stockrace … | head -1`) is not an
//! error: the rest of the output is dropped and the command ends with the
//! status its work had. Any other write error (`> /dev/full`) is bad setup:
//! exit 2 with a message.
//!
//! `out!` and `outln!` are `print!` and `println!` that return early with
//! [`Bad`] from a function returning `Result<_, Bad>`.

use super::Bad;
use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whoever reads stdout has gone: nothing more is written.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// stdout carries a file's content (`--svg -`): the text goes to stderr.
static TEXT_TO_STDERR: AtomicBool = AtomicBool::new(false);

/// From now on `out!` and `outln!` write to stderr: stdout is for the
/// content [`content`] writes (a picture or page asked for with `-`).
pub fn text_to_stderr() {
    TEXT_TO_STDERR.store(true, Ordering::Relaxed);
}

/// Writes `args` to stdout (see the module), or to stderr after
/// [`text_to_stderr`].
pub fn write(args: fmt::Arguments) -> Result<(), Bad> {
    if TEXT_TO_STDERR.load(Ordering::Relaxed) {
        // As eprint!, without its panic when stderr cannot be written.
        let _ = io::stderr().lock().write_fmt(args);
        return Ok(());
    }
    stdout(args)
}

/// Writes `text`, an output file's content, to stdout (whatever
/// [`text_to_stderr`] said).
pub fn content(text: &str) -> Result<(), Bad> {
    stdout(format_args!("{text}"))
}

fn stdout(args: fmt::Arguments) -> Result<(), Bad> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let result = io::stdout().lock().write_fmt(args);
    result.or_else(failed)
}

/// Writes what is buffered (at the end of every command).
pub fn flush() -> Result<(), Bad> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let result = io::stdout().lock().flush();
    result.or_else(failed)
}

/// Runs `print`, which writes to stdout itself (clap's help), under the
/// same rules.
pub fn with(print: impl FnOnce() -> io::Result<()>) -> Result<(), Bad> {
    print().or_else(failed)?;
    flush()
}

fn failed(error: io::Error) -> Result<(), Bad> {
    if error.kind() == io::ErrorKind::BrokenPipe {
        CLOSED.store(true, Ordering::Relaxed);
        Ok(())
    } else {
        Err(Bad(format!("cannot write to standard output: {error}")))
    }
}

/// `print!` to stdout, returning [`Bad`] on a write error (see the module).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::out::write(format_args!($($arg)*))?
    };
}

/// `println!` to stdout, returning [`Bad`] on a write error (see the module).
macro_rules! outln {
    () => {
        $crate::commands::out::write(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::commands::out::write(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

pub(crate) use {out, outln};
