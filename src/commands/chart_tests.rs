//! Tests of the compare chart (a module of chart.rs).

use super::*;

fn point(orders: u32, violations: f64, p99: Option<u64>) -> Point {
    Point {
        orders,
        violations_per_10k: violations,
        p99_latency_ms: p99,
    }
}

/// Three strategies over the default levels 2..32.
fn three() -> Vec<Series> {
    let levels = [2, 4, 8, 16, 32];
    ["naive", "for-update", "optimistic"]
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            strategy: name.to_string(),
            points: levels
                .iter()
                .map(|&n| {
                    let rate = if i == 0 { f64::from(n) * 37.5 } else { 0.0 };
                    point(n, rate, Some(u64::from(n) * (i as u64 + 1) * 3))
                })
                .collect(),
        })
        .collect()
}

fn hex(colour: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2)
}

/// The value of `name="…"` in one element's line of SVG.
fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = element[start..].find('"')?;
    Some(&element[start..start + len])
}

/// Every `<polyline>` as (stroke colour, number of points).
fn polylines(svg: &str) -> Vec<(String, usize)> {
    svg.lines()
        .filter(|l| l.trim_start().starts_with("<polyline"))
        .map(|l| {
            let stroke = attribute(l, "stroke").unwrap_or_default().to_string();
            let points = attribute(l, "points").unwrap_or_default();
            (stroke, points.split_whitespace().count())
        })
        .collect()
}

/// How many `<text>` elements have exactly `content`.
fn texts(svg: &str, content: &str) -> usize {
    svg.matches(&format!(">\n{content}\n</text>")).count()
}

fn render(series: &[Series]) -> String {
    render_svg("stockrace compare: test", series).expect("renders")
}

#[test]
fn is_one_svg_document() {
    let svg = render(&three());
    let trimmed = svg.trim();
    assert!(trimmed.starts_with("<svg"), "{}", &trimmed[..40]);
    assert!(trimmed.ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(texts(&svg, "stockrace compare: test"), 1);
}

#[test]
fn legend_names_each_strategy_once() {
    let svg = render(&three());
    for name in ["naive", "for-update", "optimistic"] {
        assert_eq!(texts(&svg, name), 1, "{name}");
    }
}

#[test]
fn a_polyline_per_series_per_panel_in_its_colour() {
    let svg = render(&three());
    let lines = polylines(&svg);
    // LineSeries draws one <polyline> through all of a series' points;
    // the legend's samples are two-point polylines, and the mesh's are
    // translucent black.
    let data: Vec<_> = lines.iter().filter(|(_, n)| *n == 5).collect();
    assert_eq!(data.len(), 6, "{lines:?}");
    for (index, &colour) in PALETTE[..3].iter().enumerate() {
        let colour = hex(colour);
        let with_colour = lines.iter().filter(|(s, _)| *s == colour);
        assert_eq!(
            with_colour.map(|(_, n)| *n).collect::<Vec<_>>(),
            vec![2, 5, 5],
            "series {index}: legend sample, then one line per panel"
        );
    }
    // Filled circle markers: 5 per panel and 1 in the legend, per series.
    for (index, &colour) in PALETTE[..3].iter().enumerate() {
        let fill = format!("fill=\"{}\"", hex(colour));
        let circles = svg
            .lines()
            .filter(|l| l.starts_with("<circle") && l.contains(&fill))
            .count();
        assert_eq!(circles, 11, "series {index}");
    }
}

#[test]
fn axes_are_labelled_with_the_real_order_counts() {
    let svg = render(&three());
    for level in ["2", "4", "8", "16", "32"] {
        assert!(texts(&svg, level) >= 2, "level {level} in both panels");
    }
    assert_eq!(texts(&svg, "concurrent orders"), 2);
    assert_eq!(texts(&svg, "violations per 10,000 runs"), 1);
    assert_eq!(texts(&svg, "p99 latency (virtual ms)"), 1);
}

#[test]
fn levels_missing_from_one_series_come_from_the_others() {
    let series = vec![
        Series {
            strategy: "a".into(),
            points: vec![point(2, 1.0, Some(5)), point(8, 2.0, Some(7))],
        },
        Series {
            strategy: "b".into(),
            points: vec![point(64, 3.0, Some(9)), point(3, 0.0, Some(1))],
        },
    ];
    let svg = render(&series);
    for level in ["2", "3", "8", "64"] {
        assert!(texts(&svg, level) >= 2, "level {level}");
    }
}

#[test]
fn empty_inputs_render() {
    let svg = render(&[]);
    assert!(svg.trim().ends_with("</svg>"));
    let no_points = [Series {
        strategy: "idle".into(),
        points: vec![],
    }];
    let svg = render(&no_points);
    assert_eq!(texts(&svg, "idle"), 1);
}

#[test]
fn points_without_a_p99_are_skipped() {
    let series = [
        Series {
            strategy: "some".into(),
            points: vec![
                point(2, 0.0, Some(4)),
                point(4, 0.0, None),
                point(8, 0.0, Some(9)),
                point(16, 0.0, Some(12)),
            ],
        },
        Series {
            strategy: "none".into(),
            points: vec![point(2, 5.0, None), point(4, 6.0, None)],
        },
    ];
    let svg = render(&series);
    let lines = polylines(&svg);
    let of = |index: usize| {
        let colour = hex(PALETTE[index]);
        lines
            .iter()
            .filter(|(s, _)| *s == colour)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
    };
    // Legend sample, violations (every point), latency (those with a p99).
    assert_eq!(of(0), vec![2, 4, 3]);
    assert_eq!(of(1), vec![2, 2]);
}

#[test]
fn degenerate_and_extreme_values_render() {
    let one_level = [Series {
        strategy: "single".into(),
        points: vec![point(8, 0.0, Some(0))],
    }];
    let svg = render(&one_level);
    assert!(texts(&svg, "8") >= 2);

    let extreme = [Series {
        strategy: "extreme".into(),
        points: vec![
            point(0, f64::MAX, Some(u64::MAX)),
            point(u32::MAX, f64::NAN, Some(u64::MAX - 1)),
            point(7, f64::INFINITY, None),
            point(9, -1.0, Some(3)),
        ],
    }];
    let svg = render(&extreme);
    assert!(texts(&svg, &u32::MAX.to_string()) >= 2);
    // The y tick labels (the only right-aligned text) stay short enough
    // for the label area, even at f64::MAX and u64::MAX.
    let y_ticks: Vec<&str> = svg
        .split("text-anchor=\"end\"")
        .skip(1)
        .filter_map(|rest| rest.split('\n').nth(1))
        .collect();
    assert!(y_ticks.len() >= 6, "{y_ticks:?}");
    assert!(y_ticks.iter().all(|t| t.len() <= 7), "{y_ticks:?}");
    assert!(y_ticks.contains(&"15E"), "{y_ticks:?}");
}

#[test]
fn more_series_than_colours() {
    let series: Vec<Series> = (0..30)
        .map(|i| Series {
            strategy: format!("strategy-number-{i}"),
            points: vec![point(2, f64::from(i), Some(i as u64)), point(4, 1.0, None)],
        })
        .collect();
    let svg = render(&series);
    for s in &series {
        assert_eq!(texts(&svg, &s.strategy), 1);
    }
    // Series 12 shares series 0's colour but not its marker.
    assert_ne!(look(0).0, look(1).0);
    assert_eq!(look(0).0, look(12).0);
    assert!(!matches!(look(12).1, Marker::Circle));
    // The legend wrapped, so the document grew below the panels.
    let height: u32 = attribute(svg.lines().next().unwrap(), "height")
        .unwrap()
        .parse()
        .unwrap();
    assert!(height > TITLE_HEIGHT + LEGEND_ROW_HEIGHT + PANEL_HEIGHT + 10);
}

#[test]
fn names_are_escaped() {
    let series = [Series {
        strategy: "a<b & \"c\"".into(),
        points: vec![point(2, 1.0, Some(1))],
    }];
    let svg = render(&series);
    assert_eq!(texts(&svg, "a&lt;b &amp; &quot;c&quot;"), 1);
}

#[test]
fn deterministic() {
    assert_eq!(render(&three()), render(&three()));
    let series: Vec<Series> = (0..20)
        .map(|i| Series {
            strategy: format!("s{i}"),
            points: vec![point(2, 0.5, Some(1)), point(32, 99.0, None)],
        })
        .collect();
    assert_eq!(render(&series), render(&series));
}

#[test]
fn tick_labels() {
    assert_eq!(tick_label(0.0), "0");
    assert_eq!(tick_label(0.30000000000000004), "0.3");
    assert_eq!(tick_label(0.25), "0.25");
    assert_eq!(tick_label(2500.0), "2500");
    assert_eq!(tick_label(12_500.0), "12.5k");
    assert_eq!(tick_label(2_000_000.0), "2M");
    assert_eq!(tick_label(u64::MAX as f64), "18.4E");
    assert_eq!(tick_label(999e18), "999E");
    assert_eq!(tick_label(5e21), "5.0e21");
    assert_eq!(tick_label(1e300), "1.0e300");
    assert_eq!(tick_label(f64::NAN), "");
}

#[test]
fn coinciding_lines_are_drawn_apart() {
    // Two unsafe strategies at 10,000 per 10k at every level, two safe ones at 0.
    let levels = [2, 4, 8];
    let series: Vec<Series> = ["unsafe-a", "unsafe-b", "safe-a", "safe-b"]
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            strategy: name.to_string(),
            points: levels
                .iter()
                .map(|&n| point(n, if i < 2 { 10_000.0 } else { 0.0 }, Some(5)))
                .collect(),
        })
        .collect();
    let svg = render(&series);
    let points = |colour: RGBColor| -> Vec<String> {
        svg.lines()
            .filter(|l| l.trim_start().starts_with("<polyline"))
            .filter(|l| attribute(l, "stroke") == Some(hex(colour).as_str()))
            .filter_map(|l| attribute(l, "points").map(str::to_string))
            .filter(|p| p.split_whitespace().count() == 3)
            .collect()
    };
    let lines: Vec<Vec<String>> = PALETTE[..4].iter().map(|&c| points(c)).collect();
    for line in &lines {
        assert_eq!(line.len(), 2, "one line per panel: {lines:?}");
    }
    // In each panel, every series' line is somewhere of its own.
    for panel in 0..2 {
        let mut drawn: Vec<&String> = lines.iter().map(|l| &l[panel]).collect();
        drawn.sort();
        drawn.dedup();
        assert_eq!(drawn.len(), 4, "panel {panel}: {lines:?}");
    }
}
