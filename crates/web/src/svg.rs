//! Small server-rendered SVG bar charts for the dashboards: pure string building, no I/O and no
//! JavaScript. Every chart is `role="img"` with a `<title>` and an aria-label; the numbers
//! themselves are always shown in a table beside it, so the chart is never the only source.

use std::fmt::Write;

/// One series of bars (e.g. "Tiếp nhận"); `None` is a missing value (no bar, "—").
pub struct Series<'a> {
    pub name: &'a str,
    /// A CSS class for the bars (`s-received`, `s-resolved`, `s-rate`).
    pub class: &'a str,
    pub values: &'a [Option<f64>],
}

pub struct Chart<'a> {
    /// What the chart shows; its `<title>` and aria-label.
    pub title: &'a str,
    /// One label per group of bars (months).
    pub labels: &'a [String],
    pub series: &'a [Series<'a>],
    /// A fixed top of the scale (100 for percentages); None: a round number above the data.
    pub max: Option<f64>,
    /// Appended to values in tooltips and on the axis ("%" or "").
    pub unit: &'a str,
}

pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 36.0;

/// The plot area's height in user units.
pub const PLOT_HEIGHT: f64 = HEIGHT - TOP - BOTTOM;

/// Escapes text for SVG/XML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `x` (1 for nothing to show), so axes read well.
pub fn nice_ceiling(x: f64) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= x - 1e-9)
        .unwrap_or(10.0 * magnitude)
}

/// The height of a bar for `value` on a scale topping out at `max` (clamped to the plot).
pub fn bar_height(value: f64, max: f64) -> f64 {
    if max <= 0.0 || !value.is_finite() {
        return 0.0;
    }
    (value.max(0.0) / max).min(1.0) * PLOT_HEIGHT
}

fn number(v: f64, unit: &str) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}{unit}")
    } else {
        format!("{v:.1}{unit}")
    }
}

/// A grouped bar chart as an inline `<svg>` element.
pub fn bars(c: &Chart) -> String {
    let title = escape(c.title);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#
    );
    let data_max = c
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |m, v| m.max(*v));
    let max = c.max.unwrap_or_else(|| nice_ceiling(data_max));
    let plot_w = WIDTH - LEFT - RIGHT;
    let base = TOP + PLOT_HEIGHT;
    // Axis and three gridlines: 0, half, top.
    for (i, frac) in [0.0, 0.5, 1.0].into_iter().enumerate() {
        let y = base - frac * PLOT_HEIGHT;
        let class = if i == 0 { "axis" } else { "grid" };
        let _ = write!(
            out,
            r#"<line class="{class}" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            escape(&number(max * frac, c.unit))
        );
    }
    let has_data = c.series.iter().any(|s| s.values.iter().any(Option::is_some)) && !c.labels.is_empty();
    if !has_data {
        let _ = write!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">Chưa có số liệu</text></svg>"#,
            LEFT + plot_w / 2.0,
            TOP + PLOT_HEIGHT / 2.0
        );
        return out;
    }
    let groups = c.labels.len() as f64;
    let group_w = plot_w / groups;
    let n = c.series.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / n).max(1.0);
    for (g, label) in c.labels.iter().enumerate() {
        let gx = LEFT + g as f64 * group_w + group_w * 0.1;
        for (k, s) in c.series.iter().enumerate() {
            let Some(v) = s.values.get(g).copied().flatten() else {
                continue;
            };
            let h = bar_height(v, max);
            let _ = write!(
                out,
                r#"<rect class="bar {}" x="{:.1}" y="{:.1}" width="{bar_w:.1}" height="{h:.1}"><title>{}, {}: {}</title></rect>"#,
                escape(s.class),
                gx + k as f64 * bar_w,
                base - h,
                escape(s.name),
                escape(label),
                escape(&number(v, c.unit))
            );
        }
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + (g as f64 + 0.5) * group_w,
            base + 16.0,
            escape(label)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart<'a>(labels: &'a [String], series: &'a [Series<'a>], max: Option<f64>) -> Chart<'a> {
        Chart {
            title: "Hồ sơ tiếp nhận",
            labels,
            series,
            max,
            unit: "",
        }
    }

    #[test]
    fn scales_to_a_round_top() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(10.0), 10.0);
        assert_eq!(nice_ceiling(11.0), 20.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(0.3), 0.5);
        assert_eq!(bar_height(10.0, 10.0), PLOT_HEIGHT);
        assert_eq!(bar_height(5.0, 10.0), PLOT_HEIGHT / 2.0);
        assert_eq!(bar_height(50.0, 10.0), PLOT_HEIGHT, "clamped to the plot");
        assert_eq!(bar_height(3.0, 0.0), 0.0);
    }

    #[test]
    fn bars_are_drawn_to_scale_with_titles() {
        let labels = vec!["10/2026".to_string(), "11/2026".to_string()];
        let received = [Some(4.0), Some(8.0)];
        let series = [Series {
            name: "Tiếp nhận",
            class: "s-received",
            values: &received,
        }];
        let svg = bars(&chart(&labels, &series, None));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#) && svg.contains(r#"aria-label="Hồ sơ tiếp nhận""#));
        assert!(svg.contains("<title>Hồ sơ tiếp nhận</title>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        // Top of the scale is 10: 8 is 80 % of the plot, 4 is 40 %.
        assert!(
            svg.contains(&format!(r#"height="{:.1}""#, PLOT_HEIGHT * 0.8)),
            "{svg}"
        );
        assert!(
            svg.contains(&format!(r#"height="{:.1}""#, PLOT_HEIGHT * 0.4)),
            "{svg}"
        );
        assert!(svg.contains("<title>Tiếp nhận, 11/2026: 8</title>"));
        assert!(svg.contains(">10<"), "the axis tops out at 10");
    }

    #[test]
    fn empty_data_says_so() {
        let svg = bars(&chart(&[], &[], None));
        assert!(svg.contains("Chưa có số liệu"));
        assert!(!svg.contains("<rect"));
        let labels = vec!["11/2026".to_string()];
        let none = [None];
        let series = [Series {
            name: "Tỷ lệ",
            class: "s-rate",
            values: &none,
        }];
        let svg = bars(&Chart {
            unit: "%",
            ..chart(&labels, &series, Some(100.0))
        });
        assert!(svg.contains("Chưa có số liệu") && !svg.contains("<rect"));
        assert!(svg.contains(">100%<"));
    }

    #[test]
    fn text_is_escaped() {
        let labels = vec!["<b>&</b>".to_string()];
        let v = [Some(1.0)];
        let series = [Series {
            name: "\"x\" & 'y'",
            class: "s",
            values: &v,
        }];
        let svg = bars(&Chart {
            title: "A <script>",
            ..chart(&labels, &series, None)
        });
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("A &lt;script&gt;"));
        assert!(svg.contains("&lt;b&gt;&amp;&lt;/b&gt;"));
        assert!(svg.contains("&quot;x&quot; &amp; &#39;y&#39;"));
    }
}
