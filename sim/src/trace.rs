//! The trace: one compact event per thing that happened, recorded cheaply
//! (plain `Copy` values) and rendered to text only when asked.

use stockrace_model::{Event, Progress, SessionId};

/// What happened to an in-process lock (one app node's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessLockEvent {
    Acquired,
    /// Waits for the order holding it.
    Waits {
        holder: u32,
    },
    Released,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// The store completed a statement or parked it behind a lock.
    Statement {
        time_ms: u64,
        event: Event,
    },
    Sleep {
        time_ms: u64,
        order: u32,
        until_ms: u64,
    },
    Wake {
        time_ms: u64,
        order: u32,
    },
    Finished {
        time_ms: u64,
        order: u32,
    },
    /// An in-process lock (one app node's) was taken, waited for or released.
    ProcessLock {
        time_ms: u64,
        order: u32,
        key: u64,
        event: ProcessLockEvent,
    },
}

impl TraceEvent {
    pub fn time_ms(&self) -> u64 {
        match *self {
            TraceEvent::Statement { time_ms, .. }
            | TraceEvent::Sleep { time_ms, .. }
            | TraceEvent::Wake { time_ms, .. }
            | TraceEvent::Finished { time_ms, .. }
            | TraceEvent::ProcessLock { time_ms, .. } => time_ms,
        }
    }

    pub fn order(&self) -> SessionId {
        match *self {
            TraceEvent::Statement { event, .. } => event.session,
            TraceEvent::Sleep { order, .. }
            | TraceEvent::Wake { order, .. }
            | TraceEvent::Finished { order, .. }
            | TraceEvent::ProcessLock { order, .. } => SessionId(order),
        }
    }
}

/// What a statement event says in the result column.
pub fn result_text(event: &Event) -> String {
    match event.progress {
        Progress::Done(Ok(reply)) => reply.to_string(),
        Progress::Done(Err(error)) => format!("ERROR {}", error.state),
        Progress::Waiting { on } => format!("waits for {on}"),
    }
}

/// What an in-process lock event says on its trace line.
pub fn process_lock_text(key: u64, event: ProcessLockEvent) -> String {
    match event {
        ProcessLockEvent::Acquired => format!("takes in-process lock {key}"),
        ProcessLockEvent::Waits { holder } => {
            format!("waits for in-process lock {key} (held by T{})", holder + 1)
        }
        ProcessLockEvent::Released => format!("releases in-process lock {key}"),
    }
}
