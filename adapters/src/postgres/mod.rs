//! PostgreSQL as a [`Backend`](stockrace_sim::Backend).
//!
//! - [`server`]: the connection settings, a tokio runtime on its own threads,
//!   a pool of session connections and a monitoring connection.
//! - [`run`]: one run's fresh schema and the state of each session.
//! - [`sql`]: statements to SQL, PostgreSQL's answers to replies.
//! - [`pause`]: stopping waiting backends, so wake-ups happen one at a time.
//!
//! Timing. The scheduler keeps virtual time; PostgreSQL keeps its own. The
//! driver paces them together: when virtual time passes, the driver sleeps
//! that long times [`Pacing::real_per_virtual`], and each session's
//! `deadlock_timeout` and `lock_timeout` are set to their virtual values times
//! the same factor. So the waiter whose deadlock check fires first in the
//! model is the one whose timer fires first on the server. Where the
//! server's backends can be paused (`pause`), a waiting backend is stopped,
//! so its timer is handled only when the scheduler fires it. Elsewhere time
//! the driver itself spends between statements is real time that the model
//! does not see; it is small (milliseconds) next to the paced timeouts (100
//! ms for the default 1 s), but a slow machine can make a deadlock check
//! fire earlier on the server than in the model.

mod pause;
mod run;
mod server;
mod sql;

pub use run::PgBackend;
pub(crate) use server::{config, describe, explain, HOW_TO_START};
pub use server::{Pacing, PgError, PgServer};
