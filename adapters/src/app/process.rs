//! Order processes: started with the run's environment, read for the order
//! protocol on stdout, killed with their whole process group when the run
//! ends, however it ends.
//!
//! Protocol (stdout lines): `stockrace: ready` once booted, then exactly one
//! of `stockrace: sold UNITS`, `stockrace: out-of-stock`,
//! `stockrace: failed REASON`. Other lines are the application's own.

use super::error::AppError;
use super::execution::Outcome;
use super::state::Shared;
use super::trace::Event;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncReadExt;
use tokio::process::{ChildStdin, Command};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Bytes of stderr kept for messages.
const STDERR_TAIL: usize = 2000;

/// Kills the process group when dropped: the order's children (a shell's
/// psql, npm's node) go with it.
pub struct ProcessGroup(i32);

impl ProcessGroup {
    fn kill(&self) {
        // SAFETY: killpg only sends a signal; a group that is gone gives ESRCH.
        unsafe {
            libc::killpg(self.0, libc::SIGKILL);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The program and arguments, with a relative program path (one with a
/// slash) taken from the app's folder.
pub fn command(dir: &Path, argv: &[String]) -> Command {
    let program = if argv[0].contains('/') && Path::new(&argv[0]).is_relative() {
        dir.join(&argv[0]).into_os_string()
    } else {
        argv[0].clone().into()
    };
    let mut command = Command::new(program);
    command.args(&argv[1..]).current_dir(dir);
    // The user's PG* settings would point the order past the proxy.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") || name == "DATABASE_URL" {
            command.env_remove(&name);
        }
    }
    command
}

/// A started order process and the tasks that read it.
pub struct OrderProcess {
    group: ProcessGroup,
    /// Where `stockrace: next` goes (reused orders only).
    pub stdin: Option<ChildStdin>,
    /// Its stdout pipe (see the proxy's check for a ready line not yet read).
    pub stdout_fd: RawFd,
    tasks: JoinSet<()>,
    exited: watch::Receiver<bool>,
}

impl OrderProcess {
    /// Ends its input and gives it a moment to exit on its own (a reused
    /// order exits at the end of its input), then kills its whole process
    /// group and stops reading it.
    pub async fn stop(&mut self) {
        if self.stdin.take().is_some() {
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                self.exited.wait_for(|e| *e),
            )
            .await;
        }
        self.group.kill();
        self.tasks.shutdown().await;
    }
}

/// Starts order `order` and the tasks that read it. A `reuse`d order gets
/// a pipe for stdin (for `stockrace: next`) and its outcome line is a trace
/// event; otherwise stdin is empty and its exit is.
pub fn spawn(
    mut command: Command,
    order: usize,
    shared: &Shared,
    reuse: bool,
) -> Result<OrderProcess, AppError> {
    command
        .stdin(if reuse { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let program = format!("{:?}", command.as_std().get_program());
    let mut child = command.spawn().map_err(|e| {
        AppError::Setup(format!(
            "order T{} could not start {program}: {e}",
            order + 1
        ))
    })?;
    let group = ProcessGroup(child.id().map_or(0, |id| id as i32));
    let stdin = child.stdin.take();
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let stdout_fd = stdout.as_raw_fd();
    let mut tasks = JoinSet::new();
    let (exit_sender, exited) = watch::channel(false);

    let s = shared.clone();
    tasks.spawn(async move {
        let mut buffer = [0u8; 4096];
        let mut line = Vec::new();
        loop {
            let n = stdout.read(&mut buffer).await.unwrap_or(0);
            s.update(|state| {
                let o = &mut state.orders[order];
                if n == 0 {
                    o.stdout_closed = true;
                    return;
                }
                line.extend_from_slice(&buffer[..n]);
                while let Some(end) = line.iter().position(|&b| b == b'\n') {
                    let text: Vec<u8> = line.drain(..=end).collect();
                    let o = &mut state.orders[order];
                    let reported = protocol_line(o, String::from_utf8_lossy(&text).trim());
                    if let (true, Some(outcome)) = (reuse, reported) {
                        o.busy_since = None;
                        state.trace.push(Event::Reported { order, outcome });
                    }
                }
                let o = &mut state.orders[order];
                o.stdout_partial = line.len();
                o.stdout_partial_is_protocol =
                    b"stockrace: ".starts_with(&line[..line.len().min(11)]);
            });
            if n == 0 {
                break;
            }
        }
    });

    let s = shared.clone();
    tasks.spawn(async move {
        let mut buffer = [0u8; 4096];
        loop {
            let n = stderr.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            s.update(|state| {
                let tail = &mut state.orders[order].stderr_tail;
                tail.push_str(&String::from_utf8_lossy(&buffer[..n]));
                if tail.len() > STDERR_TAIL {
                    let mut cut = tail.len() - STDERR_TAIL;
                    while !tail.is_char_boundary(cut) {
                        cut += 1;
                    }
                    tail.drain(..cut);
                }
            });
        }
    });

    let s = shared.clone();
    tasks.spawn(async move {
        let status = child.wait().await;
        let _ = exit_sender.send(true);
        let status = match status {
            Ok(status) => match status.code() {
                Some(code) => format!("exit {code}"),
                None => format!("{status}"),
            },
            Err(e) => format!("cannot wait for it: {e}"),
        };
        // Let the readers take what it wrote before it exited.
        for _ in 0..100 {
            let drained = {
                let state = s.lock();
                let o = &state.orders[order];
                o.stdout_closed
            };
            if drained {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        s.update(|state| {
            let o = &mut state.orders[order];
            let outcome = o.outcome.clone().unwrap_or_else(|| {
                Outcome::Failed(format!(
                    "exited ({status}) without reporting an outcome{}",
                    stderr_suffix(&o.stderr_tail)
                ))
            });
            o.outcome = Some(outcome.clone());
            o.exit = Some(status.clone());
            o.busy_since = None;
            state.trace.push(Event::Exited {
                order,
                outcome,
                status,
            });
            state.recheck_blocked();
        });
    });
    Ok(OrderProcess {
        group,
        stdin,
        stdout_fd,
        tasks,
        exited,
    })
}

/// "; its stderr ends: ..." or nothing.
pub fn stderr_suffix(tail: &str) -> String {
    let lines: Vec<&str> = tail.trim_end().lines().collect();
    let last: Vec<&str> = lines[lines.len().saturating_sub(5)..].to_vec();
    if last.is_empty() {
        String::new()
    } else {
        format!("; its stderr ends: {}", last.join(" | "))
    }
}

/// Reads one stdout line; the outcome, if the line newly gave one.
fn protocol_line(order: &mut super::state::Order, line: &str) -> Option<Outcome> {
    let message = line.strip_prefix("stockrace:")?.trim();
    if message == "ready" {
        order.ready = true;
        return None;
    }
    let outcome = if message == "out-of-stock" {
        Outcome::OutOfStock
    } else if let Some(units) = message.strip_prefix("sold") {
        match units.trim().parse::<u64>() {
            Ok(n) => Outcome::Sold(n),
            Err(_) => Outcome::Failed(format!(
                "said {line:?}: `sold` needs a whole number of units"
            )),
        }
    } else if let Some(reason) = message.strip_prefix("failed") {
        Outcome::Failed(reason.trim().to_string())
    } else {
        Outcome::Failed(format!(
            "said {line:?}, which is not part of the order protocol"
        ))
    };
    if order.outcome.is_some() {
        return None;
    }
    order.outcome = Some(outcome.clone());
    Some(outcome)
}

/// Bytes written to `fd` (a pipe) and not read yet.
pub fn unread_bytes(fd: RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; a closed fd gives an error, read as 0.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
    if rc == 0 {
        n.max(0) as usize
    } else {
        0
    }
}
