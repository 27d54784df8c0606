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

use super::database::Server;
use super::error::AppError;
use super::file::AppFile;
use super::process::{self, OrderProcess};
use super::proxy::{self, Proxy};
use super::state::Shared;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

pub struct Fleet {
    pub shared: Shared,
    pub proxy: Arc<Proxy>,
    ports: Vec<u16>,
    /// The listening endpoints' tasks.
    _endpoints: JoinSet<()>,
    processes: Vec<Option<OrderProcess>>,
    reuse: bool,
}

impl Fleet {
    pub fn open(app: &AppFile, server: &Server) -> Result<Fleet, AppError> {
        let shared = Shared::new(app.orders);
        let listeners = proxy::bind(app.orders)
            .map_err(|e| AppError::Setup(format!("cannot open the proxy's endpoints: {e}")))?;
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<Result<Vec<u16>, _>>()
            .map_err(|e| AppError::Setup(e.to_string()))?;
        let proxy = Arc::new(Proxy::new(
            shared.clone(),
            server.upstream.clone(),
            app.orders,
        ));
        let mut endpoints = JoinSet::new();
        proxy::serve_all(proxy.clone(), listeners, &mut endpoints)
            .map_err(|e| AppError::Setup(format!("cannot serve the proxy's endpoints: {e}")))?;
        Ok(Fleet {
            shared,
            proxy,
            ports,
            _endpoints: endpoints,
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
        self.proxy.set_database(database);
        self.proxy.close_connections().await;
        self.shared.reset_run();
        for order in 0..app.orders {
            let alive =
                self.processes[order].is_some() && self.shared.lock().orders[order].exit.is_none();
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
            self.shared.lock().orders[order].new_process();
            let mut command = process::command(&app.dir, &app.command);
            command
                .envs(server.environment(database, Some(self.ports[order])))
                .env("STOCKRACE_ORDER", order.to_string());
            let started = process::spawn(command, order, &self.shared, self.reuse)?;
            self.proxy.set_stdout(order, started.stdout_fd);
            self.processes[order] = Some(started);
        }
        Ok(())
    }

    /// Ends a run: closes the orders' connections, and stops every process
    /// that cannot serve another run (all of them, without `reuse`).
    pub async fn end_run(&mut self) {
        self.proxy.close_connections().await;
        for order in 0..self.processes.len() {
            let keep = {
                let state = self.shared.lock();
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
        self.proxy.close_connections().await;
    }
}
