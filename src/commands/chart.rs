//! The chart `stockrace compare --svg FILE` writes: safety and cost against
//! concurrency, one line per strategy, so that a reader sees at a glance
//! which strategy breaks an invariant as orders pile up and what the
//! others pay for not breaking one.
//!
//! Drawn with plotters' SVG backend into a `String`. Plotters is built
//! without a font feature, so nothing here may depend on measuring text:
//! label areas have explicit sizes, legend widths are estimated from the
//! character count, and the SVG only carries `<text>` elements that the
//! viewer lays out. The output depends on the input alone (no clock, no
//! randomness, no hash-map order), so the same figures give the same file.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeSet;

/// One strategy's line: a point per concurrency level (number of concurrent orders).
pub struct Series {
    pub strategy: String,
    pub points: Vec<Point>,
}

pub struct Point {
    pub orders: u32,
    /// Runs (schedules) that broke an invariant, per 10,000 runs.
    pub violations_per_10k: f64,
    /// 99th percentile order latency in virtual milliseconds; None when no order ended.
    pub p99_latency_ms: Option<u64>,
}

const WIDTH: u32 = 1200;
/// Height of the title band, of one legend row, and of the two panels.
const TITLE_HEIGHT: u32 = 40;
const LEGEND_ROW_HEIGHT: u32 = 22;
const PANEL_HEIGHT: u32 = 450;
/// Padding above and below the legend rows.
const LEGEND_PADDING: u32 = 4;
const MARGIN: i32 = 16;
const FONT: &str = "sans-serif";

/// Length of the line sample in a legend entry, the gap before the name,
/// the gap after it, and a generous width per character of the name (an
/// estimate: there is no font to measure with).
const SWATCH: i32 = 28;
const SWATCH_GAP: i32 = 6;
const ENTRY_GAP: i32 = 24;
const CHAR_WIDTH: i32 = 7;

/// Clearly distinct colours (d3's category10, then indigo and gold),
/// assigned by series index. Past the end the colours repeat with the
/// next marker shape, so no two of the first 48 series look alike.
const PALETTE: [RGBColor; 12] = [
    RGBColor(0x1F, 0x77, 0xB4),
    RGBColor(0xFF, 0x7F, 0x0E),
    RGBColor(0x2C, 0xA0, 0x2C),
    RGBColor(0xD6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xBD),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0xE3, 0x77, 0xC2),
    RGBColor(0x7F, 0x7F, 0x7F),
    RGBColor(0xBC, 0xBD, 0x22),
    RGBColor(0x17, 0xBE, 0xCF),
    RGBColor(0x39, 0x3B, 0x79),
    RGBColor(0xE7, 0xBA, 0x52),
];

#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
}

const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Cross,
];

/// How series `index` is drawn: its colour and its marker.
fn look(index: usize) -> (RGBColor, Marker) {
    let colour = PALETTE[index % PALETTE.len()];
    let marker = MARKERS[(index / PALETTE.len()) % MARKERS.len()];
    (colour, marker)
}

/// An SVG document: two panels side by side sharing the x axis "concurrent orders" — left "violations per 10,000 runs", right "p99 latency (virtual ms)" — with one line (with point markers) per strategy in both panels, the same colour per strategy in both, and a legend naming each strategy once.
pub fn render_svg(title: &str, series: &[Series]) -> Result<String, String> {
    // Every concurrency level any series has, ascending. The x axis places
    // them evenly by index and labels them with the real counts: the
    // default levels double (2, 4, …, 32), so this reads as a log2 axis,
    // and it copes with any levels, 0 included.
    let levels: Vec<u32> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.orders))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let legend = legend_layout(series);
    let legend_rows = legend.last().map_or(0, |entry| entry.row + 1);
    let legend_height = legend_rows * LEGEND_ROW_HEIGHT + 2 * LEGEND_PADDING;
    let height = TITLE_HEIGHT + legend_height + PANEL_HEIGHT;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (title_area, rest) = root.split_vertically(TITLE_HEIGHT);
        let (legend_area, panels) = rest.split_vertically(legend_height);
        let (left, right) = panels.split_horizontally(WIDTH / 2);

        title_area
            .draw(&Text::new(
                title.to_string(),
                (WIDTH as i32 / 2, TITLE_HEIGHT as i32 / 2),
                (FONT, 22)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(|e| e.to_string())?;
        draw_legend(&legend_area, series, &legend)?;
        draw_panel(&left, "violations per 10,000 runs", &levels, series, |p| {
            Some(p.violations_per_10k)
        })?;
        draw_panel(&right, "p99 latency (virtual ms)", &levels, series, |p| {
            p.p99_latency_ms.map(|ms| ms as f64)
        })?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Where a series' legend entry goes: its row, and its left edge (pixels
/// from the left of the legend band).
struct LegendEntry {
    row: u32,
    x: i32,
}

/// Lays legend entries out left to right, wrapping to a new row when the
/// next entry would pass the right margin, then centres each row.
fn legend_layout(series: &[Series]) -> Vec<LegendEntry> {
    let usable = WIDTH as i32 - 2 * MARGIN;
    let mut entries: Vec<LegendEntry> = Vec::with_capacity(series.len());
    let mut widths = Vec::with_capacity(series.len());
    let (mut row, mut x) = (0, 0_i32);
    for s in series {
        let chars = i32::try_from(s.strategy.chars().count()).unwrap_or(i32::MAX);
        let name_width = chars.saturating_mul(CHAR_WIDTH);
        let width = (SWATCH + SWATCH_GAP).saturating_add(name_width);
        if x > 0 && x.saturating_add(width) > usable {
            row += 1;
            x = 0;
        }
        entries.push(LegendEntry { row, x });
        widths.push(width);
        x = x.saturating_add(width + ENTRY_GAP);
    }
    // Centre each row: shift its entries by half of what is left over.
    let mut start = 0;
    while start < entries.len() {
        let row = entries[start].row;
        let end = start + entries[start..].iter().take_while(|e| e.row == row).count();
        let used = entries[end - 1].x.saturating_add(widths[end - 1]);
        let shift = MARGIN + (usable - used).max(0) / 2;
        for entry in &mut entries[start..end] {
            entry.x = entry.x.saturating_add(shift);
        }
        start = end;
    }
    entries
}

fn draw_legend(
    area: &DrawingArea<SVGBackend, Shift>,
    series: &[Series],
    layout: &[LegendEntry],
) -> Result<(), String> {
    for (index, (s, entry)) in series.iter().zip(layout).enumerate() {
        let (colour, marker) = look(index);
        let y = (LEGEND_PADDING + entry.row * LEGEND_ROW_HEIGHT + LEGEND_ROW_HEIGHT / 2) as i32;
        let style = colour.stroke_width(2);
        area.draw(&PathElement::new(
            vec![(entry.x, y), (entry.x + SWATCH, y)],
            style,
        ))
        .map_err(|e| e.to_string())?;
        draw_marker(area, (entry.x + SWATCH / 2, y), marker, colour)?;
        area.draw(&Text::new(
            s.strategy.clone(),
            (entry.x + SWATCH + SWATCH_GAP, y),
            (FONT, 16)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// One panel: `value` of every point against concurrency, a line with
/// markers per series. Points for which `value` is None, negative or not
/// finite are left out (a p99 with no finished order, a nonsensical rate).
fn draw_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    y_desc: &str,
    levels: &[u32],
    series: &[Series],
    value: impl Fn(&Point) -> Option<f64>,
) -> Result<(), String> {
    // Each series' plottable points as (level index, value), in level order.
    let lines: Vec<Vec<(usize, f64)>> = series
        .iter()
        .map(|s| {
            let mut line: Vec<(usize, f64)> = s
                .points
                .iter()
                .filter_map(|p| {
                    let y = value(p).filter(|y| y.is_finite() && *y >= 0.0)?;
                    let x = levels.binary_search(&p.orders).ok()?;
                    Some((x, y))
                })
                .collect();
            line.sort_by_key(|&(x, _)| x);
            line
        })
        .collect();

    // From 0 to the highest value plus a tenth, and at least to 1 so that
    // an all-zero panel still has an axis. Capped to stay finite.
    let highest = lines
        .iter()
        .flatten()
        .map(|&(_, y)| y)
        .fold(0.0_f64, f64::max);
    let top = (highest * 1.1).clamp(1.0, f64::MAX);

    // Lines that coincide (unsafe strategies all at 10,000 per 10k, safe
    // ones all at 0) are drawn about 4 px apart, each later series further
    // from the edge it sits on, so that every one stays visible.
    let step = top / f64::from(PANEL_HEIGHT) * 4.0;
    let lines: Vec<Vec<(usize, f64)>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            line.iter()
                .map(|&(x, y)| {
                    let before = lines[..i].iter().filter(|l| l.contains(&(x, y))).count();
                    let away = if y > top / 2.0 { -1.0 } else { 1.0 };
                    (x, y + away * before as f64 * step)
                })
                .collect()
        })
        .collect();

    let x_label = |x: &usize| levels.get(*x).map_or_else(String::new, u32::to_string);
    let y_label = |y: &f64| tick_label(*y);

    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(LevelAxis(levels.len()), 0.0..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("concurrent orders")
        .y_desc(y_desc)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .y_labels(6)
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.12))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| e.to_string())?;

    for (index, line) in lines.iter().enumerate() {
        let (colour, marker) = look(index);
        // One point draws no line, only its marker.
        if line.len() >= 2 {
            chart
                .draw_series(LineSeries::new(
                    line.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
        }
        for &at in line {
            draw_marker(chart.plotting_area(), at, marker, colour)?;
        }
    }
    Ok(())
}

/// The x axis: `n` concurrency levels by index, each in the middle of an
/// equal slot, with a tick (and a grid line) at every one. Its labels come
/// from the panel's formatter, which turns an index into the real count.
struct LevelAxis(usize);

impl Ranged for LevelAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = usize;

    fn map(&self, index: &usize, (from, to): (i32, i32)) -> i32 {
        let slots = self.0.max(1) as f64;
        let centre = (*index as f64 + 0.5) / slots;
        from + (f64::from(to - from) * centre).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<usize> {
        // Only bold points: no light grid lines between levels.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            (0..self.0).collect()
        }
    }

    fn range(&self) -> std::ops::Range<usize> {
        0..self.0
    }
}

/// Draws a marker centred on `at`, sized in pixels. (Not a `DynElement`:
/// plotters only draws those for a `'static` backend, and this one borrows
/// the output string.)
fn draw_marker<CT: CoordTranslate>(
    area: &DrawingArea<SVGBackend, CT>,
    at: CT::From,
    marker: Marker,
    colour: RGBColor,
) -> Result<(), String>
where
    CT::From: Clone,
{
    let filled = colour.filled();
    let at = EmptyElement::at(at);
    match marker {
        Marker::Circle => area.draw(&(at + Circle::new((0, 0), 4, filled))),
        Marker::Triangle => area.draw(&(at + TriangleMarker::new((0, 0), 6, filled))),
        Marker::Square => area.draw(&(at + Rectangle::new([(-4, -4), (4, 4)], filled))),
        Marker::Cross => area.draw(&(at + Cross::new((0, 0), 5, colour.stroke_width(2)))),
    }
    .map_err(|e| e.to_string())
}

/// A y tick label: plain below 10,000 (at most two decimals, trailing
/// zeros dropped), then with a k/M/G/T/P/E suffix so that even
/// `u64::MAX` milliseconds fits the label area, and past that in
/// scientific notation.
fn tick_label(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    if value.abs() >= 1e21 {
        // Past the suffixes (only an absurd rate gets here).
        return format!("{value:.1e}");
    }
    let (scaled, suffix) = [
        (1e18, "E"),
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e4, "k"),
    ]
    .iter()
    .find(|(unit, _)| value.abs() >= *unit)
    .map_or((value, ""), |&(unit, suffix)| {
        // 10,000 and up reads as thousands ("12.5k"), not tens of thousands.
        let unit = if suffix == "k" { 1e3 } else { unit };
        (value / unit, suffix)
    });
    let digits = if suffix.is_empty() { 2 } else { 1 };
    // Always has a decimal point, so only fractional zeros are trimmed.
    let text = format!("{scaled:.digits$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
