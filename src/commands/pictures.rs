//! `--svg FILE` and `--html FILE` for the commands that show one run
//! (replay, check, shrink; `app` and `app replay`): its timeline as a
//! picture, or a page around it. Written like every other output file
//! (see [`files`](super::files)).

use super::files::{self, Output};
use super::out;
use super::picture::story::Story;
use super::picture::{self, page};
use super::Bad;
use clap::Args;
use std::path::{Path, PathBuf};
use stockrace::{Execution, Scenario};

#[derive(Args)]
pub struct PictureArgs {
    /// Write the run's timeline as an SVG picture to FILE (`-`: stdout, and
    /// the text goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write a self-contained HTML page with the run's timeline to FILE
    /// (`-`: stdout, and the text goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Where the pictures go, checked before any work.
pub struct Pictures {
    svg: Option<Output>,
    html: Option<Output>,
}

/// One run, and what to say about it.
pub struct Shown<'a> {
    pub execution: &'a Execution,
    pub scenario: &'a Scenario,
    /// `stockrace replay: plain-update`
    pub title: String,
    /// The scenario or regression file the run came from.
    pub source: Option<String>,
    /// The command that shows the run again.
    pub command: Option<String>,
    /// The run as the command prints it.
    pub text: String,
}

/// Any run's story (simulated or app), and what to say about it.
pub struct Drawn {
    pub story: Story,
    /// The title, then lines about the run.
    pub caption: Vec<String>,
    /// The command that shows the run again.
    pub command: Option<String>,
    /// The run as the command prints it.
    pub text: String,
}

impl PictureArgs {
    /// `json`: the command prints JSON on stdout, which a picture may not
    /// share; `inputs`: the files it reads, which a picture may not replace.
    /// When a picture goes to stdout, the command's text goes to stderr
    /// from now on.
    pub fn outputs(&self, json: bool, inputs: &[Option<&Path>]) -> Result<Pictures, Bad> {
        let svg = self
            .svg
            .as_deref()
            .map(|p| Output::new("--svg", p))
            .transpose()?;
        let html = self
            .html
            .as_deref()
            .map(|p| Output::new("--html", p))
            .transpose()?;
        if let (Some(svg), Some(html)) = (&svg, &html) {
            files::distinct(("--svg", svg), ("--html", html))?;
        }
        for (flag, output) in [("--svg", &svg), ("--html", &html)] {
            let Some(output) = output else { continue };
            if json {
                files::distinct(("--json", &Output::Stdout), (flag, output))?;
            }
            for input in inputs.iter().flatten() {
                files::not_input(flag, output, input)?;
            }
        }
        let pictures = Pictures { svg, html };
        if pictures.on_stdout() {
            out::text_to_stderr();
        }
        Ok(pictures)
    }
}

impl Pictures {
    /// Some picture was asked for.
    pub fn any(&self) -> bool {
        self.svg.is_some() || self.html.is_some()
    }

    /// A picture goes to stdout.
    pub fn on_stdout(&self) -> bool {
        [&self.svg, &self.html]
            .iter()
            .any(|o| o.as_ref().is_some_and(Output::is_stdout))
    }

    /// Writes the pictures of `run`; returns a line naming each file written.
    pub fn write(&self, run: &Shown) -> Result<String, Bad> {
        if !self.any() {
            return Ok(String::new());
        }
        let caption = picture::caption(&run.title, run.execution, run.scenario, run.source.clone());
        self.write_story(&Drawn {
            story: Story::new(run.execution, run.scenario),
            caption,
            command: run.command.clone(),
            text: run.text.clone(),
        })
    }

    /// Writes the pictures of `run`, whatever kind of run it is.
    pub fn write_story(&self, run: &Drawn) -> Result<String, Bad> {
        let mut written = String::new();
        if let Some(output) = &self.svg {
            output.write(&picture::svg_file(&run.story, &run.caption))?;
            if !output.is_stdout() {
                written += &format!("timeline: {}\n", output.name());
            }
        }
        if let Some(output) = &self.html {
            let report = page::Report {
                title: run.caption[0].clone(),
                summary: run.caption[1..].to_vec(),
                chart: None,
                table: None,
                verdicts: Vec::new(),
                findings: vec![page::Finding {
                    heading: "timeline".into(),
                    lines: Vec::new(),
                    command: run.command.clone(),
                    timeline: Some(picture::draw(&run.story, &run.caption)),
                    text: Some(run.text.clone()),
                }],
            };
            output.write(&page::render(&report))?;
            if !output.is_stdout() {
                written += &format!("page: {}\n", output.name());
            }
        }
        Ok(written)
    }
}
