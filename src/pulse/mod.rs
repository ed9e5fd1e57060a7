//! Pulse: the stack's proxy and instance as CloudWatch sees them — metric series over a window (one
//! `GetMetricData` call for all of them), the alarms on those resources, and the logs ([`logs`]).
//! Used by `rdsdeck metrics`, `rdsdeck logs` and the TUI's pulse view; prints nothing.

pub mod logs;

use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::aws::{AwsContext, explain};

/// The time window the charts (and the logs pane) show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Window {
    M15,
    #[default]
    H1,
    H3,
    H24,
    D7,
}

impl Window {
    pub const ALL: [Window; 5] = [Window::M15, Window::H1, Window::H3, Window::H24, Window::D7];

    pub fn label(self) -> &'static str {
        match self {
            Window::M15 => "15m",
            Window::H1 => "1h",
            Window::H3 => "3h",
            Window::H24 => "24h",
            Window::D7 => "7d",
        }
    }

    pub fn span(self) -> Duration {
        Duration::from_secs(match self {
            Window::M15 => 15 * 60,
            Window::H1 => 3600,
            Window::H3 => 3 * 3600,
            Window::H24 => 24 * 3600,
            Window::D7 => 7 * 24 * 3600,
        })
    }

    /// The period (seconds) that gives a readable number of points: at most 288 per series, and a
    /// resolution CloudWatch keeps for that age (1 minute for 15 days, 5 minutes for 63, 1 hour after).
    pub fn period(self) -> i32 {
        match self {
            Window::M15 | Window::H1 | Window::H3 => 60,
            Window::H24 => 300,
            Window::D7 => 3600,
        }
    }

    pub fn parse(s: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.label() == s.trim())
    }

    /// The next wider (`+1`) or narrower (`-1`) window, clamped.
    pub fn step(self, by: i32) -> Window {
        let i = Window::ALL.iter().position(|w| *w == self).unwrap_or(1) as i32;
        Window::ALL[(i + by).clamp(0, Window::ALL.len() as i32 - 1) as usize]
    }
}

/// Whose metric: the proxy (dimension ProxyName) or the instance (DBInstanceIdentifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Proxy,
    Instance,
}

/// One series the view shows: which metric, the statistic that suits it, its unit.
#[derive(Debug, Clone, Copy)]
pub struct SeriesDef {
    pub scope: Scope,
    pub metric: &'static str,
    pub stat: &'static str,
    pub unit: &'static str,
    /// Short, for the chart's title.
    pub label: &'static str,
    /// A count of failures: any value above zero is trouble.
    pub failures: bool,
}

const fn def(scope: Scope, metric: &'static str, stat: &'static str, unit: &'static str, label: &'static str, failures: bool) -> SeriesDef {
    SeriesDef { scope, metric, stat, unit, label, failures }
}

/// The series, in the view's order: the proxy's, then the instance's.
pub const SERIES: &[SeriesDef] = &[
    def(Scope::Proxy, "ClientConnections", "Average", "Count", "client connections", false),
    def(Scope::Proxy, "DatabaseConnections", "Average", "Count", "db connections", false),
    def(Scope::Proxy, "DatabaseConnectionsCurrentlyBorrowed", "Average", "Count", "borrowed", false),
    def(Scope::Proxy, "DatabaseConnectionsCurrentlySessionPinned", "Average", "Count", "pinned", false),
    def(Scope::Proxy, "ClientConnectionsSetupFailedAuth", "Sum", "Count", "failed auth", true),
    def(Scope::Proxy, "QueryRequests", "Sum", "Count", "queries", false),
    def(Scope::Proxy, "QueryDatabaseResponseLatency", "Average", "Microseconds", "db latency", false),
    def(Scope::Proxy, "AvailabilityPercentage", "Minimum", "Percent", "availability", false),
    def(Scope::Instance, "CPUUtilization", "Average", "Percent", "cpu", false),
    def(Scope::Instance, "DatabaseConnections", "Average", "Count", "connections", false),
    def(Scope::Instance, "FreeableMemory", "Minimum", "Bytes", "freeable memory", false),
    def(Scope::Instance, "IamDbAuthConnectionRequests", "Sum", "Count", "iam auth requests", false),
    def(Scope::Instance, "IamDbAuthConnectionSuccess", "Sum", "Count", "iam auth success", false),
    def(Scope::Instance, "IamDbAuthConnectionFailure", "Sum", "Count", "iam auth failures", true),
    def(Scope::Instance, "IamDbAuthConnectionFailureInvalidToken", "Sum", "Count", "· invalid token", true),
    def(Scope::Instance, "IamDbAuthConnectionFailureInsufficientPermissions", "Sum", "Count", "· no permission", true),
    def(Scope::Instance, "IamDbAuthConnectionFailureThrottling", "Sum", "Count", "· throttled", true),
];

/// One series' points over the window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Series {
    pub scope: Scope,
    pub metric: &'static str,
    pub stat: &'static str,
    pub unit: &'static str,
    pub label: &'static str,
    pub failures: bool,
    /// (epoch seconds, value), oldest first.
    pub points: Vec<(i64, f64)>,
}

impl Series {
    /// A series of `def` with these points (epoch seconds, value), oldest first.
    pub fn new(def: &SeriesDef, points: Vec<(i64, f64)>) -> Series {
        Series { scope: def.scope, metric: def.metric, stat: def.stat, unit: def.unit, label: def.label, failures: def.failures, points }
    }

    pub fn latest(&self) -> Option<f64> {
        self.points.last().map(|p| p.1)
    }
    pub fn min(&self) -> Option<f64> {
        self.points.iter().map(|p| p.1).reduce(f64::min)
    }
    pub fn max(&self) -> Option<f64> {
        self.points.iter().map(|p| p.1).reduce(f64::max)
    }
}

/// An alarm on the proxy or the instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alarm {
    pub name: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state: String,
    pub metric: String,
    pub reason: String,
    /// Epoch seconds of the last state change.
    pub updated: Option<i64>,
}

/// What one refresh read.
#[derive(Debug, Clone, Serialize)]
pub struct Pulse {
    pub window: &'static str,
    pub period: i32,
    /// The window, epoch seconds.
    pub start: i64,
    pub end: i64,
    pub proxy: Option<String>,
    pub instance: Option<String>,
    pub series: Vec<Series>,
    pub alarms: Result<Vec<Alarm>, String>,
}

fn epoch(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The series this stack has (the proxy's only with a proxy, the instance's only with an instance).
pub fn series_for(proxy: Option<&str>, instance: Option<&str>) -> Vec<&'static SeriesDef> {
    SERIES.iter().filter(|d| match d.scope {
        Scope::Proxy => proxy.is_some(),
        Scope::Instance => instance.is_some(),
    }).collect()
}

/// Reads every series in one `GetMetricData` call (following its pages) and the alarms on the two
/// resources. `now` ends the window (aligned down to the period).
pub async fn fetch(ctx: &AwsContext, proxy: Option<&str>, instance: Option<&str>, window: Window, now: SystemTime) -> Result<Pulse, String> {
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
    let period = window.period();
    let end = epoch(now) / period as i64 * period as i64 + period as i64;
    let start = end - window.span().as_secs() as i64;
    let defs = series_for(proxy, instance);
    if defs.is_empty() {
        return Err("the stack has neither a proxy nor an instance to chart".into());
    }
    let queries: Vec<MetricDataQuery> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (name, value) = match d.scope {
                Scope::Proxy => ("ProxyName", proxy.unwrap_or_default()),
                Scope::Instance => ("DBInstanceIdentifier", instance.unwrap_or_default()),
            };
            let metric = Metric::builder().namespace("AWS/RDS").metric_name(d.metric).dimensions(Dimension::builder().name(name).value(value).build()).build();
            MetricDataQuery::builder()
                .id(format!("q{i}"))
                .metric_stat(MetricStat::builder().metric(metric).period(period).stat(d.stat).build())
                .return_data(true)
                .build()
        })
        .collect();
    let cw = aws_sdk_cloudwatch::Client::new(&ctx.sdk);
    let mut points: Vec<Vec<(i64, f64)>> = vec![Vec::new(); defs.len()];
    let mut token: Option<String> = None;
    loop {
        let out = cw
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(aws_smithy_types::DateTime::from_secs(start))
            .end_time(aws_smithy_types::DateTime::from_secs(end))
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| explain(&e))?;
        for r in out.metric_data_results() {
            let Some(i) = r.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok()).filter(|i| *i < defs.len()) else { continue };
            points[i].extend(r.timestamps().iter().map(|t| t.secs()).zip(r.values().iter().copied()));
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let series = defs
        .iter()
        .zip(points)
        .map(|(d, mut p)| {
            p.sort_by_key(|x| x.0);
            p.dedup_by_key(|x| x.0);
            Series::new(d, p)
        })
        .collect();
    let alarms = alarms(ctx, proxy, instance).await;
    Ok(Pulse { window: window.label(), period, start, end, proxy: proxy.map(str::to_string), instance: instance.map(str::to_string), series, alarms })
}

/// The metric alarms whose dimensions name the proxy or the instance.
async fn alarms(ctx: &AwsContext, proxy: Option<&str>, instance: Option<&str>) -> Result<Vec<Alarm>, String> {
    let cw = aws_sdk_cloudwatch::Client::new(&ctx.sdk);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = cw.describe_alarms().set_next_token(token.clone()).send().await.map_err(|e| explain(&e))?;
        for a in page.metric_alarms() {
            let ours = a.dimensions().iter().any(|d| match (d.name(), d.value()) {
                (Some("ProxyName"), Some(v)) => Some(v) == proxy,
                (Some("DBInstanceIdentifier"), Some(v)) => Some(v) == instance,
                _ => false,
            });
            if ours {
                out.push(Alarm {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    state: a.state_value().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    metric: a.metric_name().unwrap_or_default().to_string(),
                    reason: a.state_reason().unwrap_or_default().to_string(),
                    updated: a.state_updated_timestamp().map(|t| t.secs()),
                });
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out.sort_by(|a, b| (a.state != "ALARM", &a.name).cmp(&(b.state != "ALARM", &b.name)));
    Ok(out)
}

/// A value in its unit, short: `1.2k`, `412 MiB`, `1.8 ms`, `99.5%`.
pub fn human(v: f64, unit: &str) -> String {
    match unit {
        "Percent" => format!("{}%", trim(v)),
        "Bytes" => {
            let mib = v / (1024.0 * 1024.0);
            if mib >= 1024.0 { format!("{} GiB", trim(mib / 1024.0)) } else { format!("{} MiB", trim(mib)) }
        }
        "Microseconds" if v >= 1000.0 => format!("{} ms", trim(v / 1000.0)),
        "Microseconds" => format!("{} µs", trim(v)),
        _ if v.abs() >= 1_000_000.0 => format!("{}M", trim(v / 1_000_000.0)),
        _ if v.abs() >= 10_000.0 => format!("{}k", trim(v / 1000.0)),
        _ => trim(v),
    }
}

fn trim(v: f64) -> String {
    if v.fract().abs() < 0.05 || v.abs() >= 100.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_pick_periods_that_keep_points_readable() {
        for w in Window::ALL {
            let n = w.span().as_secs() / w.period() as u64;
            assert!((15..=288).contains(&n), "{w:?}: {n} points");
            assert_eq!(Window::parse(w.label()), Some(w));
        }
        assert_eq!(Window::M15.step(-1), Window::M15);
        assert_eq!(Window::H1.step(1), Window::H3);
        assert_eq!(Window::D7.step(1), Window::D7);
    }

    #[test]
    fn values_read_in_their_unit() {
        assert_eq!(human(412.0 * 1024.0 * 1024.0, "Bytes"), "412 MiB");
        assert_eq!(human(1750.0, "Microseconds"), "1.8 ms");
        assert_eq!(human(99.5, "Percent"), "99.5%");
        assert_eq!(human(42.0, "Count"), "42");
        assert_eq!(human(12_345.0, "Count"), "12.3k");
    }
}
