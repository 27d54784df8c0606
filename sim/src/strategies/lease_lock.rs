//! Read-check-write under a lease from the lease-lock service (see
//! [`crate::lease`]), as a team does with a Redis `SET NX PX` lock or an
//! etcd lease to serialise app processes, instead of a database lock.

use super::{
    commit_sale, lines_in_lock_order, read_write, reject_out_of_stock, ReadWrite, Sale,
    StrategyResult, MAX_ATTEMPTS,
};
use crate::connection::Session;
use crate::scenario::{Line, Order};
use std::time::Duration;
use stockrace_model::{Assign, DbError, Guard, Update};

/// Tries for a lease before an order gives up (at a quarter TTL apart,
/// ten TTLs: a holder that vanished has long lost it by then).
const LEASE_POLLS: u32 = 40;

/// Takes a lease on every level the order buys (in level order, so two
/// orders never hold one each of the other's), then reads, checks and
/// writes back `read - q` as plain statements, and releases the leases.
/// Safe while every holder finishes within the TTL; a holder that pauses
/// past it (GC, a stalled VM) writes a stale value after the next holder
/// took the lease: a lost update.
pub async fn lease_lock(mut db: Session, order: Order) -> StrategyResult {
    let Some(leases) = acquire_all(&mut db, &order).await else {
        return Ok(Sale::GaveUp);
    };
    let result = read_write(&mut db, &order, ReadWrite::new(order.isolation)).await;
    if result.is_err() {
        // End the failed transaction before letting the lease go (the
        // connection's close would, after the release).
        let _ = db.rollback().await;
    }
    release_all(&mut db, &leases).await;
    result
}

/// [`lease_lock`] with fencing: on taking its leases the order claims each
/// row with its token (`UPDATE ... SET version = 2·token WHERE version <
/// 2·token`, on its own), and its write checks the row still carries the
/// claim (`... AND version = 2·token`). A holder that lost its lease finds
/// a newer holder's claim there, writes nothing, and starts over; the
/// claim before the read means it cannot have read a value a newer holder
/// then changed. Safe under pauses.
///
/// Why 2·token: the write sets `version = 2·token + 1`, so every write
/// changes the version (an optimistic reader of the same row notices it),
/// and a newer token's claim (at least 2·token + 2) still passes.
/// At REPEATABLE READ and above a newer claim committed after the stale
/// holder's snapshot fails its write with 40001 (or InnoDB's 1020) rather
/// than UPDATE 0: a retryable error is fenced out too.
pub async fn lease_lock_fenced(mut db: Session, order: Order) -> StrategyResult {
    for n in 0..MAX_ATTEMPTS {
        if n > 0 {
            db.sleep(Duration::from_millis(1 << (n - 1).min(10))).await;
        }
        let Some(leases) = acquire_all(&mut db, &order).await else {
            return Ok(Sale::GaveUp);
        };
        let result = fenced_attempt(&mut db, &order, &leases).await;
        if !matches!(result, Ok(Some(_))) {
            // End the attempt's transaction before letting the leases go.
            let _ = db.rollback().await;
        }
        release_all(&mut db, &leases).await;
        match result {
            Ok(Some(sale)) => return Ok(sale),
            // Fenced out: a newer holder claimed a row.
            Ok(None) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Sale::GaveUp)
}

/// One attempt under `leases` (a line per level, with its token): `None`
/// if a newer lease holder fenced it out.
async fn fenced_attempt(
    db: &mut Session,
    order: &Order,
    leases: &[(Line, u64)],
) -> Result<Option<Sale>, DbError> {
    for &(line, token) in leases {
        let claimed = 2 * token as i64;
        let claim = Update {
            version: Assign::Set(claimed),
            guard: Guard::VersionBelow(claimed),
            ..Update::new(line.level)
        };
        if db.update(claim).await?.is_none() {
            return Ok(None);
        }
    }
    db.begin(order.isolation).await?;
    for &(line, token) in leases {
        let claimed = 2 * token as i64;
        let row = db.select(line.level).await?;
        if row.stocked < line.quantity {
            return reject_out_of_stock(db).await.map(Some);
        }
        let write = Update {
            stocked: Assign::Set(row.stocked - line.quantity),
            version: Assign::Set(claimed + 1),
            guard: Guard::Version(claimed),
            ..Update::new(line.level)
        };
        if db.update(write).await?.is_none() {
            return Ok(None);
        }
    }
    commit_sale(db).await.map(Some)
}

/// A lease on each level the order buys, in level order, with its token,
/// as one line per level (two lines of one level are one line of their
/// sum: a lease is taken once); `None` if one could not be had in
/// [`LEASE_POLLS`] tries (the ones taken are released).
async fn acquire_all(db: &mut Session, order: &Order) -> Option<Vec<(Line, u64)>> {
    let mut lines = lines_in_lock_order(order).into_owned();
    lines.sort_by_key(|l| l.level);
    lines.dedup_by(|later, first| {
        let same = later.level == first.level;
        if same {
            first.quantity += later.quantity;
        }
        same
    });
    let ttl_ms = order.lease_ttl_ms;
    let mut leases = Vec::with_capacity(lines.len());
    for line in lines {
        let key = u64::from(line.level.sql_id());
        let mut token = None;
        for poll in 0..LEASE_POLLS {
            if poll > 0 {
                db.sleep(Duration::from_millis((ttl_ms / 4).max(1))).await;
            }
            token = db.lease_acquire(key, ttl_ms).await;
            if token.is_some() {
                break;
            }
        }
        match token {
            Some(token) => leases.push((line, token)),
            None => {
                release_all(db, &leases).await;
                return None;
            }
        }
    }
    Some(leases)
}

/// Releases `leases` (one that ran out is not ours to release: the
/// service says so and nothing happens).
async fn release_all(db: &mut Session, leases: &[(Line, u64)]) {
    for &(line, token) in leases.iter().rev() {
        db.lease_release(u64::from(line.level.sql_id()), token)
            .await;
    }
}
