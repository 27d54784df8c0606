//! Telling an answer from a wait: after a step, every statement in flight
//! is watched until it has answered or InnoDB confirms it waits for a
//! lock (see the module above for what counts as confirmed).

use super::*;

impl RunState {
    /// Waits until every statement in flight has answered or is confirmed
    /// waiting; returns `own`'s event first (its answer, or the start of its
    /// wait), then the others' answers and new waits, oldest statement first.
    pub(super) async fn settle(&mut self, own: Option<SessionId>) -> Vec<Event> {
        let stuck_at = Instant::now() + STUCK;
        let mut own_event = None;
        let mut others = Vec::new();
        // When a statement last answered (or was sent).
        let mut changed = Instant::now();
        // A read of the lock tables counts only if it began after this: the
        // last change, or the last read that settled nothing. That read
        // may be out of date (a statement still on its way to its wait, or
        // a copy of InnoDB's tables another client's read had just made:
        // InnoDB refreshes them at most every 100 ms), and is never used
        // again, or a wait would go unconfirmed until the server times it out.
        let mut read_after = changed;
        // The last read since `changed` that settled nothing.
        let mut unsettled: Option<LockSnapshot> = None;
        loop {
            if self.collect(own, &mut own_event, &mut others).await {
                changed = Instant::now();
                read_after = changed;
                unsettled = None;
            }
            if self.sessions.iter().all(|s| s.pending.is_none()) {
                break;
            }
            assert!(
                Instant::now() < stuck_at,
                "MariaDB: statements neither answered nor waited for a lock in {STUCK:?}: {}",
                self.in_flight()
            );
            // Give what was just sent, or just woken, a moment to answer,
            // and keep taking answers until the lock tables can be read afresh.
            if changed.elapsed() < FIRST_WAIT || !snapshot_ready(&self.snapshot, read_after) {
                tokio::time::sleep(POLL).await;
                continue;
            }
            let snapshot = self.snapshot_after(read_after).await;
            if self
                .sessions
                .iter()
                .any(|s| s.pending.as_ref().is_some_and(|p| p.task.is_finished()))
            {
                // Something answered meanwhile: that read may be out of date.
                continue;
            }
            if let Some(waits) = self.confirmed_waits(&snapshot, unsettled.as_ref()) {
                for (session, on, lock) in waits {
                    let deadline_ms = self.virtual_now_ms + self.config.lock_wait_timeout_ms;
                    let pending = self.sessions[session.index()]
                        .pending
                        .as_mut()
                        .expect("a waiting statement");
                    let new = pending.wait.as_ref().is_none_or(|w| w.lock != lock);
                    if new {
                        let event = Event {
                            session,
                            statement: pending.statement,
                            progress: Progress::Waiting { on },
                            resumed: Some(session) != own,
                            row: None,
                        };
                        if Some(session) == own {
                            own_event = Some(event);
                        } else {
                            others.push(event);
                        }
                        pending.wait = Some(Wait {
                            on,
                            lock,
                            deadline_ms,
                        });
                    } else if let Some(wait) = pending.wait.as_mut() {
                        wait.on = on;
                    }
                }
                break;
            }
            read_after = Instant::now();
            unsettled = Some(snapshot);
            tokio::time::sleep(POLL).await;
        }
        let mut events: Vec<Event> = own_event.into_iter().collect();
        events.extend(others);
        events
    }

    /// Takes the answers of the statements that have answered. Returns
    /// whether any had.
    async fn collect(
        &mut self,
        own: Option<SessionId>,
        own_event: &mut Option<Event>,
        others: &mut Vec<Event>,
    ) -> bool {
        let mut done: Vec<(u64, SessionId)> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let p = s.pending.as_ref()?;
                p.task
                    .is_finished()
                    .then_some((p.sent, SessionId(i as u32)))
            })
            .collect();
        done.sort();
        for &(_, session) in &done {
            let s = &mut self.sessions[session.index()];
            let pending = s.pending.take().expect("pending");
            let (conn, answer) = pending.task.await.expect("the statement's task ran");
            s.conn = Some(conn);
            let statement = pending.statement;
            let progress = match answer {
                Ok(reply) => Progress::Done(Ok(reply)),
                Err(e) => match sql::error(&e) {
                    Some(error) => Progress::Done(Err(error)),
                    None => panic!(
                        "MariaDB answered `{statement}` with {} ({}) {}: not an error the model knows",
                        e.code, e.state, e.message
                    ),
                },
            };
            match (statement, progress) {
                (Statement::Begin(_), Progress::Done(Ok(_))) => s.in_transaction = true,
                (Statement::Commit | Statement::Rollback, _) => s.in_transaction = false,
                (_, Progress::Done(Err(e)))
                    if e == DbError::MARIADB_DEADLOCK || e == DbError::MARIADB_RECORD_CHANGED =>
                {
                    // The whole transaction was rolled back; the session is
                    // in autocommit mode again.
                    s.in_transaction = false
                }
                _ => {}
            }
            let event = Event {
                session,
                statement,
                progress,
                resumed: pending.wait.is_some() || Some(session) != own,
                row: None,
            };
            if Some(session) == own {
                *own_event = Some(event);
            } else {
                others.push(event);
            }
        }
        !done.is_empty()
    }

    /// Each statement in flight with whom it waits for and the lock it
    /// requested, if every one of them is confirmed waiting on transactions
    /// that hold their locks for now; `None` while anything is unsettled.
    /// `previous` is the read before `snapshot` since the last answer, if any.
    fn confirmed_waits(
        &self,
        snapshot: &LockSnapshot,
        previous: Option<&LockSnapshot>,
    ) -> Option<Vec<(SessionId, SessionId, Option<String>)>> {
        let connection = |session: SessionId| self.sessions[session.index()].connection_id;
        let trx = |session: SessionId| snapshot.by_connection.get(&connection(session));
        let sessions = (0..self.sessions.len() as u32).map(SessionId);
        // `session`'s transaction and, for each transaction it waits for,
        // the run's sessions that could be it (trx_id 0 is every
        // transaction that has written nothing), if it waits for locks
        // transactions of the run hold.
        let waiting = |session: SessionId| {
            let waiter = trx(session)?;
            if waiter.state != "LOCK WAIT" || waiter.blocked_by.is_empty() {
                return None;
            }
            let blockers: Vec<Vec<SessionId>> = waiter
                .blocked_by
                .iter()
                .map(|id| {
                    sessions
                        .clone()
                        .filter(|b| *b != session && trx(*b).is_some_and(|t| t.id == *id))
                        .collect()
                })
                .collect();
            let held = blockers.iter().all(|candidates| {
                !candidates.is_empty()
                    && candidates.iter().all(|b| {
                        trx(*b).is_some_and(|t| matches!(t.state.as_str(), "RUNNING" | "LOCK WAIT"))
                    })
            });
            held.then_some((waiter, blockers))
        };
        let in_flight: Vec<SessionId> = sessions
            .clone()
            .filter(|s| self.sessions[s.index()].pending.is_some())
            .collect();
        let mut confirmed: Vec<(SessionId, SessionId, Option<String>)> = Vec::new();
        let is_confirmed = |confirmed: &[(SessionId, SessionId, Option<String>)],
                            session: SessionId| {
            confirmed.iter().any(|(s, _, _)| *s == session)
        };
        // Settled from the idle holders outward: a waiter is settled when
        // every transaction it waits for is idle in its transaction or a
        // settled waiter.
        loop {
            let before = confirmed.len();
            for &session in &in_flight {
                if is_confirmed(&confirmed, session) {
                    continue;
                }
                let Some((waiter, blockers)) = waiting(session) else {
                    continue;
                };
                let settled = blockers.iter().flatten().all(|b| {
                    self.sessions[b.index()].pending.is_none() || is_confirmed(&confirmed, *b)
                });
                if settled {
                    confirmed.push((session, blockers[0][0], waiter.requested_lock.clone()));
                }
            }
            if confirmed.len() == in_flight.len() {
                return Some(confirmed);
            }
            if confirmed.len() == before {
                break;
            }
        }
        // What is left waits in a cycle, or behind one, that InnoDB's
        // deadlock detector has not broken: it follows one blocker per
        // waiter, so a cycle through another holder of a shared lock can go
        // unseen, and only innodb_lock_wait_timeout ends it. It counts as
        // waiting when the read before this one, also begun after the last
        // answer, showed each of its statements waiting for the same lock:
        // a deadlock InnoDB does find, it finds as the wait begins.
        let previous = previous?;
        for &session in &in_flight {
            if is_confirmed(&confirmed, session) {
                continue;
            }
            let (waiter, blockers) = waiting(session)?;
            let before = previous.by_connection.get(&connection(session))?;
            if before.state != "LOCK WAIT" || before.requested_lock != waiter.requested_lock {
                return None;
            }
            confirmed.push((session, blockers[0][0], waiter.requested_lock.clone()));
        }
        Some(confirmed)
    }

    async fn snapshot_after(&self, after: Instant) -> LockSnapshot {
        lock_snapshot(&self.snapshot, &self.monitor, after).await
    }

    fn in_flight(&self) -> String {
        let texts: Vec<String> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let p = s.pending.as_ref()?;
                Some(format!("T{}'s `{}`", i + 1, p.statement))
            })
            .collect();
        texts.join(", ")
    }
}
