//! The order processes and the proxy endpoints they talk to, kept for as
//! long as they can serve: one run each by default, or many runs each when
//! the app file says `reuse = true` (a process that boots for seconds, such
//! as a Node application, then boots once per sweep, not once per run).
//!
//! A reused order, after printing its outcome, reads a line from stdin:
//! `stockrace: next` starts another order (it prints `stockrace: ready`
//! again, then runs), end of input means exit. Between runs the proxy closes
//! every connection the orders have open, and sends new ones to the new
//! run's database (it rewrites the database named in the startup packet),
//! so a pool reconnects to a fresh copy for each run.
//!
//! [`Endpoints`] are the proxy's half alone: the closure entry
//! ([`App`](super::App)) uses them with no processes.

use super::database::Server;
use super::error::AppError;
use super::file::AppFile;
use super::process::{self, OrderProcess};
use super::proxy::{self, Proxy};
use super::state::Shared;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

/// The proxy's endpoints, one per order, and the state they share with the
/// scheduler: what every kind of order (a process, or a Rust closure) talks
/// to. They serve until dropped.
pub struct Endpoints {
    pub shared: Shared,
    pub proxy: Arc<Proxy>,
    pub ports: Vec<u16>,
    /// The listening endpoints' tasks.
    _tasks: JoinSet<()>,
}

impl Endpoints {
    /// Binds one endpoint per order on 127.0.0.1 and serves them (in the
    /// current tokio runtime).
    pub fn open(orders: usize, server: &Server) -> Result<Endpoints, AppError> {
        let shared = Shared::new(orders);
        let listeners = proxy::bind(orders)
            .map_err(|e| AppError::Setup(format!("cannot open the proxy's endpoints: {e}")))?;
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<Result<Vec<u16>, _>>()
            .map_err(|e| AppError::Setup(e.to_string()))?;
        let proxy = Arc::new(Proxy::new(shared.clone(), server.upstream.clone(), orders));
        let mut tasks = JoinSet::new();
        proxy::serve_all(proxy.clone(), listeners, &mut tasks)
            .map_err(|e| AppError::Setup(format!("cannot serve the proxy's endpoints: {e}")))?;
        Ok(Endpoints {
            shared,
            proxy,
            ports,
            _tasks: tasks,
        })
    }

    /// Points the endpoints at a new run's `database`: the last run's
    /// connections are closed, new ones go there, the run state is fresh.
    pub async fn start_run(&self, database: &str) {
        self.proxy.set_database(database);
        self.proxy.close_connections().await;
        self.shared.reset_run();
    }
}

pub struct Fleet {
    pub endpoints: Endpoints,
    processes: Vec<Option<OrderProcess>>,
    reuse: bool,
}

impl Fleet {
    pub fn open(app: &AppFile, server: &Server) -> Result<Fleet, AppError> {
        Ok(Fleet {
            endpoints: Endpoints::open(app.orders, server)?,
            processes: (0..app.orders).map(|_| None).collect(),
            reuse: app.reuse,
        })
    }

    /// Readies the fleet for a run on `database`: new connections go there,
    /// old ones are closed, and every order is started or told to go on.
    pub async fn start_run(
        &mut self,
        app: &AppFile,
        server: &Server,
        database: &str,
    ) -> Result<(), AppError> {
        self.endpoints.start_run(database).await;
        let Endpoints {
            shared,
            proxy,
            ports,
            ..
        } = &self.endpoints;
        for (order, &port) in ports.iter().enumerate() {
            let alive =
                self.processes[order].is_some() && shared.lock().orders[order].exit.is_none();
            if alive {
                let next = self.processes[order]
                    .as_mut()
                    .and_then(|p| p.stdin.as_mut())
                    .expect("a reused process has stdin");
                if next.write_all(b"stockrace: next\n").await.is_ok() && next.flush().await.is_ok()
                {
                    continue;
                }
            }
            // Gone (or never started): a fresh process, on this run's database.
            if let Some(mut old) = self.processes[order].take() {
                old.stop().await;
            }
            shared.lock().orders[order].new_process();
            let mut command = process::command(&app.dir, &app.command);
            command
                .envs(server.environment(database, Some(port)))
                .env("STOCKRACE_ORDER", order.to_string());
            let started = process::spawn(command, order, shared, self.reuse)?;
            proxy.set_stdout(order, started.stdout_fd);
            self.processes[order] = Some(started);
        }
        Ok(())
    }

    /// Ends a run: closes the orders' connections, and stops every process
    /// that cannot serve another run (all of them, without `reuse`).
    pub async fn end_run(&mut self) {
        self.endpoints.proxy.close_connections().await;
        for order in 0..self.processes.len() {
            let keep = {
                let state = self.endpoints.shared.lock();
                let o = &state.orders[order];
                self.reuse && o.exit.is_none() && o.outcome.is_some()
            };
            if !keep {
                if let Some(mut process) = self.processes[order].take() {
                    process.stop().await;
                }
            }
        }
    }

    /// Stops every process: end of input first (a reused order exits on
    /// its own), then its process group is killed.
    pub async fn stop(&mut self) {
        for process in self
            .processes
            .iter_mut()
            .filter_map(Option::take)
            .collect::<Vec<_>>()
            .iter_mut()
        {
            process.stop().await;
        }
        self.endpoints.proxy.close_connections().await;
    }
}
