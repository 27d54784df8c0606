//! The trace: one compact event per thing that happened, recorded cheaply
//! (plain `Copy` values) and rendered to text only when asked.

use crate::lease::LeaseEvent;
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

/// A fault, as the trace shows it on the line of the order it hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The order's app node crashed: one line, on the lowest order it ran;
    /// each of its orders then finishes `crashed`.
    Crash { node: u32 },
    /// The reply to the order's statement was lost: it saw 08006.
    LostReply,
    /// The order's app node paused until `until_ms` (one line, on the
    /// lowest order it runs): none of its orders runs meanwhile.
    Pause { node: u32, until_ms: u64 },
    /// The order's app node restarted after its crash, and the order's
    /// recovery starts (a line per recovering order).
    Restart { node: u32 },
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
    /// A fault the scheduler injected (see `runtime::faults`).
    Fault {
        time_ms: u64,
        order: u32,
        fault: Fault,
    },
    /// An in-process lock (one app node's) was taken, waited for or released.
    ProcessLock {
        time_ms: u64,
        order: u32,
        key: u64,
        event: ProcessLockEvent,
    },
    /// The order called the lease-lock service.
    Lease {
        time_ms: u64,
        order: u32,
        event: LeaseEvent,
    },
}

impl TraceEvent {
    pub fn time_ms(&self) -> u64 {
        match *self {
            TraceEvent::Statement { time_ms, .. }
            | TraceEvent::Sleep { time_ms, .. }
            | TraceEvent::Wake { time_ms, .. }
            | TraceEvent::Finished { time_ms, .. }
            | TraceEvent::Fault { time_ms, .. }
            | TraceEvent::ProcessLock { time_ms, .. }
            | TraceEvent::Lease { time_ms, .. } => time_ms,
        }
    }

    pub fn order(&self) -> SessionId {
        match *self {
            TraceEvent::Statement { event, .. } => event.session,
            TraceEvent::Sleep { order, .. }
            | TraceEvent::Wake { order, .. }
            | TraceEvent::Finished { order, .. }
            | TraceEvent::Fault { order, .. }
            | TraceEvent::ProcessLock { order, .. }
            | TraceEvent::Lease { order, .. } => SessionId(order),
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

/// What a fault says on its trace line.
pub fn fault_text(fault: Fault) -> String {
    match fault {
        Fault::Crash { node } => {
            format!("app node {node} crashed: its connection closed, the server rolls back what it had open")
        }
        Fault::LostReply => {
            "the reply was lost: the order saw 08006 and cannot know whether it ran".to_string()
        }
        Fault::Restart { node } => {
            format!("app node {node} restarted: the order's recovery runs on a new connection")
        }
        Fault::Pause { node, until_ms } => {
            format!("app node {node} paused until {until_ms}ms: its orders stop, time runs on")
        }
    }
}
