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
use stockrace_model::{Assign, Guard, Update};

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
    release_all(&mut db, &leases).await;
    result
}

/// [`lease_lock`] with fencing: on taking its leases the order claims each
/// row with its token (`UPDATE ... SET version = token WHERE version <
/// token`, on its own), and its write checks the row still carries it
/// (`... AND version = token`). A holder that lost its lease finds the
/// next holder's token there, writes nothing, and starts over; the claim
/// before the read means it cannot have read a value the next holder then
/// changed. Safe under pauses.
pub async fn lease_lock_fenced(mut db: Session, order: Order) -> StrategyResult {
    for n in 0..MAX_ATTEMPTS {
        if n > 0 {
            db.sleep(Duration::from_millis(1 << (n - 1).min(10))).await;
        }
        let Some(leases) = acquire_all(&mut db, &order).await else {
            return Ok(Sale::GaveUp);
        };
        let result = fenced_attempt(&mut db, &order, &leases).await;
        release_all(&mut db, &leases).await;
        match result? {
            Some(sale) => return Ok(sale),
            // Fenced out: a newer holder claimed a row.
            None => {}
        }
    }
    Ok(Sale::GaveUp)
}

/// One attempt under `leases`: `None` if a newer lease holder fenced it out.
async fn fenced_attempt(
    db: &mut Session,
    order: &Order,
    leases: &[(Line, u64)],
) -> Result<Option<Sale>, stockrace_model::DbError> {
    for &(line, token) in leases {
        let claim = Update {
            version: Assign::Set(token as i64),
            guard: Guard::VersionBelow(token as i64),
            ..Update::new(line.level)
        };
        if db.update(claim).await?.is_none() {
            return Ok(None);
        }
    }
    db.begin(order.isolation).await?;
    for &(line, token) in leases {
        let row = db.select(line.level).await?;
        if row.stocked < line.quantity {
            return reject_out_of_stock(db).await.map(Some);
        }
        let write = Update {
            stocked: Assign::Set(row.stocked - line.quantity),
            guard: Guard::Version(token as i64),
            ..Update::new(line.level)
        };
        if db.update(write).await?.is_none() {
            db.rollback().await?;
            return Ok(None);
        }
    }
    commit_sale(db).await.map(Some)
}

/// A lease on each of the order's levels, in level order, with its token;
/// `None` if one could not be had in [`LEASE_POLLS`] tries (the ones taken
/// are released).
async fn acquire_all(db: &mut Session, order: &Order) -> Option<Vec<(Line, u64)>> {
    let mut lines = lines_in_lock_order(order).into_owned();
    lines.sort_by_key(|l| l.level);
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
