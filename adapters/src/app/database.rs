//! The databases of an app sweep: a template made once (the app's `prepare`
//! command, then its `setup` SQL), and for each run a fresh copy
//! (`CREATE DATABASE ... TEMPLATE`) that is dropped when the run ends.
//! Every database made here is remembered until it is dropped, so that no
//! exit path leaves one behind.

use super::error::AppError;
use super::file::{AppFile, Check};
use super::process::{command, stderr_suffix};
use super::proxy::Upstream;
use crate::postgres::{config, describe, explain, HOW_TO_START};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls, SimpleQueryMessage};

/// How long `prepare` may run.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(600);

pub struct Server {
    pub config: Config,
    /// Kept open on the maintenance database: creates and drops databases,
    /// and asks `pg_blocking_pids`.
    pub admin: Client,
    pub description: String,
    pub upstream: Upstream,
    /// Databases made and not dropped yet.
    live: Vec<String>,
}

impl Server {
    pub async fn connect(url: Option<&str>) -> Result<Server, AppError> {
        let mut config = config(url).map_err(|e| AppError::Setup(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let description = describe(&config);
        let admin = open(&config).await.map_err(|e| {
            AppError::Setup(format!(
                "cannot connect to PostgreSQL at {description}: {}; {HOW_TO_START}",
                explain(&e)
            ))
        })?;
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let upstream = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => Upstream::Tcp(host.clone(), port),
            Some(Host::Unix(dir)) => Upstream::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            None => Upstream::Tcp("localhost".into(), port),
        };
        Ok(Server {
            config,
            admin,
            description,
            upstream,
            live: Vec::new(),
        })
    }

    /// A new database name, unique to this process.
    fn name(kind: &str) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        format!(
            "stockrace_{kind}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Makes the template: an empty database, `prepare` run on it, then `setup`.
    pub async fn make_template(&mut self, app: &AppFile) -> Result<String, AppError> {
        let name = Server::name("template");
        self.create(&name, None).await?;
        if let Some(argv) = &app.prepare {
            let mut prepare = command(&app.dir, argv);
            prepare
                .envs(self.environment(&name, None))
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true);
            let run = tokio::time::timeout(PREPARE_TIMEOUT, prepare.output()).await;
            let shown = argv.join(" ");
            match run {
                Err(_) => {
                    return Err(AppError::Setup(format!(
                        "prepare (`{shown}`) ran past {} s",
                        PREPARE_TIMEOUT.as_secs()
                    )))
                }
                Ok(Err(e)) => {
                    return Err(AppError::Setup(format!(
                        "prepare (`{shown}`) could not start: {e}"
                    )))
                }
                Ok(Ok(output)) if !output.status.success() => {
                    return Err(AppError::Setup(format!(
                        "prepare (`{shown}`) failed ({}){}",
                        output.status,
                        stderr_suffix(&String::from_utf8_lossy(&output.stderr))
                    )))
                }
                Ok(Ok(_)) => {}
            }
        }
        if let Some(path) = &app.setup {
            let sql = std::fs::read_to_string(path)
                .map_err(|e| AppError::Setup(format!("{}: cannot read: {e}", path.display())))?;
            self.run_setup(&name, &path.display().to_string(), &sql)
                .await?;
        }
        Ok(name)
    }

    /// Makes a template with only `setup` SQL (named `label` in messages).
    pub async fn make_template_from_sql(
        &mut self,
        label: &str,
        setup: Option<&str>,
    ) -> Result<String, AppError> {
        let name = Server::name("template");
        self.create(&name, None).await?;
        if let Some(sql) = setup {
            self.run_setup(&name, label, sql).await?;
        }
        Ok(name)
    }

    async fn run_setup(&self, database: &str, label: &str, sql: &str) -> Result<(), AppError> {
        let client = self.open_on(database).await?;
        client.batch_execute(sql).await.map_err(|e| {
            AppError::Setup(format!("{label}: the server refused it: {}", explain(&e)))
        })
    }

    /// The databases made here and not dropped yet.
    pub fn live(&self) -> &[String] {
        &self.live
    }

    /// A fresh copy of the template.
    pub async fn copy(&mut self, template: &str) -> Result<String, AppError> {
        let name = Server::name("run");
        self.create(&name, Some(template)).await?;
        Ok(name)
    }

    async fn create(&mut self, name: &str, template: Option<&str>) -> Result<(), AppError> {
        let sql = match template {
            // FILE_COPY copies the template's files whole: for the small
            // databases of a test, about twice as fast as WAL_LOG (measured
            // with `cargo bench --bench app`'s database copy figure).
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\" STRATEGY FILE_COPY"),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        // Remembered first: a create cut short by Ctrl-C is still dropped.
        self.live.push(name.to_string());
        self.admin
            .batch_execute(&sql)
            .await
            .map_err(|e| AppError::Setup(format!("cannot create database {name}: {}", explain(&e))))
    }

    pub async fn drop_database(&mut self, name: &str) -> Result<(), AppError> {
        self.admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .map_err(|e| {
                AppError::Setup(format!("cannot drop database {name}: {}", explain(&e)))
            })?;
        self.live.retain(|n| n != name);
        Ok(())
    }

    /// Drops every database this server made and has not dropped.
    pub async fn drop_all(&mut self) {
        for name in self.live.clone() {
            let _ = self.drop_database(&name).await;
        }
    }

    /// Drops every database made here but `keep`.
    pub async fn drop_all_but(&mut self, keep: &str) {
        for name in self.live.clone() {
            if name != keep {
                let _ = self.drop_database(&name).await;
            }
        }
    }

    /// A connection to `database`.
    pub async fn open_on(&self, database: &str) -> Result<Client, AppError> {
        let mut config = self.config.clone();
        config.dbname(database);
        open(&config)
            .await
            .map_err(|e| AppError::Setup(format!("cannot connect to {database}: {}", explain(&e))))
    }

    /// The PG* variables and DATABASE_URL for a process that should reach
    /// `database`: through the proxy at `port` on 127.0.0.1, or directly.
    pub fn environment(&self, database: &str, proxy_port: Option<u16>) -> Vec<(String, String)> {
        let user = self.config.get_user().unwrap_or("postgres").to_string();
        let password = self
            .config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let (host, port, url_host) = match (proxy_port, &self.upstream) {
            (Some(port), _) => ("127.0.0.1".to_string(), port, format!("127.0.0.1:{port}")),
            (None, Upstream::Tcp(host, port)) => {
                (host.clone(), *port, format!("{}:{port}", bracket(host)))
            }
            (None, Upstream::Unix(socket)) => {
                let dir = socket
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                let port = self.config.get_ports().first().copied().unwrap_or(5432);
                (dir, port, String::new())
            }
        };
        let credentials = match &password {
            Some(p) => format!("{}:{}@", encode(&user), encode(p)),
            None => format!("{}@", encode(&user)),
        };
        let mut url = format!("postgres://{credentials}{url_host}/{}", encode(database));
        if url_host.is_empty() {
            url += &format!("?host={}&port={port}", encode(&host));
        }
        let mut env = vec![
            ("DATABASE_URL".to_string(), url),
            ("PGHOST".to_string(), host),
            ("PGPORT".to_string(), port.to_string()),
            ("PGUSER".to_string(), user),
            ("PGDATABASE".to_string(), database.to_string()),
            ("PGSSLMODE".to_string(), "disable".to_string()),
        ];
        if let Some(p) = password {
            env.push(("PGPASSWORD".to_string(), p));
        }
        env
    }

    /// Runs the checks on `database`: the first that returns a row, and
    /// what it returned.
    pub async fn first_violation(
        &self,
        database: &str,
        checks: &[Check],
        sold: u64,
        sold_orders: u64,
    ) -> Result<Option<(String, String)>, AppError> {
        let client = self.open_on(database).await?;
        for check in checks {
            let sql = check.sql_for(sold, sold_orders);
            let messages = client.simple_query(&sql).await.map_err(|e| {
                AppError::Setup(format!(
                    "check {:?} failed on the server: {} (the SQL was: {sql})",
                    check.name,
                    explain(&e)
                ))
            })?;
            let rows: Vec<String> = messages
                .iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).unwrap_or("NULL").to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    _ => None,
                })
                .collect();
            if !rows.is_empty() {
                let shown: Vec<String> = rows.iter().take(5).map(|r| format!("({r})")).collect();
                let more = if rows.len() > 5 {
                    format!(" and {} more", rows.len() - 5)
                } else {
                    String::new()
                };
                return Ok(Some((
                    check.name.clone(),
                    format!(
                        "{} row(s): {}{more} (sold {sold} unit(s) in {sold_orders} order(s))",
                        rows.len(),
                        shown.join(", ")
                    ),
                )));
            }
        }
        Ok(None)
    }
}

/// Drops `names` from a thread of its own with a runtime of its own: for a
/// session dropped before it could clean up (its future dropped mid-run),
/// where the caller's runtime may be shutting down and cannot be blocked on.
pub fn drop_from_new_thread(config: &Config, names: Vec<String>) {
    let config = config.clone();
    let cleanup = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            if let Ok(client) = open(&config).await {
                for name in names {
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            }
        });
    });
    let _ = cleanup.join();
}

async fn open(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Percent-encoding for the parts of a connection URL.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}
