//! The recipes in recipes/ run a sweep as shards on a CI matrix (GitHub
//! Actions) and as a Kubernetes Indexed Job, then merge the shards. This
//! test takes the shard count, the sweep and the commands from the files
//! themselves, runs each shard's command and the merge as separate
//! processes (as the engine would, through the same shell), and checks the
//! merged report equals one unsharded sweep.

mod command;
use command::{stderr, stdout};

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// The value of `key` in a recipe: `KEY: value` (a workflow's env), or the
/// line after `- name: KEY` (a container's env). Quotes are removed.
fn value(text: &str, key: &str) -> String {
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if let Some(v) = line.strip_prefix(&format!("{key}: ")) {
            return unquote(v);
        }
        if line == format!("- name: {key}") {
            let next = lines.next().expect("a value line");
            return unquote(next.strip_prefix("value: ").expect("value: ..."));
        }
    }
    panic!("no {key} in the recipe")
}

fn unquote(v: &str) -> String {
    v.trim().trim_matches('"').to_string()
}

/// The shell commands that run stockrace: `run: stockrace …` or `- stockrace …`.
fn commands(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("run: ").or_else(|| l.strip_prefix("- ")))
        .filter(|l| l.starts_with("stockrace "))
        .map(str::to_string)
        .collect()
}

/// Runs `script` with sh in `dir`, the built stockrace first on PATH.
fn shell(dir: &Path, script: &str, env: &[(&str, String)]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_stockrace")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run sh")
}

/// The unsharded sweep, as JSON.
fn whole(dir: &Path, sweep: &str) -> String {
    let output = shell(dir, &format!("stockrace {sweep} --json"), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn the_github_actions_matrix_and_merge_give_the_unsharded_sweep() {
    let text = fs::read_to_string("recipes/github-actions-sweep.yml").unwrap();
    let shards: u32 = value(&text, "SHARDS").parse().unwrap();
    let sweep = value(&text, "SWEEP");
    let matrix: Vec<String> = (1..=shards).map(|i| i.to_string()).collect();
    assert!(
        text.contains(&format!("shard: [{}]", matrix.join(", "))),
        "the matrix lists shards 1 to {shards}"
    );
    let commands = commands(&text);
    assert_eq!(commands.len(), 2, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let env = [("SHARDS", shards.to_string()), ("SWEEP", sweep.clone())];
    for i in 1..=shards {
        let script = commands[0].replace("${{ matrix.shard }}", &i.to_string());
        let output = shell(dir.path(), &script, &env);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{script}: {}",
            stderr(&output)
        );
    }
    let output = shell(dir.path(), &commands[1], &env);
    assert_eq!(
        output.status.code(),
        Some(1),
        "violations found: {}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("runs"), "the report is in the log");
    let merged = fs::read_to_string(dir.path().join("sweep.json")).unwrap();
    assert_eq!(merged, whole(dir.path(), &sweep));
}

#[test]
fn the_kubernetes_indexed_job_and_merge_give_the_unsharded_sweep() {
    let text = fs::read_to_string("recipes/kubernetes-sweep.yaml").unwrap();
    let shards: u32 = value(&text, "SHARDS").parse().unwrap();
    assert!(text.contains("completionMode: Indexed"));
    assert!(text.contains(&format!("completions: {shards}")));
    let sweep = value(&text, "SWEEP");
    let commands = commands(&text);
    assert_eq!(commands.len(), 2, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    fs::create_dir(&out).unwrap();
    let env = |index: u32| {
        [
            ("SHARDS", shards.to_string()),
            ("SWEEP", sweep.clone()),
            ("OUT", out.display().to_string()),
            ("JOB_COMPLETION_INDEX", index.to_string()),
        ]
    };
    // Kubernetes gives each pod its index, from 0.
    for index in 0..shards {
        let output = shell(dir.path(), &commands[0], &env(index));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let output = shell(dir.path(), &commands[1], &env(0)[..3]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let merged = fs::read_to_string(out.join("sweep.json")).unwrap();
    assert_eq!(merged, whole(dir.path(), &sweep));
}
