//! Pictures rendered on the server as inline SVG: no script, no external file, readable by
//! screen readers (each chart is an `img` with a title and a description that states every
//! value) and printable. Colours come from the stylesheet's `.series-N` classes.
use maud::{html, Markup};

/// One bar of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
}

/// One line or set of columns of an hourly chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub values: Vec<f64>,
}

/// A "nice" top of the axis: 1, 2, 5 × 10ⁿ at or above `max` (at least 1).
pub fn axis_top(max: f64) -> f64 {
    if max <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * magnitude)
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn slug(title: &str) -> String {
    title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Horizontal bars, one per label (e.g. exceptions by team).
pub fn bar_chart(title: &str, bars: &[Bar], unit: &str) -> Markup {
    let id = slug(title);
    let row = 26.0;
    let label_w = 150.0;
    let width = 640.0;
    let plot_w = width - label_w - 60.0;
    let height = row * bars.len() as f64 + 8.0;
    let top = axis_top(bars.iter().map(|b| b.value).fold(0.0, f64::max));
    let desc: Vec<String> = bars
        .iter()
        .map(|b| format!("{}: {} {unit}", b.label, num(b.value)))
        .collect();
    html! {
        figure.chart {
            svg role="img" aria-labelledby={ (id) "-t " (id) "-d" } viewBox={ "0 0 " (width) " " (height) }
                width=(width) height=(height) preserveAspectRatio="xMinYMin meet" {
                title id={ (id) "-t" } { (title) }
                desc id={ (id) "-d" } { (desc.join("; ")) }
                @for (i, b) in bars.iter().enumerate() {
                    @let y = 4.0 + i as f64 * row;
                    @let w = if top > 0.0 { plot_w * b.value / top } else { 0.0 };
                    text.label x=(label_w - 8.0) y=(y + row * 0.62) text-anchor="end" { (b.label) }
                    rect.track x=(label_w) y=(y + 4.0) width=(plot_w) height=(row - 10.0) rx="3" {}
                    rect class={ "series-" (i % 6) } x=(label_w) y=(y + 4.0) width=(w) height=(row - 10.0) rx="3" {}
                    text.value x=(label_w + w + 6.0) y=(y + row * 0.62) { (num(b.value)) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// Columns per hour of the day, one column per series side by side (e.g. orders received
/// and posted). `hours` labels the x axis; every series has one value per hour.
pub fn hourly_columns(title: &str, hours: &[String], series: &[Series]) -> Markup {
    hourly(title, hours, series, false)
}

/// Lines per hour of the day (e.g. queue depth at the end of each hour).
pub fn hourly_lines(title: &str, hours: &[String], series: &[Series]) -> Markup {
    hourly(title, hours, series, true)
}

fn hourly(title: &str, hours: &[String], series: &[Series], lines: bool) -> Markup {
    let id = slug(title);
    let (width, height) = (720.0, 220.0);
    let (left, right, top_pad, bottom) = (40.0, 10.0, 10.0, 28.0);
    let plot_w = width - left - right;
    let plot_h = height - top_pad - bottom;
    let slots = hours.len().max(1) as f64;
    let slot = plot_w / slots;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let top = axis_top(max);
    let y_of = |v: f64| top_pad + plot_h - plot_h * v / top;
    let desc: Vec<String> = series
        .iter()
        .map(|s| {
            let values: Vec<String> = hours
                .iter()
                .zip(&s.values)
                .filter(|(_, v)| **v > 0.0)
                .map(|(h, v)| format!("{h} {}", num(*v)))
                .collect();
            if values.is_empty() {
                format!("{}: none", s.name)
            } else {
                format!("{}: {}", s.name, values.join(", "))
            }
        })
        .collect();
    let col_w = (slot * 0.8) / series.len().max(1) as f64;
    html! {
        figure.chart {
            svg role="img" aria-labelledby={ (id) "-t " (id) "-d" } viewBox={ "0 0 " (width) " " (height) }
                width=(width) height=(height) preserveAspectRatio="xMinYMin meet" {
                title id={ (id) "-t" } { (title) }
                desc id={ (id) "-d" } { (desc.join(". ")) }
                @for tick in [0.0, 0.5, 1.0] {
                    @let v = top * tick;
                    line.grid x1=(left) x2=(width - right) y1=(y_of(v)) y2=(y_of(v)) {}
                    text.axis x=(left - 6.0) y=(y_of(v) + 4.0) text-anchor="end" { (num(v)) }
                }
                @for (i, h) in hours.iter().enumerate() {
                    @if i % 3 == 0 {
                        text.axis x=(left + slot * (i as f64 + 0.5)) y=(height - 8.0) text-anchor="middle" { (h) }
                    }
                }
                @for (k, s) in series.iter().enumerate() {
                    @if lines {
                        @let points: Vec<String> = s.values.iter().enumerate()
                            .map(|(i, v)| format!("{:.1},{:.1}", left + slot * (i as f64 + 0.5), y_of(*v)))
                            .collect();
                        polyline class={ "line series-" (k % 6) } points=(points.join(" ")) {}
                        @for (i, v) in s.values.iter().enumerate() {
                            circle class={ "series-" (k % 6) } cx=(left + slot * (i as f64 + 0.5)) cy=(y_of(*v)) r="2.5" {}
                        }
                    } @else {
                        @for (i, v) in s.values.iter().enumerate() {
                            @if *v > 0.0 {
                                rect class={ "series-" (k % 6) }
                                    x=(left + slot * i as f64 + slot * 0.1 + col_w * k as f64) y=(y_of(*v))
                                    width=(col_w) height=(top_pad + plot_h - y_of(*v)) {}
                            }
                        }
                    }
                }
                line.axis-line x1=(left) x2=(width - right) y1=(top_pad + plot_h) y2=(top_pad + plot_h) {}
            }
            figcaption {
                (title) ": "
                @for (k, s) in series.iter().enumerate() {
                    span.key { span class={ "swatch series-" (k % 6) } aria-hidden="true" {} (s.name) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_at_a_round_number_above_the_largest_value() {
        assert_eq!(axis_top(0.0), 1.0);
        assert_eq!(axis_top(1.0), 1.0);
        assert_eq!(axis_top(3.0), 5.0);
        assert_eq!(axis_top(7.0), 10.0);
        assert_eq!(axis_top(42.0), 50.0);
        assert_eq!(axis_top(180.0), 200.0);
    }

    #[test]
    fn charts_state_every_value_for_screen_readers() {
        let svg = bar_chart(
            "Exceptions by team",
            &[
                Bar {
                    label: "finance".into(),
                    value: 2.0,
                },
                Bar {
                    label: "operations".into(),
                    value: 0.0,
                },
            ],
            "open",
        )
        .into_string();
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("finance: 2 open; operations: 0 open"), "{svg}");
        let hourly = hourly_columns(
            "Orders per hour",
            &["00:00".into(), "01:00".into()],
            &[Series {
                name: "received",
                values: vec![0.0, 3.0],
            }],
        )
        .into_string();
        assert!(hourly.contains("received: 01:00 3"), "{hourly}");
    }
}
