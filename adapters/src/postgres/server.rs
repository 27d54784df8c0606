//! A PostgreSQL server to run on: settings, runtime, connections.

use super::pause::Pausable;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_postgres::{Client, Config, NoTls};

/// How virtual time maps to the server's real time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pacing {
    /// Real milliseconds per virtual millisecond.
    pub real_per_virtual: f64,
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing {
            real_per_virtual: 0.1,
        }
    }
}

impl Pacing {
    pub fn real(&self, virtual_ms: u64) -> Duration {
        Duration::from_secs_f64(virtual_ms as f64 * self.real_per_virtual / 1000.0)
    }
}

pub use crate::driver::ServerError as PgError;

/// One connection a session (an order) uses, with its server process id.
pub(crate) struct SessionConnection {
    pub client: Client,
    pub pid: i32,
    /// Its backend, when this process can stop and continue it.
    pub pausable: Option<Pausable>,
}

/// A PostgreSQL server and the connections stockrace keeps to it.
pub struct PgServer {
    runtime: tokio::runtime::Runtime,
    config: Config,
    pub(crate) monitor: Arc<Client>,
    pool: Mutex<Vec<Arc<SessionConnection>>>,
    next_run: AtomicU64,
    /// Runs whose waiting backends could not be paused (see `pause`).
    pub(crate) unpaused_runs: AtomicU64,
    pub pacing: Pacing,
    /// `host:port/database`, for messages.
    pub description: String,
}

pub(crate) const HOW_TO_START: &str = "start a throwaway server with `pg_virtualenv -t -v 15 <command>` \
     (Debian's postgresql-common), or point stockrace at one with --pg postgresql://user:password@host:port/db \
     or the PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE variables";

impl PgServer {
    /// Connects to the server named by `url`, or by the standard PG*
    /// environment variables (defaults: localhost, 5432, user postgres).
    pub fn connect(url: Option<&str>) -> Result<PgServer, PgError> {
        let config = config(url)?;
        let description = describe(&config);
        // The runtime's threads are made here, before any simulation starts:
        // madsim forbids new system threads inside one.
        let runtime = crate::driver::start_runtime(1)?;
        let monitor = runtime.block_on(open(&config)).map_err(|e| {
            PgError::Unreachable(format!(
                "cannot connect to PostgreSQL at {description}: {}; {HOW_TO_START}",
                explain(&e)
            ))
        })?;
        Ok(PgServer {
            runtime,
            config,
            monitor: Arc::new(monitor.client),
            pool: Mutex::new(Vec::new()),
            next_run: AtomicU64::new(0),
            unpaused_runs: AtomicU64::new(0),
            pacing: Pacing::default(),
            description,
        })
    }

    /// Runs `future` on the server's runtime and waits for its output (see
    /// `driver::call`).
    pub(crate) fn call<R: Send + 'static>(
        &self,
        future: impl Future<Output = R> + Send + 'static,
    ) -> R {
        crate::driver::call(&self.runtime, future)
    }

    /// `n` session connections, opening more if the pool has fewer.
    pub(crate) fn sessions(&self, n: usize) -> Result<Vec<Arc<SessionConnection>>, PgError> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        while pool.len() < n {
            pool.push(self.open_session()?);
        }
        Ok(pool[..n].to_vec())
    }

    /// Closes session connection `index` (dropping the client: the server
    /// ends its backend and rolls back what it had open) and opens another
    /// in its place, as an application does after a crash or a broken
    /// connection.
    pub(crate) fn reconnect(&self, index: usize) -> Result<Arc<SessionConnection>, PgError> {
        let connection = self.open_session()?;
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool[index] = connection.clone();
        Ok(connection)
    }

    /// A new session connection.
    fn open_session(&self) -> Result<Arc<SessionConnection>, PgError> {
        let config = self.config.clone();
        let connection = self.call(async move { open(&config).await }).map_err(|e| {
            PgError::Unreachable(format!(
                "cannot open a session connection to {}: {}",
                self.description,
                explain(&e)
            ))
        })?;
        Ok(Arc::new(connection))
    }

    /// How many runs so far went with the server's waiting backends
    /// running free: their wake-ups raced as the operating system decided
    /// (the server is not on this machine, or a backend would not pause).
    pub fn unpaused_runs(&self) -> u64 {
        self.unpaused_runs.load(Ordering::Relaxed)
    }

    pub(crate) fn next_schema(&self) -> String {
        format!(
            "stockrace_{}_{}",
            std::process::id(),
            self.next_run.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// Opens a connection and drives it on the current runtime.
async fn open(config: &Config) -> Result<SessionConnection, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let row = client
        .query_one(
            "SELECT pid, client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    let pid: i32 = row.get(0);
    let client_port: Option<i32> = row.get::<_, Option<i32>>(1).filter(|p| *p > 0);
    Ok(SessionConnection {
        client,
        pid,
        pausable: Pausable::find(pid, client_port),
    })
}

/// The settings `url` names, or the PG* variables when it is `None`.
pub(crate) fn config(url: Option<&str>) -> Result<Config, PgError> {
    match url {
        Some(url) => url.parse::<Config>().map_err(|e| {
            PgError::Unreachable(format!("--pg {url:?} is not a connection string: {e}"))
        }),
        None => Ok(config_from_env()),
    }
}

fn config_from_env() -> Config {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut config = Config::new();
    let user = var("PGUSER").unwrap_or_else(|| "postgres".to_string());
    config.host(&var("PGHOST").unwrap_or_else(|| "localhost".to_string()));
    config.port(var("PGPORT").and_then(|p| p.parse().ok()).unwrap_or(5432));
    config.dbname(&var("PGDATABASE").unwrap_or_else(|| user.clone()));
    if let Some(password) = var("PGPASSWORD") {
        config.password(password);
    }
    config.user(&user);
    config.connect_timeout(Duration::from_secs(5));
    config
}

pub(crate) fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{host}:{port}/{}",
        config.get_dbname().unwrap_or("(default database)")
    )
}

/// An error with its causes ("invalid configuration: password missing").
pub(crate) fn explain(error: &tokio_postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
