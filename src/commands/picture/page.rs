//! The HTML reports: one self-contained page (inline CSS, SVG and a few
//! lines of script for sorting the table; no fonts, images or anything
//! else fetched) built from a [`Report`], whichever command made it.

use maud::{html, Markup, PreEscaped, DOCTYPE};

/// A table whose columns sort when their header is clicked.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A table cell: its text, and the key it sorts by (a number when the
/// column is numeric).
pub struct Cell {
    pub text: String,
    pub sort: String,
    /// Drawn as a finding (an UNSAFE cell).
    pub alarm: bool,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        Cell {
            sort: text.clone(),
            text,
            alarm: false,
        }
    }

    /// A number shown as `text` ("-" when there is none, sorted first).
    pub fn number(text: impl Into<String>, value: Option<f64>) -> Cell {
        Cell {
            text: text.into(),
            sort: value.map_or("-1e300".into(), |v| v.to_string()),
            alarm: false,
        }
    }

    pub fn alarm(mut self, alarm: bool) -> Cell {
        self.alarm = alarm;
        self
    }
}

/// A run worth looking at: a heading, lines about it, the command that
/// replays it, and its timeline.
pub struct Finding {
    pub heading: String,
    pub lines: Vec<String>,
    pub command: Option<String>,
    pub timeline: Option<Markup>,
    /// The run as `replay` prints it, folded away under the picture.
    pub text: Option<String>,
}

pub struct Report {
    /// The page's title and heading.
    pub title: String,
    /// Lines under the heading: the scenario, seeds, totals.
    pub summary: Vec<String>,
    /// An SVG chart (plotters' output), inline.
    pub chart: Option<String>,
    pub table: Option<Table>,
    /// Lines after the table: which strategies were safe, which not.
    pub verdicts: Vec<(String, String)>,
    pub findings: Vec<Finding>,
}

const STYLE: &str = "
body{font-family:'DejaVu Sans',Arial,Helvetica,sans-serif;margin:24px;color:#111;background:#fff}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:18px;margin:28px 0 8px}
p.sr-summary{margin:2px 0;color:#333}
code,pre{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:13px}
pre.sr-command{background:#f4f4f4;padding:8px 10px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere}
table.sr-table{border-collapse:collapse;font-size:13px;margin:8px 0}
table.sr-table th,table.sr-table td{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.sr-table th{background:#eef1f6;cursor:pointer;user-select:none}
table.sr-table th[aria-sort=ascending]::after{content:' \\25B2'}
table.sr-table th[aria-sort=descending]::after{content:' \\25BC'}
table.sr-table td:first-child,table.sr-table th:first-child{text-align:left}
td.sr-alarm{background:#ffdddd;color:#a50f15;font-weight:bold}
.sr-picture{overflow-x:auto;border:1px solid #ddd;margin:8px 0}
.sr-picture svg{display:block}
dl.sr-verdicts dt{font-weight:bold;float:left;clear:left;width:200px}
dl.sr-verdicts dd{margin:0 0 4px 210px}
";

/// Sorts a table by the clicked column (numerically when both keys are
/// numbers), flipping the direction on a second click. Marks the page
/// `data-ready` when it has run, so a test can tell it ran without error.
const SCRIPT: &str = "
(function () {
  document.querySelectorAll('table.sr-table th').forEach(function (th) {
    th.addEventListener('click', function () {
      var table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-sort'), y = b.cells[col].getAttribute('data-sort');
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return c * dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  document.documentElement.setAttribute('data-ready', 'yes');
})();
";

/// The page for `report`.
pub fn render(report: &Report) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (report.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (report.title) }
                @for line in &report.summary {
                    p.sr-summary { (line) }
                }
                @if let Some(chart) = &report.chart {
                    div.sr-picture { (PreEscaped(strip_xml_declaration(chart))) }
                }
                @if let Some(table) = &report.table {
                    table.sr-table {
                        thead { tr { @for h in &table.headers { th { (h) } } } }
                        tbody {
                            @for row in &table.rows {
                                tr {
                                    @for cell in row {
                                        td data-sort=(cell.sort) class=[cell.alarm.then_some("sr-alarm")] { (cell.text) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !report.verdicts.is_empty() {
                    dl.sr-verdicts {
                        @for (term, text) in &report.verdicts {
                            dt { (term) }
                            dd { (text) }
                        }
                    }
                }
                @for finding in &report.findings {
                    h2 { (finding.heading) }
                    @for line in &finding.lines {
                        p.sr-summary { (line) }
                    }
                    @if let Some(command) = &finding.command {
                        pre.sr-command { (command) }
                    }
                    @if let Some(timeline) = &finding.timeline {
                        div.sr-picture { (timeline) }
                    }
                    @if let Some(text) = &finding.text {
                        details {
                            summary { "the run as text" }
                            pre { (text) }
                        }
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string() + "\n"
}

/// plotters writes an SVG document; inline, its XML declaration (if any) goes.
fn strip_xml_declaration(svg: &str) -> &str {
    match svg.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(svg, |(_, body)| body),
        None => svg,
    }
}
