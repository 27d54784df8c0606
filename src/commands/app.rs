//! `stockrace app`: the application's own order processes, scheduled
//! through the proxy on a real PostgreSQL; `stockrace app replay FILE`
//! replays a kept app run. Both draw the run they show (the first failure,
//! the replayed run) with `--svg` and `--html`, as `replay` does.

use super::json::pretty;
use super::out::{out, outln};
use super::picture::{self, story::Story};
use super::pictures::{Drawn, PictureArgs, Pictures};
use super::progress::Progress;
use super::{seed_range, Bad};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stockrace::adapters::app::{
    AppError, AppExecution, AppFile, AppOptions, AppRegression, AppRunner, AppSweep,
};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AppArgs {
    #[command(subcommand)]
    pub command: Option<AppCommand>,
    #[command(flatten)]
    pub run: AppRunArgs,
}

#[derive(Subcommand)]
pub enum AppCommand {
    /// Replay a kept app regression file and check its expectation.
    Replay(AppReplayArgs),
}

#[derive(Args)]
pub struct AppRunArgs {
    /// The app file (TOML): orders, command, prepare, setup, checks.
    #[arg(required = true)]
    pub file: Option<PathBuf>,
    /// Number of seeds to run.
    #[arg(long, default_value_t = 20)]
    pub seeds: u64,
    /// First seed of the range.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Run each seed this many times and report whether it reproduced
    /// (the same verdict, schedule and trace).
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Keep the first failing run as an app regression file.
    #[arg(long)]
    pub save: bool,
    /// Where --save writes app regression files.
    #[arg(long, default_value = "seeds/app")]
    pub seeds_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the first failing run's timeline as an SVG picture to FILE
    /// (`-`: stdout, and the text goes to stderr); nothing when every
    /// check held.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write a self-contained HTML page with the first failing run's
    /// timeline to FILE (`-`: stdout, and the text goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Args)]
pub struct AppReplayArgs {
    /// The app regression file.
    pub file: PathBuf,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub pictures: PictureArgs,
}

#[derive(Args)]
pub struct ServerArgs {
    /// PostgreSQL connection string (default: the PG* environment variables).
    #[arg(long)]
    pub pg: Option<String>,
}

impl ServerArgs {
    fn options(&self) -> AppOptions {
        AppOptions {
            pg: self.pg.clone(),
            interruptible: true,
        }
    }
}

pub fn app(args: AppArgs) -> Result<ExitCode, Bad> {
    match args.command {
        Some(AppCommand::Replay(replay)) => app_replay(replay),
        None => app_sweep(args.run),
    }
}

fn setup(e: AppError) -> Bad {
    Bad(e.to_string())
}

/// Exit status 130: stopped by Ctrl-C, after cleaning up.
const INTERRUPTED: u8 = 130;

fn load(path: &Path) -> Result<AppFile, Bad> {
    AppFile::load(path).map_err(|e| Bad(e.to_string()))
}

/// Where the pictures go, checked before any run: not over the app file,
/// its setup SQL or `read` (the regression file replayed).
fn pictures(
    args: &PictureArgs,
    json: bool,
    app: &AppFile,
    read: Option<&Path>,
) -> Result<Pictures, Bad> {
    args.outputs(json, &[Some(&app.path), app.setup.as_deref(), read])
}

fn open(app: AppFile, server: &ServerArgs) -> Result<Result<AppRunner, ExitCode>, Bad> {
    match AppRunner::open(app, &server.options()) {
        Ok(runner) => Ok(Ok(runner)),
        Err(AppError::Interrupted) => {
            eprintln!("stockrace: interrupted while preparing the template database; nothing was left behind");
            Ok(Err(ExitCode::from(INTERRUPTED)))
        }
        Err(e) => Err(setup(e)),
    }
}

fn app_sweep(args: AppRunArgs) -> Result<ExitCode, Bad> {
    let path = args.file.clone().expect("clap requires it");
    let seeds = seed_range(args.first_seed, args.seeds)?;
    if args.repeat == 0 {
        return Err(Bad("--repeat 0: each seed must run at least once".into()));
    }
    let app = load(&path)?;
    let picture_args = PictureArgs {
        svg: args.svg.clone(),
        html: args.html.clone(),
    };
    let pictures = pictures(&picture_args, args.json, &app, None)?;
    let mut runner = match open(app, &args.server)? {
        Ok(runner) => runner,
        Err(code) => return Ok(code),
    };
    let progress = Progress::new(seeds.end - seeds.start);
    let report = runner
        .sweep(seeds, args.repeat, &|_| progress.advance(1))
        .map_err(setup)?;
    progress.finish();
    let failure = report.first_failure.as_ref();
    let saved = match (failure, args.save) {
        (Some(execution), true) => {
            let regression = AppRegression::new(&path, &args.seeds_dir, execution);
            Some(regression.save(&args.seeds_dir).map_err(|e| {
                Bad(format!(
                    "cannot save the app regression in {}: {e}",
                    args.seeds_dir.display()
                ))
            })?)
        }
        _ => None,
    };
    let replay = failure.map(|e| {
        format!(
            "stockrace app {} --first-seed {} --seeds 1",
            shlex::try_quote(&path.display().to_string())
                .map_or_else(|_| path.display().to_string(), |q| q.into_owned()),
            e.seed.expect("seeded")
        )
    });
    let written = match failure {
        Some(execution) => {
            let v = execution.violation.as_ref().expect("a failure");
            let title = format!("stockrace app: {}", file_name(&path));
            let source = format!(
                "the first failure of seeds {}..{}: {} of {} run(s) violated a check",
                report.first_seed,
                report.first_seed + report.seeds,
                report.violations,
                report.runs
            );
            let text = format!(
                "{}{}",
                first_failure_line(execution, &v.check, &v.detail),
                execution.render()
            );
            pictures.write_story(&Drawn {
                story: Story::of_app(execution, &runner.app().command.join(" ")),
                caption: picture::app_caption(
                    &title,
                    execution,
                    app_line(&path, runner.app()),
                    Some(source),
                ),
                command: replay.clone(),
                text,
            })?
        }
        None => {
            if pictures.any() {
                eprintln!("stockrace: no run violated a check: there is no failing run to draw (no --svg or --html file written)");
            }
            String::new()
        }
    };
    if args.json {
        let mut output = json!(report);
        output["app"] = json!(path.display().to_string());
        output["server"] = json!(runner.server());
        output["first_failure"] = match failure {
            Some(e) => {
                let mut f = execution_json(e);
                f["replay"] = json!(replay);
                f["saved"] = json!(saved.as_ref().map(|s| s.path.display().to_string()));
                f
            }
            None => serde_json::Value::Null,
        };
        outln!("{}", pretty(&output));
    } else {
        print_sweep(&path, &runner, &report)?;
        if let Some(execution) = failure {
            let v = execution.violation.as_ref().expect("a failure");
            out!("{}", first_failure_line(execution, &v.check, &v.detail));
            if report.failing_seeds.len() > 1 {
                let seeds: Vec<String> = report.failing_seeds.iter().map(u64::to_string).collect();
                outln!("lowest failing seeds: {}", seeds.join(", "));
            }
            outln!("schedule: {:?}", execution.schedule);
            for line in &execution.trace {
                outln!("  {line}");
            }
            outln!("replay: {}", replay.as_deref().unwrap_or_default());
            if let Some(saved) = &saved {
                let verb = if saved.new {
                    "kept as"
                } else {
                    "already kept as"
                };
                outln!(
                    "{verb} {} (replay: stockrace app replay {})",
                    saved.path.display(),
                    saved.path.display()
                );
            }
            out!("{written}");
        } else if report.runs > 0 {
            outln!("every check held");
        }
    }
    Ok(if report.interrupted {
        ExitCode::from(INTERRUPTED)
    } else {
        super::exit_for(report.violations > 0)
    })
}

/// `app: FILE | 2 orders of `COMMAND``: the app run in one line.
fn app_line(path: &Path, app: &AppFile) -> String {
    format!(
        "app: {} | {} orders of `{}`",
        path.display(),
        app.orders,
        app.command.join(" ")
    )
}

/// `first failure: seed 0, no-oversell: ...`, with its newline.
fn first_failure_line(execution: &AppExecution, check: &str, detail: &str) -> String {
    format!(
        "first failure: seed {}, {check}: {detail}\n",
        execution.seed.expect("seeded")
    )
}

/// The file's name, for a title (the whole path if it has none).
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn print_sweep(path: &Path, runner: &AppRunner, report: &AppSweep) -> Result<(), Bad> {
    let app = runner.app();
    outln!(
        "{} | PostgreSQL at {}",
        app_line(path, app),
        runner.server()
    );
    let end = report.first_seed + report.seeds;
    let interrupted = if report.interrupted {
        " (interrupted by Ctrl-C: counts cover the runs done)"
    } else {
        ""
    };
    outln!(
        "seeds {}..{end}: {} runs, {} violations{interrupted}",
        report.first_seed,
        report.runs,
        report.violations
    );
    for (check, count) in &report.by_check {
        outln!("  {check}: {count}");
    }
    outln!(
        "orders: {} sold, {} out of stock, {} failed, {} unfinished",
        report.sold,
        report.out_of_stock,
        report.failed,
        report.unfinished
    );
    for why in &report.failures {
        outln!("  failed: {why}");
    }
    if report.runs_with_stalls > 0 {
        outln!(
            "stalls: in {} run(s) an order ran its own code past settle_ms ({} ms) without a statement: it waited on something the proxy cannot see (an in-process lock, a timer); those runs are timed, not fully scheduled",
            report.runs_with_stalls, app.settle_ms
        );
    }
    if let Some(repeat) = &report.repeat {
        outln!(
            "repeat: {} of {} seeds reproduced over {} runs each (same verdict, schedule and trace)",
            repeat.reproduced, repeat.seeds, repeat.runs_per_seed
        );
        for (seed, what) in &repeat.differing {
            outln!("  seed {seed}: {what}");
        }
    }
    let t = &report.mean_timing;
    outln!(
        "time per run: {:.0} ms (database copy {:.0}, start to ready {:.0}, statements {:.0}, checks {:.0})",
        t.copy_ms + t.boot_ms + t.steps_ms + t.checks_ms,
        t.copy_ms,
        t.boot_ms,
        t.steps_ms,
        t.checks_ms
    );
    Ok(())
}

fn execution_json(execution: &AppExecution) -> serde_json::Value {
    json!({
        "seed": execution.seed,
        "schedule": execution.schedule,
        "steps": execution.steps,
        "verdict": match &execution.violation {
            None => json!({"holds": true}),
            Some(v) => json!({"holds": false, "check": v.check, "detail": v.detail}),
        },
        "trace": execution.trace,
        "orders": execution.orders,
        "stalls": execution.stalls,
    })
}

fn app_replay(args: AppReplayArgs) -> Result<ExitCode, Bad> {
    let regression = AppRegression::load(&args.file).map_err(|e| Bad(e.to_string()))?;
    if let Some(name) = &regression.rust_app {
        return Err(Bad(format!(
            "{}: kept by the Rust App {name:?}, whose orders are closures in a test, not an app file: replay it from that test with `STOCKRACE_REPLAY={} cargo test <the test>`",
            args.file.display(),
            args.file.display()
        )));
    }
    let app_path = regression.app_path(&args.file);
    let app = load(&app_path)?;
    let pictures = pictures(&args.pictures, args.json, &app, Some(&args.file))?;
    let mut runner = match open(app, &args.server)? {
        Ok(runner) => runner,
        Err(code) => return Ok(code),
    };
    let (execution, schedule_divergence) =
        match runner.run_schedule(&regression.schedule, regression.seed) {
            Ok(run) => run,
            Err(AppError::Interrupted) => return Ok(ExitCode::from(INTERRUPTED)),
            Err(e) => return Err(setup(e)),
        };
    let divergence = regression.divergence(&execution).or(schedule_divergence);
    let expectation = regression.check(&execution);
    let mut text = format!(
        "app replay: {} | {} orders | seed {} | schedule {:?}\n",
        app_path.display(),
        execution.orders.len(),
        execution.seed.map_or("none".to_string(), |s| s.to_string()),
        execution.schedule
    );
    text += &execution.render();
    if let Some(d) = &divergence {
        text += &format!("divergence: {d}\n");
    }
    text += &match &expectation {
        Ok(()) => "expectation: met\n".to_string(),
        Err(why) => format!("expectation: NOT met: {why}\n"),
    };
    let shown = args.file.display().to_string();
    let written = pictures.write_story(&Drawn {
        story: Story::of_app(&execution, &runner.app().command.join(" ")),
        caption: picture::app_caption(
            &format!("stockrace app replay: {}", file_name(&app_path)),
            &execution,
            app_line(&app_path, runner.app()),
            Some(format!("app regression file: {shown}")),
        ),
        command: Some(format!(
            "stockrace app replay {}",
            shlex::try_quote(&shown).map_or_else(|_| shown.clone(), |q| q.into_owned())
        )),
        text: text.clone(),
    })?;
    if args.json {
        let mut output = execution_json(&execution);
        output["app"] = json!(app_path.display().to_string());
        output["divergence"] = json!(divergence);
        output["expectation_met"] = json!(expectation.is_ok());
        outln!("{}", pretty(&output));
    } else {
        out!("{text}{written}");
    }
    Ok(super::exit_for(expectation.is_err()))
}
