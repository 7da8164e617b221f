//! The tracking panels of the dashboard, rendered on the server: the KPI tiles of a date range, each line against
//! its SLA target, each line's transit-time distribution as a small inline SVG, the latest stalled-parcel alerts,
//! and the routing experiments' arms. Every KPI value carries `data-kpi="<name>"` and its raw number in
//! `data-value`, so a test (or a script) reads the numbers without parsing their display.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use lastmile_core::routing::experiment;
use lastmile_fn_kpi::api::{self, KpiQuery, Kpis, LineKpis, Report};
use lastmile_platform::config::TenantConfig;
use lastmile_platform::ports::table::{StoreError, TableStore, TenantTable};
use lastmile_platform::repo::shipments;
use lastmile_platform::repo::tracking::{self, AlertRecord, Delivery};

use super::page::escape;

/// Days shown when the page is opened without a range: the last 30, today (or the newest roll-up's day, when it
/// is later) included.
pub const DEFAULT_DAYS: i64 = 30;
/// Alerts listed.
const ALERTS_SHOWN: usize = 20;
/// Shipments of one experiment read at most.
const MAX_EXPERIMENT_SHIPMENTS: usize = 50_000;

/// The range of the query string (`from`, `to`), or the last [`DEFAULT_DAYS`] to `today` with the reason the
/// asked range was not taken.
pub fn range(params: &BTreeMap<String, String>, today: Date) -> (KpiQuery, Option<String>) {
    let fallback = KpiQuery {
        from: today.checked_sub((DEFAULT_DAYS - 1).days()).unwrap_or(today),
        to: today,
        line: None,
        lane: None,
    };
    let asked: BTreeMap<String, String> = params
        .iter()
        .filter(|(k, v)| ["from", "to"].contains(&k.as_str()) && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if asked.is_empty() {
        return (fallback, None);
    }
    match KpiQuery::parse(&asked) {
        Ok(query) => (query, None),
        Err(e) => (fallback, Some(e.0.message)),
    }
}

/// Everything the panels show, read from the store.
pub struct Panels {
    pub query: KpiQuery,
    pub problem: Option<String>,
    pub report: Report,
    pub alerts: Vec<AlertRecord>,
    pub experiments: Vec<ExperimentArms>,
}

/// One experiment's arms with the routing report's tests against the control arm and its recommendation.
pub struct ExperimentArms {
    pub id: String,
    /// Each arm's share of the orders, in the report's arm order.
    pub splits: Vec<u32>,
    pub report: experiment::Report,
}

pub async fn load(
    table: &dyn TableStore,
    tenant: &TenantConfig,
    params: &BTreeMap<String, String>,
    now: Timestamp,
) -> Result<Panels, StoreError> {
    let view = TenantTable::new(table, &tenant.id);
    // Roll-ups dated after today (a simulated season ahead of the calendar) move the default range to them.
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let newest = tracking::latest_kpi_day(&view).await?;
    let (query, problem) = range(params, newest.map_or(today, |day| day.max(today)));
    let report = api::report(table, tenant, &query).await?;
    let alerts = tracking::recent_alerts(&view, ALERTS_SHOWN).await?;
    let mut experiments = Vec::new();
    for config in &tenant.routing.experiments {
        let arms = shipments::arm_outcomes(&view, config, MAX_EXPERIMENT_SHIPMENTS).await?;
        experiments.push(ExperimentArms {
            id: config.id.clone(),
            splits: config.arms.iter().map(|a| a.percent).collect(),
            report: experiment::report(&arms),
        });
    }
    Ok(Panels { query, problem, report, alerts, experiments })
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

fn raw<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

/// A tile: label, shown value, and the raw value in `data-value`.
fn tile(out: &mut String, name: &str, label: &str, shown: &str, value: &str) {
    let _ = write!(
        out,
        r#"<div class="tile" data-kpi="{name}" data-value="{value}" id="kpi-{name}"><span class="label">{label}</span><span class="value">{shown}</span></div>"#,
        name = escape(name),
        value = escape(value),
        label = escape(label),
        shown = escape(shown),
    );
}

fn tiles(total: &Kpis) -> String {
    let mut out = String::from(r#"<div class="tiles">"#);
    tile(&mut out, "shipments", "Shipments", &total.shipments.to_string(), &total.shipments.to_string());
    tile(&mut out, "delivery_rate", "Delivery rate", &percent(total.delivery_rate), &raw(total.delivery_rate));
    tile(&mut out, "within_sla_rate", "Within SLA", &percent(total.within_sla_rate), &raw(total.within_sla_rate));
    let transit = match (total.p50_transit_days, total.p90_transit_days) {
        (Some(p50), Some(p90)) => format!("{p50} / {p90} d"),
        _ => "—".to_owned(),
    };
    tile(&mut out, "p50_transit_days", "Transit p50 / p90", &transit, &raw(total.p50_transit_days));
    tile(&mut out, "p90_transit_days", "Transit p90", &raw(total.p90_transit_days), &raw(total.p90_transit_days));
    tile(&mut out, "exception_rate", "Exception rate", &percent(total.exception_rate), &raw(total.exception_rate));
    tile(&mut out, "pod_compliance", "POD compliance", &percent(total.pod_compliance), &raw(total.pod_compliance));
    let suspect = total.suspect_deliveries.to_string();
    tile(&mut out, "suspect_deliveries", "Suspect deliveries", &suspect, &suspect);
    tile(&mut out, "claim_rate", "Claim rate", &percent(total.claim_rate), &raw(total.claim_rate));
    let cycle = total.average_claim_cycle_days.map_or_else(|| "—".to_owned(), |d| format!("{d:.1} d"));
    tile(&mut out, "average_claim_cycle_days", "Claim cycle", &cycle, &raw(total.average_claim_cycle_days));
    out.push_str("</div>");
    out
}

fn line_table(lines: &[LineKpis]) -> String {
    if lines.is_empty() {
        return r#"<p class="empty">No shipments in this range.</p>"#.to_owned();
    }
    let mut out = String::from(
        "<table><thead><tr><th>Line</th><th>Shipments</th><th>Delivered</th><th>Within SLA</th><th>Target</th><th>p50 / p90</th><th>Exceptions</th></tr></thead><tbody>",
    );
    for line in lines {
        let class = match line.meets_sla {
            Some(true) => "ok",
            Some(false) => "miss",
            None => "none",
        };
        let k = &line.kpis;
        let id = escape(&line.line);
        let _ = write!(
            out,
            r#"<tr data-line="{id}"><td>{id}</td><td data-kpi="line-shipments" data-value="{shipments}">{shipments}</td><td data-kpi="line-delivery_rate" data-value="{dr_raw}">{dr}</td><td class="{class}" data-kpi="line-within_sla_rate" data-value="{sla_raw}">{sla}</td><td>{share} % in {days} d</td><td>{p50} / {p90}</td><td>{exceptions}</td></tr>"#,
            shipments = k.shipments,
            dr_raw = raw(k.delivery_rate),
            dr = percent(k.delivery_rate),
            sla_raw = raw(k.within_sla_rate),
            sla = percent(k.within_sla_rate),
            share = line.sla.share_percent,
            days = line.sla.days,
            p50 = raw(k.p50_transit_days),
            p90 = raw(k.p90_transit_days),
            exceptions = k.exceptions,
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// Bars of delivered shipments by business days in transit, 0 to the longest, the target day marked.
pub fn transit_svg(line: &LineKpis) -> String {
    const W: u32 = 260;
    const H: u32 = 90;
    let histogram = &line.kpis.transit_days;
    let longest = histogram.keys().max().copied().unwrap_or(0).max(line.sla.days);
    let tallest = histogram.values().max().copied().unwrap_or(0).max(1);
    let slots = longest + 1;
    let slot = (W - 10) / slots.max(1);
    let bar = slot.saturating_sub(2).max(1);
    let mut out = format!(
        r#"<figure class="transit" data-line="{id}"><figcaption>{id}</figcaption><svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" aria-label="transit days of {id}">"#,
        id = escape(&line.line)
    );
    for day in 0..=longest {
        let n = histogram.get(&day).copied().unwrap_or(0);
        let height = (n * (H as u64 - 22) / tallest) as u32;
        let x = 5 + day * slot;
        let fill = if day <= line.sla.days { "#2f855a" } else { "#c53030" };
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{y}" width="{bar}" height="{height}" fill="{fill}" data-days="{day}" data-count="{n}"><title>{day} d: {n}</title></rect><text x="{tx}" y="{ty}" font-size="9" text-anchor="middle">{day}</text>"#,
            y = H - 12 - height,
            tx = x + bar / 2,
            ty = H - 2,
        );
    }
    out.push_str("</svg></figure>");
    out
}

fn alerts_table(alerts: &[AlertRecord]) -> String {
    if alerts.is_empty() {
        return r#"<p class="empty">No stalled parcels.</p>"#.to_owned();
    }
    let mut out = String::from(
        "<table><thead><tr><th>Raised</th><th>Shipment</th><th>Level</th><th>Waiting</th><th>Carrier</th><th>Webhook</th></tr></thead><tbody>",
    );
    for record in alerts {
        let a = &record.alert;
        let level = match a.level {
            lastmile_core::tracking::stall::StallLevel::Escalated => "escalated",
            lastmile_core::tracking::stall::StallLevel::Stalled => "stalled",
            lastmile_core::tracking::stall::StallLevel::Moving => "moving",
        };
        let delivery = match &record.delivery {
            Delivery::NotConfigured => "—".to_owned(),
            Delivery::Pending { attempts, .. } => format!("retrying ({attempts})"),
            Delivery::Delivered { .. } => "delivered".to_owned(),
            Delivery::GaveUp { attempts, .. } => format!("gave up after {attempts}"),
        };
        let _ = write!(
            out,
            r#"<tr data-alert="{id}"><td>{raised}</td><td>{shipment}</td><td class="{level}">{level}</td><td>{hours:.1} h</td><td>{carrier} {number}</td><td>{delivery}</td></tr>"#,
            id = escape(&a.id),
            raised = a.raised_at.strftime("%Y-%m-%d %H:%M UTC"),
            shipment = escape(&a.shipment_id),
            hours = a.hours_waiting,
            carrier = escape(&a.carrier),
            number = escape(&a.tracking_number),
            delivery = escape(&delivery),
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn experiments_table(experiments: &[ExperimentArms]) -> String {
    if experiments.is_empty() {
        return r#"<p class="empty">No experiments configured.</p>"#.to_owned();
    }
    let mut out = String::new();
    for e in experiments {
        let _ = write!(
            out,
            r#"<h3>{id}</h3><table data-experiment="{id}"><thead><tr><th>Arm</th><th>Split</th><th>Shipments</th><th>Delivered</th><th>On time</th><th>Transit (d)</th><th>Claims</th><th>Against the control</th></tr></thead><tbody>"#,
            id = escape(&e.id)
        );
        for (i, arm) in e.report.arms.iter().enumerate() {
            let against = e.report.comparisons.iter().find(|c| c.line == arm.line).map_or_else(
                || if i == 0 { "control".to_owned() } else { "—".to_owned() },
                |c| comparison(c, e.report.alpha),
            );
            let _ = write!(
                out,
                r#"<tr data-arm="{line}"><td>{line}</td><td>{split} %</td><td>{shipments}</td><td data-value="{delivered_raw}">{delivered}</td><td>{on_time}</td><td>{transit}</td><td>{claims}</td><td>{against}</td></tr>"#,
                line = escape(&arm.line),
                split = e.splits.get(i).copied().unwrap_or_default(),
                shipments = arm.shipments,
                delivered_raw = raw(arm.delivery_rate.map(|r| format!("{r:.4}"))),
                delivered = percent(arm.delivery_rate),
                on_time = percent(arm.on_time_rate),
                transit = arm.average_transit_days.map_or_else(|| "—".to_owned(), |d| format!("{d:.1}")),
                claims = percent(arm.claim_rate),
            );
        }
        let _ = write!(
            out,
            r#"</tbody></table><p class="recommendation" data-experiment-recommendation="{id}">{text}</p>"#,
            id = escape(&e.id),
            text = escape(&e.report.recommendation)
        );
    }
    out
}

/// A challenger's tests against the control: each p-value, marked when it is below the report's significance
/// level.
fn comparison(c: &experiment::Comparison, alpha: f64) -> String {
    let p = |name: &str, p_value: Option<f64>| {
        p_value.map(|p| {
            let mark = if p < alpha { " ✱" } else { "" };
            format!(r#"<span data-test="{name}" data-p="{p:.4}">{name} p = {p:.3}{mark}</span>"#)
        })
    };
    let tests: Vec<String> = [
        p("delivery", c.delivery_rate.as_ref().map(|t| t.p_value)),
        p("on time", c.on_time_rate.as_ref().map(|t| t.p_value)),
        p("transit", c.transit_days.as_ref().map(|t| t.p_value)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if tests.is_empty() { "not enough outcomes yet".to_owned() } else { tests.join("<br>") }
}

/// The panels' sections, for the dashboard's `<main>`.
pub fn render(panels: &Panels) -> String {
    let problem = panels
        .problem
        .as_ref()
        .map(|p| format!(r#"<p class="problem" role="alert">{}</p>"#, escape(p)))
        .unwrap_or_default();
    let charts: String = panels.report.lines.iter().map(transit_svg).collect();
    format!(
        r#"<section class="wide" id="kpis">
    <h2>Delivery KPIs</h2>
    <form method="get" action="/" class="range">
      <label for="from">From</label><input id="from" name="from" type="date" value="{from}">
      <label for="to">To</label><input id="to" name="to" type="date" value="{to}">
      <button type="submit">Show</button>
    </form>
    {problem}
    {tiles}
  </section>
  <section class="wide" id="lines">
    <h2>Lines against their SLA</h2>
    {lines}
  </section>
  <section class="wide" id="transit">
    <h2>Transit time (business days)</h2>
    <div class="charts">{charts}</div>
  </section>
  <section id="stalled">
    <h2>Stalled parcels</h2>
    {alerts}
  </section>
  <section id="experiments">
    <h2>Experiments</h2>
    {experiments}
  </section>
  "#,
        from = panels.query.from,
        to = panels.query.to,
        tiles = tiles(&panels.report.total),
        lines = line_table(&panels.report.lines),
        alerts = alerts_table(&panels.alerts),
        experiments = experiments_table(&panels.experiments),
    )
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use lastmile_core::tracking::kpi::Rollup;
    use lastmile_platform::config::SlaTarget;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_range_defaults_to_the_last_30_days_and_a_bad_one_says_why() {
        let today = date(2026, 12, 4);
        let (query, problem) = range(&params(&[]), today);
        assert_eq!((query.from, query.to, problem), (date(2026, 11, 5), today, None));
        let (query, problem) = range(&params(&[("from", "2026-12-01"), ("to", "2026-12-03")]), today);
        assert_eq!((query.from, query.to, problem), (date(2026, 12, 1), date(2026, 12, 3), None));
        let (query, problem) = range(&params(&[("from", "2026-12-09"), ("to", "2026-12-03")]), today);
        assert_eq!(query.from, date(2026, 11, 5));
        assert!(problem.unwrap_or_default().contains("before"));
    }

    fn line(name: &str, histogram: &[(u32, u64)], sla_days: u32) -> LineKpis {
        let rollup = Rollup {
            shipments: histogram.iter().map(|(_, n)| n).sum(),
            delivered: histogram.iter().map(|(_, n)| n).sum(),
            transit_days: histogram.iter().copied().collect(),
            ..Rollup::default()
        };
        let within = histogram.iter().filter(|(d, _)| *d <= sla_days).map(|(_, n)| n).sum();
        LineKpis {
            line: name.into(),
            sla: SlaTarget { days: sla_days, share_percent: 90 },
            meets_sla: Some(false),
            kpis: Kpis::of(&rollup, within),
        }
    }

    #[test]
    fn an_experiment_shows_each_arm_its_tests_against_the_control_and_the_recommendation() {
        use lastmile_core::routing::experiment::ArmOutcomes;
        // Control: 90 of 100 delivered; challenger: 99 of 100. Pooled 0.945, standard error
        // sqrt(0.945 × 0.055 × (1/100 + 1/100)) = 0.03224, z = 0.09 / 0.03224 = 2.79, two-sided p ≈ 0.005.
        let arm = |line: &str, delivered: u32| {
            let mut a = ArmOutcomes { line: line.into(), shipments: 100, ..ArmOutcomes::default() };
            for i in 0..100 {
                a.delivered.record(i < delivered);
            }
            a
        };
        let report = experiment::report(&[arm("de-dpd", 90), arm("de-<paket>", 99)]);
        let html = experiments_table(&[ExperimentArms { id: "de-q4".into(), splits: vec![50, 50], report }]);
        assert!(html.contains(
            r#"<tr data-arm="de-dpd"><td>de-dpd</td><td>50 %</td><td>100</td><td data-value="0.9000">90.0 %</td>"#
        ));
        assert!(html.contains("<td>control</td>"));
        let p: f64 = html
            .split(r#"data-test="delivery" data-p=""#)
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.004..0.007).contains(&p), "p = {p}");
        assert!(html.contains("delivery p = 0.005 ✱"), "below the 0.05 level: marked");
        assert!(html.contains("de-&lt;paket&gt;") && !html.contains("de-<paket>"));
        assert!(html.contains("data-experiment-recommendation=\"de-q4\""));
    }

    #[test]
    fn the_panels_carry_their_values_escaped_with_one_bar_per_day() {
        let lines = vec![line("<b>line</b>", &[(1, 2), (3, 1)], 2)];
        let total = lines[0].kpis.clone();
        let panels = Panels {
            query: KpiQuery { from: date(2026, 12, 1), to: date(2026, 12, 7), line: None, lane: None },
            problem: None,
            report: Report { from: date(2026, 12, 1), to: date(2026, 12, 7), lanes: Vec::new(), lines, total },
            alerts: Vec::new(),
            experiments: Vec::new(),
        };
        let html = render(&panels);
        assert!(html.contains(r#"data-kpi="shipments" data-value="3""#));
        // 2 of 3 within 2 days: 0.6667, shown as a percentage.
        assert!(html.contains(r#"data-kpi="within_sla_rate" data-value="0.6667""#));
        assert!(html.contains("66.7 %"));
        assert!(html.contains("&lt;b&gt;line&lt;/b&gt;") && !html.contains("<b>"));
        assert!(!html.contains("<script") && !html.contains("style="), "nothing the CSP would refuse");
        // Days 0 to 3: four bars, the ones beyond the 2-day target in red.
        assert_eq!(html.matches("<rect ").count(), 4);
        assert_eq!(html.matches(r##"fill="#c53030""##).count(), 1);
        assert!(html.contains(r#"data-days="1" data-count="2""#));
        assert!(html.contains(r#"value="2026-12-01""#));
    }
}
