//! Serializable snapshot isolation, as PostgreSQL does it, for what the
//! model's statements touch: serializable transactions leave SIREAD marks on
//! what they read; a concurrent serializable transaction writing a marked
//! target adds a rw-antidependency edge reader -> writer; a transaction that
//! is the pivot of T_in -> T_pivot -> T_out, with T_out committed first (and
//! before T_in, if T_in committed), must not commit: 40001 at its next
//! read, write or COMMIT. As in PostgreSQL (predicate.c), a T_in that is
//! read-only (it committed without writing: PostgreSQL flags such a
//! transaction read-only at commit) makes the structure dangerous only if
//! T_out committed before T_in took its snapshot; otherwise the history is
//! serializable with T_in first.
//!
//! SIREAD marks have the granularity PostgreSQL gives them for the schema
//! stockrace creates: a row read by its primary key marks that row; the
//! availability query scans `reservation` (it has no index on
//! `inventory_level_id`), so it marks the whole table, and any reservation
//! insert conflicts with it, whatever its level.

use crate::statement::LevelId;

/// What a serializable transaction read or wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Row(LevelId),
    /// The reservation table as a whole (a sequential scan's relation lock:
    /// every insert conflicts with it).
    ReservationTable,
}

pub(crate) type SxactId = usize;

#[derive(Clone, Debug, Hash)]
struct Sxact {
    snapshot: u64,
    commit: Option<u64>,
    aborted: bool,
}

#[derive(Clone, Debug, Default, Hash)]
pub(crate) struct Ssi {
    sxacts: Vec<Sxact>,
    reads: Vec<(SxactId, Target)>,
    writes: Vec<(SxactId, Target)>,
    /// rw-antidependencies: (reader, writer).
    edges: Vec<(SxactId, SxactId)>,
}

impl Ssi {
    /// Room for a transaction per session without regrowing.
    pub fn with_capacity(sessions: usize) -> Ssi {
        Ssi {
            sxacts: Vec::with_capacity(sessions),
            ..Ssi::default()
        }
    }

    /// Forgets every transaction, keeping the memory.
    pub fn clear(&mut self) {
        self.sxacts.clear();
        self.reads.clear();
        self.writes.clear();
        self.edges.clear();
    }

    pub fn begin(&mut self, snapshot: u64) -> SxactId {
        self.sxacts.push(Sxact {
            snapshot,
            commit: None,
            aborted: false,
        });
        self.sxacts.len() - 1
    }

    pub fn commit(&mut self, id: SxactId, seq: u64) {
        self.sxacts[id].commit = Some(seq);
    }

    pub fn abort(&mut self, id: SxactId) {
        self.sxacts[id].aborted = true;
    }

    /// Neither committed before the other took its snapshot.
    fn concurrent(&self, a: SxactId, b: SxactId) -> bool {
        let (x, y) = (&self.sxacts[a], &self.sxacts[b]);
        !x.aborted
            && !y.aborted
            && x.commit.map_or(true, |c| c > y.snapshot)
            && y.commit.map_or(true, |c| c > x.snapshot)
    }

    fn add_edge(&mut self, reader: SxactId, writer: SxactId) {
        if reader != writer
            && self.concurrent(reader, writer)
            && !self.edges.contains(&(reader, writer))
        {
            self.edges.push((reader, writer));
        }
    }

    pub fn read(&mut self, reader: SxactId, target: Target) {
        if !self.reads.contains(&(reader, target)) {
            self.reads.push((reader, target));
        }
        let writers: Vec<SxactId> = self
            .writes
            .iter()
            .filter(|w| w.1 == target)
            .map(|w| w.0)
            .collect();
        for writer in writers {
            self.add_edge(reader, writer);
        }
    }

    pub fn write(&mut self, writer: SxactId, target: Target) {
        if !self.writes.contains(&(writer, target)) {
            self.writes.push((writer, target));
        }
        let readers: Vec<SxactId> = self
            .reads
            .iter()
            .filter(|r| r.1 == target)
            .map(|r| r.0)
            .collect();
        for reader in readers {
            self.add_edge(reader, writer);
        }
    }

    /// Whether `id` wrote anything.
    fn wrote(&self, id: SxactId) -> bool {
        self.writes.iter().any(|w| w.0 == id)
    }

    /// Whether `pivot` has an rw-edge in from a live transaction and an
    /// rw-edge out to a transaction that committed first.
    pub fn dangerous(&self, pivot: SxactId) -> bool {
        self.edges.iter().filter(|e| e.0 == pivot).any(|&(_, out)| {
            let out = &self.sxacts[out];
            let Some(out_commit) = out.commit.filter(|_| !out.aborted) else {
                return false;
            };
            self.edges
                .iter()
                .filter(|e| e.1 == pivot)
                .any(|&(tin_id, _)| {
                    let tin = &self.sxacts[tin_id];
                    let read_only = tin.commit.is_some() && !self.wrote(tin_id);
                    !tin.aborted
                        && tin.commit.map_or(true, |c| out_commit <= c)
                        && (!read_only || out_commit <= tin.snapshot)
                })
        })
    }
}
