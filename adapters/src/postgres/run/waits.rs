//! Telling a statement that waits for a lock from one that is still
//! running, and letting waiters go one at a time.
//!
//! After every step the server is let settle: each waiting statement either
//! completes or is confirmed still blocked by a session that really holds a
//! transaction (an aborting one may still be listed for a moment after its
//! error reached the client: PostgreSQL reports the error before it
//! releases the locks). Where the server's backends can be paused (see
//! `postgres::pause`), a confirmed waiter is stopped at once, and the
//! waiters whose locks a step granted are let run one at a time, the one
//! whose statement was sent first first, each until it answers or waits again: so the server's own
//! races among woken waiters, and its real-time deadlock timers, are
//! decided the same way every time.

use super::{Pending, QueryResult, RunState};
use std::time::{Duration, SystemTime};
use stockrace_model::{Event, Progress, SessionId};
use tokio::time::Instant;

/// How long a statement may go neither completing nor waiting for a lock.
const STUCK: Duration = Duration::from_secs(10);
/// Slack after a paced timeout before the driver looks at its effect.
const MARGIN: Duration = Duration::from_millis(30);
const POLL: Duration = Duration::from_millis(1);
/// How long after answering a blocking session still counts as busy.
const SETTLE: Duration = Duration::from_millis(5);
/// How long a new statement is given to answer before the driver asks the
/// server whether it waits for a lock.
const FIRST_WAIT: Duration = Duration::from_millis(3);
/// How long a confirmed waiter may take to fall asleep on its latch before
/// it is left running (and the run is no longer paused one at a time).
const FALL_ASLEEP: Duration = Duration::from_secs(1);

/// A statement the server says waits for a lock.
struct Blocked {
    on: SessionId,
    since: SystemTime,
}

/// Where a stopped waiter's lock stands.
enum LockState {
    /// Granted while the backend was stopped: it would run if let.
    Granted,
    /// Still waiting, for sessions with live transactions (the first one
    /// `pg_blocking_pids` names).
    Waiting(SessionId),
    /// Waiting for a session that is letting its locks go: look again.
    Unsettled,
}

impl RunState {
    /// Waits until `session`'s pending statement completes or is confirmed
    /// waiting for a lock; reports the completion, or the start of a wait
    /// (not a continued one). A confirmed waiter is stopped when pausing.
    pub(super) async fn resolve(
        &mut self,
        session: SessionId,
        resumed: bool,
        events: &mut Vec<Event>,
    ) {
        let stuck_at = Instant::now() + STUCK;
        // Most statements answer within a moment; a statement already known
        // to wait is only looked at.
        let mut wait = if resumed { Duration::ZERO } else { FIRST_WAIT };
        loop {
            let pending = self.pending(session);
            if let Ok(result) = tokio::time::timeout(wait, &mut pending.task).await {
                let result: QueryResult = result.expect("the query task ran");
                self.complete(session, result, resumed, events);
                return;
            }
            wait = POLL;
            if let Some(Blocked { on, since }) = self.blocked_on(session).await {
                let pending = self.pending(session);
                // The same lock request may now wait for someone else (a
                // tuple lock passed to the next waiter): its wait goes on,
                // as in the model. A wait that began after the one we knew
                // (a waiter woke and now waits again) is a new wait and
                // restarts the scheduler's timers.
                pending.blocked_on = Some(on);
                if pending.server_wait_start != Some(since) {
                    pending.server_wait_start = Some(since);
                    pending.waiting_since = Some(Instant::now());
                    events.push(Event {
                        session,
                        statement: pending.statement,
                        progress: Progress::Waiting { on },
                        resumed,
                        // Rows as they stand are the model's detail; the
                        // server's uncommitted versions are not visible.
                        row: None,
                    });
                }
                self.stop(session).await;
                return;
            }
            assert!(
                Instant::now() < stuck_at,
                "PostgreSQL: {session}'s `{}` neither completed nor waited for a lock in {STUCK:?}",
                self.pending(session).statement
            );
            tokio::time::sleep(POLL).await;
        }
    }

    fn pending(&mut self, session: SessionId) -> &mut Pending {
        self.sessions[session.index()]
            .pending
            .as_mut()
            .expect("a pending statement")
    }

    /// Lets every waiting statement either complete or show it still waits.
    pub(super) async fn settle(&mut self, events: &mut Vec<Event>) {
        if self.pausing {
            self.wake_in_turn(events).await;
        }
        // Unpaused (or no longer), the woken waiters run at once: look at
        // each until completions stop releasing others.
        loop {
            let before = events.len();
            for i in 0..self.sessions.len() {
                if self.sessions[i].pending.is_some() && !self.sessions[i].stopped {
                    self.resolve(SessionId(i as u32), true, events).await;
                }
            }
            if events.len() == before {
                return;
            }
        }
    }

    /// Lets the stopped waiters whose locks were granted run, one at a time
    /// and the oldest wait first, until none is granted.
    async fn wake_in_turn(&mut self, events: &mut Vec<Event>) {
        let stuck_at = Instant::now() + STUCK;
        while self.pausing {
            let mut granted = Vec::new();
            let mut unsettled = false;
            for i in 0..self.sessions.len() {
                let session = SessionId(i as u32);
                if !self.sessions[i].stopped {
                    continue;
                }
                match self.lock_state(session).await {
                    LockState::Granted => granted.push(session),
                    // Whom it waits for may have changed (a tuple lock
                    // passed to the next waiter): the scheduler asks.
                    LockState::Waiting(on) => self.pending(session).blocked_on = Some(on),
                    LockState::Unsettled => unsettled = true,
                }
            }
            // Who goes first is decided only once every release has landed.
            if unsettled {
                assert!(
                    Instant::now() < stuck_at,
                    "PostgreSQL: waiting statements did not settle in {STUCK:?}"
                );
                tokio::time::sleep(POLL).await;
                continue;
            }
            // The statement sent first goes first, as the model's waiters
            // wake in the order their statements began.
            let Some(first) = granted.into_iter().min_by_key(|s| {
                let sent = self.sessions[s.index()].pending.as_ref().map(|p| p.sent);
                (sent, s.index())
            }) else {
                return;
            };
            self.resume(first);
            self.resolve(first, true, events).await;
        }
    }

    /// Where `session`'s (stopped) lock request stands, asked of the server.
    async fn lock_state(&self, session: SessionId) -> LockState {
        let pid = self.sessions[session.index()].connection.pid;
        let row = self
            .monitor
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted),
                        pg_blocking_pids($1)",
                &[&pid],
            )
            .await
            .expect("monitoring query");
        let waiting: bool = row.get(0);
        let blockers: Vec<i32> = row.get(1);
        if !waiting {
            return LockState::Granted;
        }
        match self.live_holders(&blockers) {
            Some(holders) => LockState::Waiting(holders[0]),
            None => LockState::Unsettled,
        }
    }

    /// The sessions behind `pids`, if every one holds a live transaction.
    fn live_holders(&self, pids: &[i32]) -> Option<Vec<SessionId>> {
        let holders: Vec<SessionId> = pids
            .iter()
            .filter_map(|pid| self.sessions.iter().position(|s| s.connection.pid == *pid))
            .map(|i| SessionId(i as u32))
            .collect();
        // A blocker whose transaction already failed is releasing its locks,
        // and one that answered a moment ago may be too.
        let live = |s: &SessionId| {
            let s = &self.sessions[s.index()];
            s.in_transaction && !s.failed && s.answered.is_none_or(|t| t.elapsed() >= SETTLE)
        };
        (!holders.is_empty() && holders.iter().all(live)).then_some(holders)
    }

    /// Whom `session` waits for and since when, if the server says it waits
    /// for a lock held by a session with a live transaction.
    async fn blocked_on(&self, session: SessionId) -> Option<Blocked> {
        let pid = self.sessions[session.index()].connection.pid;
        let row = self
            .monitor
            .query_opt(
                "SELECT a.wait_event_type = 'Lock', pg_blocking_pids(a.pid),
                        (SELECT min(l.waitstart) FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted)
                 FROM pg_stat_activity a WHERE a.pid = $1",
                &[&pid],
            )
            .await
            .expect("monitoring query")?;
        let waiting: Option<bool> = row.get(0);
        let blockers: Vec<i32> = row.get(1);
        // waitstart can be null for a moment after the wait began.
        let since: Option<SystemTime> = row.get(2);
        let since = since.filter(|_| waiting == Some(true) && !blockers.is_empty())?;
        let holders = self.live_holders(&blockers)?;
        Some(Blocked {
            on: holders[0],
            since,
        })
    }

    /// Stops `session`'s waiting backend, when pausing.
    async fn stop(&mut self, session: SessionId) {
        let s = &mut self.sessions[session.index()];
        if !self.pausing || s.stopped {
            return;
        }
        let backend = s
            .connection
            .pausable
            .expect("pausing: every backend is pausable");
        if backend.stop(FALL_ASLEEP).await {
            s.stopped = true;
        } else {
            // It did not fall asleep on its latch (a loaded machine, or
            // something other than a lock wait): the rest of the run goes
            // unpaused rather than stop a backend that may hold a lock the
            // others need.
            self.pausing = false;
            self.resume_all();
        }
    }

    /// Lets `session`'s stopped backend run; its count of voluntary context
    /// switches just before (see `Pausable::slept_again_since`).
    fn resume(&mut self, session: SessionId) -> Option<u64> {
        let s = &mut self.sessions[session.index()];
        if !s.stopped {
            return None;
        }
        s.stopped = false;
        Some(s.connection.pausable.expect("a stopped backend").resume())
    }

    pub(super) fn resume_all(&mut self) {
        for i in 0..self.sessions.len() {
            self.resume(SessionId(i as u32));
        }
    }

    /// Waits until `session` has waited `timeout` (plus a margin) for its
    /// lock, so the server's own timer has fired; then lets things settle.
    pub(super) async fn after_timeout(
        &mut self,
        session: SessionId,
        timeout: Duration,
    ) -> Vec<Event> {
        if let Some(since) = self.sessions[session.index()]
            .pending
            .as_ref()
            .and_then(|p| p.waiting_since)
        {
            tokio::time::sleep_until(since + timeout + MARGIN).await;
        }
        let mut events = Vec::new();
        if self.sessions[session.index()].pending.is_some() {
            // A stopped backend handles its expired timer when it runs
            // again: wait until it has, and is asleep again or answered.
            if let Some(switches) = self.resume(session) {
                let backend = self.sessions[session.index()]
                    .connection
                    .pausable
                    .expect("a resumed backend");
                let stuck_at = Instant::now() + STUCK;
                while !self.pending(session).task.is_finished()
                    && !backend.slept_again_since(switches)
                {
                    assert!(
                        Instant::now() < stuck_at,
                        "PostgreSQL: {session}'s backend did not handle its timer in {STUCK:?}"
                    );
                    tokio::time::sleep(POLL).await;
                }
            }
            // The session whose timer fired reports first (its 40P01 or
            // 55P03), then whatever its abort let go, as the model reports
            // them.
            self.resolve(session, true, &mut events).await;
        }
        self.settle(&mut events).await;
        events
    }
}
