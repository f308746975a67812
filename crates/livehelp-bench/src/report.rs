//! Results: medians over rounds, ratios to the floor (or to another base target), a Markdown table, a JSON file and an
//! SVG chart of latency percentiles against offered load, all under the results folder.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::chat::Outcome;
use crate::stats::median;
use crate::wire::Target;

/// Medians of one target's chat rounds.
#[derive(Debug, Clone, Serialize)]
pub struct ChatRow {
    /// Target.
    pub target: Target,
    /// Rounds.
    pub rounds: usize,
    /// Offered msg/s.
    pub offered: f64,
    /// Achieved msg/s.
    pub achieved: f64,
    /// End-to-end percentiles, µs.
    pub p50_us: f64,
    /// p90.
    pub p90_us: f64,
    /// p99.
    pub p99_us: f64,
    /// p99.9.
    pub p999_us: f64,
    /// Max.
    pub max_us: f64,
    /// livehelp ack p50, µs.
    pub ack_p50_us: f64,
    /// livehelp ack p99, µs.
    pub ack_p99_us: f64,
    /// Server CPU per message, µs.
    pub cpu_us_per_msg: f64,
    /// Server RSS, KiB.
    pub rss_kib: f64,
    /// Lost + duplicated + reordered over all rounds.
    pub faults: u64,
}

impl ChatRow {
    /// The medians of `outcomes` (all of one target).
    pub fn of(outcomes: &[Outcome]) -> Option<ChatRow> {
        let first = outcomes.first()?;
        let pick =
            |field: fn(&Outcome) -> f64| median(&outcomes.iter().map(field).collect::<Vec<_>>());
        Some(ChatRow {
            target: first.target,
            rounds: outcomes.len(),
            offered: first.offered,
            achieved: pick(|o| o.achieved),
            p50_us: pick(|o| o.end_to_end.p50_us),
            p90_us: pick(|o| o.end_to_end.p90_us),
            p99_us: pick(|o| o.end_to_end.p99_us),
            p999_us: pick(|o| o.end_to_end.p999_us),
            max_us: pick(|o| o.end_to_end.max_us),
            ack_p50_us: pick(|o| o.ack.p50_us),
            ack_p99_us: pick(|o| o.ack.p99_us),
            cpu_us_per_msg: pick(|o| o.server_cpu_us_per_msg),
            rss_kib: pick(|o| o.server_rss_kib as f64),
            faults: outcomes
                .iter()
                .map(|o| o.lost + o.duplicated + o.reordered)
                .sum(),
        })
    }
}

/// A Markdown table of chat rows with each figure's ratio to the `base` target's (the
/// floor in the side-by-side scenarios, livehelp on SQLite in `scale`).
pub fn chat_table(rows: &[ChatRow], base: Target) -> String {
    let floor = rows.iter().find(|row| row.target == base);
    let ratio = |value: f64, base: Option<f64>| match base {
        Some(base) if base > 0.0 => format!("{value:.0} ({:.2}×)", value / base),
        _ => format!("{value:.0}"),
    };
    let mut table = String::from(
        "| target | rounds | offered msg/s | achieved msg/s | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | ack p50 / p99 µs | CPU µs/msg | RSS MiB | lost+dup+reord |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in rows {
        let acks = if row.target.is_livehelp() {
            format!("{:.0} / {:.0}", row.ack_p50_us, row.ack_p99_us)
        } else {
            "—".into()
        };
        let _ = writeln!(
            table,
            "| {} | {} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {} |",
            row.target.name(),
            row.rounds,
            row.offered,
            row.achieved,
            ratio(row.p50_us, floor.map(|f| f.p50_us)),
            ratio(row.p90_us, floor.map(|f| f.p90_us)),
            ratio(row.p99_us, floor.map(|f| f.p99_us)),
            ratio(row.p999_us, floor.map(|f| f.p999_us)),
            ratio(row.max_us, floor.map(|f| f.max_us)),
            acks,
            ratio_precise(row.cpu_us_per_msg, floor.map(|f| f.cpu_us_per_msg)),
            row.rss_kib / 1024.0,
            row.faults,
        );
    }
    table
}

fn ratio_precise(value: f64, base: Option<f64>) -> String {
    match base {
        Some(base) if base > 0.0 => format!("{value:.1} ({:.2}×)", value / base),
        _ => format!("{value:.1}"),
    }
}

/// Writes `value` as pretty JSON to `dir/name`.
pub fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// One target's latency curve: (offered msg/s, p50 µs, p99 µs) per ramp step.
#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    /// Target.
    pub target: Target,
    /// Steps.
    pub points: Vec<(f64, f64, f64)>,
}

/// An SVG chart: p99 (solid) and p50 (dashed) end-to-end latency against offered load,
/// both axes logarithmic, one colour per target.
pub fn latency_chart(curves: &[Curve], title: &str) -> String {
    let (width, height) = (760.0, 440.0);
    let (left, right, top, bottom) = (70.0, 170.0, 40.0, 50.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let points = curves.iter().flat_map(|curve| curve.points.iter());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, 0.0f64, f64::MAX, 0.0f64);
    for &(x, p50, p99) in points {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_min = y_min.min(p50.max(1.0));
        y_max = y_max.max(p99.max(1.0));
    }
    if x_max <= 0.0 {
        return String::new();
    }
    let (x_lo, x_hi) = (
        x_min.log10().floor(),
        x_max.log10().ceil().max(x_min.log10().floor() + 1.0),
    );
    let (y_lo, y_hi) = (
        y_min.log10().floor(),
        y_max.log10().ceil().max(y_min.log10().floor() + 1.0),
    );
    let x_of = |x: f64| left + (x.log10() - x_lo) / (x_hi - x_lo) * plot_w;
    let y_of = |y: f64| top + plot_h - (y.max(1.0).log10() - y_lo) / (y_hi - y_lo) * plot_h;
    let colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"];
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='12'>\n\
         <rect width='100%' height='100%' fill='white'/>\n\
         <text x='{left}' y='24' font-size='15'>{title}</text>\n"
    );
    // Grid and axis labels at powers of ten.
    for decade in (x_lo as i32)..=(x_hi as i32) {
        let x = x_of(10f64.powi(decade));
        let _ = writeln!(
            svg,
            "<line x1='{x:.1}' y1='{top}' x2='{x:.1}' y2='{:.1}' stroke='#ddd'/><text x='{x:.1}' y='{:.1}' text-anchor='middle'>{}</text>",
            top + plot_h,
            top + plot_h + 18.0,
            human(10f64.powi(decade))
        );
    }
    for decade in (y_lo as i32)..=(y_hi as i32) {
        let y = y_of(10f64.powi(decade));
        let _ = writeln!(
            svg,
            "<line x1='{left}' y1='{y:.1}' x2='{:.1}' y2='{y:.1}' stroke='#ddd'/><text x='{:.1}' y='{:.1}' text-anchor='end'>{}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0,
            human_micros(10f64.powi(decade))
        );
    }
    let _ = writeln!(
        svg,
        "<text x='{:.1}' y='{:.1}' text-anchor='middle'>offered load, messages per second</text>\n\
         <text transform='translate(16,{:.1}) rotate(-90)' text-anchor='middle'>end-to-end latency (p99 solid, p50 dashed)</text>",
        left + plot_w / 2.0,
        height - 10.0,
        top + plot_h / 2.0
    );
    for (index, curve) in curves.iter().enumerate() {
        let colour = colours[index % colours.len()];
        for (dash, pick) in [("", 2usize), (" stroke-dasharray='5,4'", 1usize)] {
            let path: Vec<String> = curve
                .points
                .iter()
                .map(|point| {
                    let y = if pick == 2 { point.2 } else { point.1 };
                    format!("{:.1},{:.1}", x_of(point.0), y_of(y))
                })
                .collect();
            let _ = writeln!(
                svg,
                "<polyline fill='none' stroke='{colour}' stroke-width='2'{dash} points='{}'/>",
                path.join(" ")
            );
        }
        let legend_y = top + 20.0 * index as f64 + 10.0;
        let _ = writeln!(
            svg,
            "<line x1='{:.1}' y1='{legend_y:.1}' x2='{:.1}' y2='{legend_y:.1}' stroke='{colour}' stroke-width='3'/><text x='{:.1}' y='{:.1}'>{}</text>",
            left + plot_w + 15.0,
            left + plot_w + 40.0,
            left + plot_w + 46.0,
            legend_y + 4.0,
            curve.target.name()
        );
    }
    // The 10 ms line the throughput target is judged by.
    if 10_000f64.log10() <= y_hi {
        let y = y_of(10_000.0);
        let _ = writeln!(
            svg,
            "<line x1='{left}' y1='{y:.1}' x2='{:.1}' y2='{y:.1}' stroke='#444' stroke-dasharray='2,3'/><text x='{:.1}' y='{:.1}'>10 ms</text>",
            left + plot_w,
            left + plot_w + 4.0,
            y + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn human(value: f64) -> String {
    if value >= 1000.0 {
        format!("{}k", value / 1000.0)
    } else {
        format!("{value}")
    }
}

fn human_micros(value: f64) -> String {
    if value >= 1000.0 {
        format!("{} ms", value / 1000.0)
    } else {
        format!("{value} µs")
    }
}

/// A Markdown table of the latency of the messages due inside a burst: per target the
/// median over rounds of p50 / p99 / max, each with its ratio to the floor's.
pub fn burst_table(outcomes: &BTreeMap<&'static str, Vec<Outcome>>, targets: &[Target]) -> String {
    let pick = |target: Target, field: fn(&Outcome) -> f64| {
        outcomes
            .get(target.name())
            .filter(|list| !list.is_empty())
            .map(|list| median(&list.iter().map(field).collect::<Vec<_>>()))
    };
    let fields: [fn(&Outcome) -> f64; 3] =
        [|o| o.burst.p50_us, |o| o.burst.p99_us, |o| o.burst.max_us];
    let mut table = String::from(
        "| target | in the burst: p50 µs | p99 µs | max µs |\n| --- | --- | --- | --- |\n",
    );
    for &target in targets {
        if pick(target, fields[0]).is_none() {
            continue;
        }
        let cells: Vec<String> = fields
            .iter()
            .map(|&field| {
                let value = pick(target, field).unwrap_or_default();
                match pick(Target::Floor, field) {
                    Some(base) if base > 0.0 => format!("{value:.0} ({:.2}×)", value / base),
                    _ => format!("{value:.0}"),
                }
            })
            .collect();
        let _ = writeln!(table, "| {} | {} |", target.name(), cells.join(" | "));
    }
    table
}
