//! The pulse view (`p`, `:pulse`): the proxy's and the instance's CloudWatch metrics as one
//! sparkline a series (latest, min, max, unit), the alarms on them, and their logs below with
//! refused logins highlighted. The window (15m … 7d) is shared by the charts and the logs; the
//! metrics refresh every minute and the logs every 5 s while following, only while the view is
//! open. The same core as `rdsdeck metrics` and `rdsdeck logs`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use std::time::{Duration, Instant};

use super::{Cx, Effect, Footer, View, ViewCx};
use crate::pulse::logs::{Event, Found, Group, Query, Tail};
use crate::pulse::{Pulse as Data, Series, Window, human};
use crate::stack::Health;
use crate::tui::event::{Internal, Job, Mode};
use crate::tui::keymap::{Cmd, Def, Scope, pretty};

/// Follow the logs.
const FOLLOW: Cmd = Cmd::Own("follow");

pub const KEYS: &[Def] = &[
    (Scope::Main, Cmd::View(Mode::Pulse), "pulse", "pulse: the proxy's and the instance's metrics, alarms and logs", &["p"]),
    (Scope::Pulse, Cmd::Left, "narrower", "a shorter window (15m 1h 3h 24h 7d)", &["[", "-"]),
    (Scope::Pulse, Cmd::Right, "wider", "a longer window", &["]", "+"]),
    (Scope::Pulse, FOLLOW, "follow", "follow the logs (new events every 5 s)", &["f"]),
    (Scope::Pulse, Cmd::Filter, "filter", "filter the logs (CloudWatch's pattern syntax)", &["/"]),
    (Scope::Pulse, Cmd::SwitchFocus, "switch", "scroll the charts or the logs", &["tab"]),
    (Scope::Pulse, Cmd::Up, "up", "scroll up", &["up", "k"]),
    (Scope::Pulse, Cmd::Down, "down", "scroll down", &["down", "j"]),
    (Scope::Pulse, Cmd::Refresh, "refresh", "read the metrics and the logs again", &["r"]),
    (Scope::Pulse, Cmd::Back, "back", "back to the lists", &["esc", "q"]),
];

/// How often the charts are read again, and the logs while following.
pub const METRICS_EVERY: Duration = Duration::from_secs(60);
pub const LOGS_EVERY: Duration = Duration::from_secs(5);
/// The log lines kept (older ones are counted).
pub const LOG_CAP: usize = 2000;

/// What a read sends back, tagged with the window generation it was asked for.
#[derive(Debug)]
pub enum PulseMsg {
    Metrics(u64, Box<Result<Data, String>>),
    Logs(u64, Box<Found>),
}

/// The charts' order: what an incident shows first.
const ORDER: &[&str] = &[
    "ClientConnectionsSetupFailedAuth",
    "IamDbAuthConnectionFailure",
    "ClientConnections",
    "DatabaseConnections",
    "QueryDatabaseResponseLatency",
    "CPUUtilization",
    "AvailabilityPercentage",
    "DatabaseConnectionsCurrentlySessionPinned",
    "DatabaseConnectionsCurrentlyBorrowed",
    "QueryRequests",
    "IamDbAuthConnectionRequests",
    "IamDbAuthConnectionSuccess",
    "FreeableMemory",
    "IamDbAuthConnectionFailureInsufficientPermissions",
    "IamDbAuthConnectionFailureInvalidToken",
    "IamDbAuthConnectionFailureThrottling",
];

/// The feature's state, as the registry names it.
pub type Feature = Pulse;

#[derive(Debug)]
pub struct Pulse {
    pub window: Window,
    pub data: Option<Data>,
    pub error: Option<String>,
    /// Bumped when the window or the filter changes: older answers are dropped.
    pub round: u64,
    pub loading: Option<Instant>,
    pub logs_loading: bool,
    pub updated: Option<Instant>,
    next_metrics: Option<Instant>,
    next_logs: Option<Instant>,
    pub tail: Tail,
    pub log_errors: Vec<String>,
    pub follow: bool,
    pub filter: Option<String>,
    /// The filter being typed.
    pub typing: Option<String>,
    /// Scrolling the logs (else the charts).
    logs_focus: bool,
    chart_scroll: usize,
    /// Lines from the newest (0: the end).
    log_scroll: usize,
}

impl Default for Pulse {
    fn default() -> Self {
        Pulse {
            window: Window::H1,
            data: None,
            error: None,
            round: 0,
            loading: None,
            logs_loading: false,
            updated: None,
            next_metrics: None,
            next_logs: None,
            tail: Tail::new(0, LOG_CAP),
            log_errors: Vec::new(),
            follow: true,
            filter: None,
            typing: None,
            logs_focus: false,
            chart_scroll: 0,
            log_scroll: 0,
        }
    }
}

fn epoch_ms(cx: &Cx) -> i64 {
    cx.wall.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Pulse {
    /// Forgets the stack it showed (a profile, region or stack switch): answers in flight are dropped.
    pub fn reset(&mut self) {
        let round = self.round + 1;
        *self = Pulse { round, window: self.window, follow: self.follow, ..Pulse::default() };
    }

    /// Starts over for the window: new generation, charts and logs read from scratch.
    fn restart(&mut self, cx: &mut Cx) -> Vec<Effect> {
        self.round += 1;
        // A read in flight belongs to the old round: its answer is dropped, so a new one may start.
        self.logs_loading = false;
        self.loading = None;
        self.data = None;
        self.error = None;
        self.tail = Tail::new(epoch_ms(cx) - self.window.span().as_millis() as i64, LOG_CAP);
        self.log_errors.clear();
        self.log_scroll = 0;
        let mut e = self.read_metrics(cx);
        e.extend(self.read_logs(cx));
        e
    }

    fn names(cx: &Cx) -> (Option<String>, Option<String>) {
        let loc = cx.located;
        (loc.and_then(|l| l.proxy.clone()), loc.and_then(|l| l.instances.first().cloned()))
    }

    fn read_metrics(&mut self, cx: &mut Cx) -> Vec<Effect> {
        self.next_metrics = Some(cx.now + METRICS_EVERY);
        let Some(ctx) = cx.ctx else {
            self.error = Some("no AWS credentials yet".into());
            return Vec::new();
        };
        let (proxy, instance) = Self::names(cx);
        let (round, ctx, window, wall) = (self.round, ctx.clone(), self.window, cx.wall);
        self.loading = Some(cx.now);
        let job = Job::new(move |reply| async move {
            let r = crate::pulse::fetch(&ctx, proxy.as_deref(), instance.as_deref(), window, wall).await;
            reply.send(PulseMsg::Metrics(round, Box::new(r)));
        });
        vec![Effect::Job { to: Mode::Pulse, job }]
    }

    fn read_logs(&mut self, cx: &mut Cx) -> Vec<Effect> {
        self.next_logs = self.follow.then(|| cx.now + LOGS_EVERY);
        let Some(ctx) = cx.ctx else { return Vec::new() };
        if self.logs_loading {
            return Vec::new();
        }
        let (proxy, instance) = Self::names(cx);
        let groups: Vec<(Group, String, i64)> =
            Group::ALL.iter().filter_map(|g| g.path(proxy.as_deref(), instance.as_deref()).map(|p| (*g, p, self.tail.since(*g)))).collect();
        let q = Query { groups, end: None, filter: self.filter.clone(), limit: 500 };
        let (round, ctx) = (self.round, ctx.clone());
        self.logs_loading = true;
        let job = Job::new(move |reply| async move {
            let found = crate::pulse::logs::read(&ctx, &q).await;
            reply.send(PulseMsg::Logs(round, Box::new(found)));
        });
        vec![Effect::Job { to: Mode::Pulse, job }]
    }

    fn on_cmd(&mut self, c: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        match c {
            Some(Cmd::Left) | Some(Cmd::Right) => {
                let w = self.window.step(if c == Some(Cmd::Left) { -1 } else { 1 });
                if w != self.window {
                    self.window = w;
                    cx.status(Health::Unknown, format!("pulse: the last {}", w.label()));
                    return self.restart(cx);
                }
            }
            Some(FOLLOW) => {
                self.follow = !self.follow;
                cx.status(Health::Unknown, if self.follow { "following the logs" } else { "not following the logs" });
                self.next_logs = self.follow.then(|| cx.now + LOGS_EVERY);
            }
            Some(Cmd::Filter) => self.typing = Some(self.filter.clone().unwrap_or_default()),
            Some(Cmd::SwitchFocus) => self.logs_focus = !self.logs_focus,
            Some(Cmd::Up) if self.logs_focus => self.log_scroll = (self.log_scroll + 1).min(self.tail.events.len().saturating_sub(1)),
            Some(Cmd::Down) if self.logs_focus => self.log_scroll = self.log_scroll.saturating_sub(1),
            Some(Cmd::Up) => self.chart_scroll = self.chart_scroll.saturating_sub(1),
            Some(Cmd::Down) => self.chart_scroll = (self.chart_scroll + 1).min(self.data.as_ref().map(|d| d.series.len()).unwrap_or(0).saturating_sub(1)),
            Some(Cmd::Refresh) => return self.restart(cx),
            Some(Cmd::Back) => cx.send(Internal::Focus(Mode::Normal)),
            _ => {}
        }
        Vec::new()
    }

    /// A key while the filter is typed: text, Enter applies, Esc cancels.
    fn on_typing(&mut self, key: KeyEvent, cx: &mut Cx) -> Vec<Effect> {
        let Some(text) = self.typing.as_mut() else { return Vec::new() };
        match key.code {
            KeyCode::Char(ch) => text.push(ch),
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Esc => self.typing = None,
            KeyCode::Enter => {
                let f = self.typing.take().unwrap_or_default();
                self.filter = Some(f.trim().to_string()).filter(|f| !f.is_empty());
                return self.restart(cx);
            }
            _ => {}
        }
        Vec::new()
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let busy = self.loading.map(|s| vx.spinner(s)).map(|s| format!(" · {s}")).unwrap_or_default();
        let title = format!(" Pulse · last {}{busy} ", self.window.label());
        let block = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(title, th.title));
        let inner = block.inner(area);
        f.render_widget(block, area);
        if inner.height < 4 {
            return;
        }
        let alarms: Vec<&crate::pulse::Alarm> = self.data.as_ref().and_then(|d| d.alarms.as_ref().ok()).map(|a| a.iter().collect()).unwrap_or_default();
        let alarm_rows = alarms.len().min(3) as u16;
        let log_rows = (inner.height.saturating_sub(2 + alarm_rows) / 3).max(3);
        let [head, charts, alarm_area, logs] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(alarm_rows),
            Constraint::Length(log_rows + 1),
        ])
        .areas(inner);
        // The header: what, when, the windows.
        let mut spans = vec![];
        for w in Window::ALL {
            let style = if w == self.window { th.selected } else { th.muted };
            spans.push(Span::styled(format!(" {} ", w.label()), style));
        }
        if let Some(d) = &self.data {
            spans.push(Span::styled(
                format!("  period {} s · proxy {} · instance {}", d.period, d.proxy.as_deref().unwrap_or("-"), d.instance.as_deref().unwrap_or("-")),
                th.muted,
            ));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), head);
        self.draw_charts(vx, f, charts);
        let lines: Vec<Line> = alarms
            .iter()
            .take(3)
            .map(|a| {
                let style = match a.state.as_str() {
                    "ALARM" => th.bad,
                    "OK" => th.ok,
                    _ => th.warn,
                };
                Line::from(vec![
                    Span::styled(format!("{:<6}", if a.state == "INSUFFICIENT_DATA" { "NODATA" } else { a.state.as_str() }), style),
                    Span::styled(format!("{} ", a.name), th.key),
                    Span::styled(a.reason.clone(), th.muted),
                ])
            })
            .collect();
        f.render_widget(Paragraph::new(lines), alarm_area);
        self.draw_logs(vx, f, logs);
    }

    fn draw_charts(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let Some(d) = &self.data else {
            let text = match (&self.error, self.loading) {
                (Some(e), _) => Span::styled(format!("CloudWatch could not be read: {e}"), th.bad),
                (None, Some(_)) => Span::styled("reading CloudWatch…", th.muted),
                _ => Span::styled("no data", th.muted),
            };
            f.render_widget(Paragraph::new(Line::from(text)), area);
            return;
        };
        // What an incident shows first (both scopes of a metric together), then the rest.
        let mut ordered: Vec<&Series> = ORDER.iter().flat_map(|m| d.series.iter().filter(move |s| s.metric == *m)).collect();
        for s in &d.series {
            if !ordered.iter().any(|o| std::ptr::eq(*o, s)) {
                ordered.push(s);
            }
        }
        let label_w = 24usize;
        let stats_w = 23usize;
        let spark_w = (area.width as usize).saturating_sub(label_w + stats_w).max(4);
        // Written into the buffer cell by cell: a sparkline is one known-width character a cell, so
        // it needs no text layout (the frame's largest cost before).
        let buf = f.buffer_mut();
        for (row, s) in ordered.iter().skip(self.chart_scroll).take(area.height as usize).enumerate() {
            let y = area.y + row as u16;
            let who = if s.scope == crate::pulse::Scope::Proxy { "proxy" } else { "db" };
            let trouble = s.failures && s.max().is_some_and(|m| m > 0.0);
            let label_style = if trouble { th.bad } else { th.key };
            let v = |x: Option<f64>| x.map(|v| human(v, s.unit)).unwrap_or_else(|| "-".into());
            let mut x = area.x;
            let right = area.x + area.width;
            let label = format!("{:<w$}", clip(&format!("{who} {}", s.label), label_w), w = label_w);
            x = buf.set_stringn(x, y, &label, (right - x) as usize, label_style).0;
            let spark_style = if trouble { th.bad } else { th.accent };
            for c in spark(&s.points, spark_w).chars() {
                if x >= right {
                    break;
                }
                buf[(x, y)].set_char(c).set_style(spark_style);
                x += 1;
            }
            if x < right {
                x = buf.set_stringn(x, y, format!("{:>9}", v(s.latest())), (right - x) as usize, Style::default()).0;
            }
            if x < right {
                buf.set_stringn(x, y, format!(" {:>13}", clip(&format!("{}–{}", v(s.min()), v(s.max())), 13)), (right - x) as usize, th.muted);
            }
        }
    }

    fn draw_logs(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let follow = if self.follow { "following" } else { "paused" };
        let dropped = if self.tail.dropped > 0 { format!(" · {} older not kept", self.tail.dropped) } else { String::new() };
        let filter = self.filter.as_deref().map(|f| format!(" · filter {f}")).unwrap_or_default();
        let err = self.log_errors.first().map(|e| format!(" · {e}")).unwrap_or_default();
        let title = format!(" logs · {} events · {follow}{filter}{dropped}{err} ", self.tail.events.len());
        let border = if self.logs_focus { th.border_focus } else { th.border };
        let b = Block::default().borders(Borders::TOP).border_style(border).title(Span::styled(title, th.title));
        let inner = b.inner(area);
        f.render_widget(b, area);
        let n = inner.height as usize;
        let end = self.tail.events.len().saturating_sub(self.log_scroll);
        let start = end.saturating_sub(n);
        let lines: Vec<Line> = self.tail.events.range(start..end).map(|e| log_line(vx, e)).collect();
        f.render_widget(Paragraph::new(lines), inner);
    }

    fn hints(&self, vx: &ViewCx) -> String {
        let k = |c: Cmd| pretty(&vx.keymap.label(Scope::Pulse, c));
        format!(
            " {}{} window · {} follow · {} filter · {} charts/logs · {} refresh · {} back",
            k(Cmd::Left),
            k(Cmd::Right),
            k(FOLLOW),
            k(Cmd::Filter),
            k(Cmd::SwitchFocus),
            k(Cmd::Refresh),
            k(Cmd::Back)
        )
    }
}

fn clip(s: &str, w: usize) -> String {
    if s.chars().count() <= w { s.to_string() } else { s.chars().take(w.saturating_sub(1)).chain(['…']).collect() }
}

fn log_line(vx: &ViewCx, e: &Event) -> Line<'static> {
    let th = vx.theme;
    let t = chrono::DateTime::from_timestamp_millis(e.time).map(|t| t.format("%H:%M:%S").to_string()).unwrap_or_default();
    let style = if e.is_auth_failure() { th.bad } else { Style::default() };
    let first = e.message.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    Line::from(vec![
        Span::styled(format!("{t} "), th.muted),
        Span::styled(format!("{:<5} ", e.group.name()), th.key),
        Span::styled(crate::untrusted::line(first).into_owned(), style),
    ])
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline `width` cells wide: the points bucketed in order, each cell the bucket's maximum
/// (a spike is never averaged away), scaled between the series' min and max.
pub fn spark(points: &[(i64, f64)], width: usize) -> String {
    if points.is_empty() || width == 0 {
        return " ".repeat(width);
    }
    let n = points.len();
    let cells: Vec<f64> = (0..width.min(n))
        .map(|c| {
            let (a, b) = (c * n / width.min(n), ((c + 1) * n / width.min(n)).max(c * n / width.min(n) + 1));
            points[a..b.min(n)].iter().map(|p| p.1).fold(f64::MIN, f64::max)
        })
        .collect();
    let (lo, hi) = cells.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let mut out: String = cells
        .iter()
        .map(|v| if hi > lo { BARS[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize] } else { BARS[0] })
        .collect();
    // Fewer points than cells: right-align (the newest at the right edge).
    let len = out.chars().count();
    if len < width {
        out = format!("{}{out}", " ".repeat(width - len));
    }
    out
}

impl View for Pulse {
    fn covers_main(&self) -> bool {
        true
    }
    fn scope(&self) -> Scope {
        Scope::Pulse
    }
    fn on_key(&mut self, key: KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        if self.typing.is_some() {
            return self.on_typing(key, cx);
        }
        self.on_cmd(cmd, cx)
    }
    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        self.draw_in(vx, f, main)
    }
    fn footer(&self, vx: &ViewCx) -> Footer {
        match &self.typing {
            Some(t) => Footer::Input(Line::from(vec![Span::styled(" filter the logs: ", vx.theme.key), Span::raw(t.clone()), Span::raw("█")])),
            None => Footer::Hints(self.hints(vx)),
        }
    }
    fn open(&mut self, cx: &mut Cx) -> Vec<Effect> {
        // Read again when opened (the charts may be minutes old); keep what is shown meanwhile.
        let mut e = if self.data.is_none() { self.restart(cx) } else { self.read_metrics(cx) };
        if self.follow && self.data.is_some() {
            e.extend(self.read_logs(cx));
        }
        e
    }
    fn busy(&self) -> bool {
        self.loading.is_some()
    }
    /// Asked only while the view has focus: closed, it polls nothing.
    fn deadline(&self) -> Option<Instant> {
        [self.next_metrics, if self.follow { self.next_logs } else { None }].into_iter().flatten().min()
    }
    fn on_tick(&mut self, cx: &mut Cx) -> Vec<Effect> {
        let mut e = Vec::new();
        // The clocks move on whether or not a read starts (one may still be in flight): a deadline
        // left in the past would wake the loop at once, again and again.
        if self.next_metrics.is_some_and(|t| cx.now >= t) {
            self.next_metrics = Some(cx.now + METRICS_EVERY);
            if self.loading.is_none() {
                e.extend(self.read_metrics(cx));
            }
        }
        if self.next_logs.is_some_and(|t| cx.now >= t) {
            self.next_logs = self.follow.then(|| cx.now + LOGS_EVERY);
            if self.follow {
                e.extend(self.read_logs(cx));
            }
        }
        e
    }
    fn on_msg(&mut self, msg: Box<dyn std::any::Any + Send>, cx: &mut Cx) -> (bool, Vec<Effect>) {
        match msg.downcast::<PulseMsg>().map(|m| *m) {
            Ok(PulseMsg::Metrics(round, r)) if round == self.round => {
                self.loading = None;
                self.updated = Some(cx.now);
                match *r {
                    Ok(d) => {
                        self.data = Some(d);
                        self.error = None;
                    }
                    Err(e) => {
                        cx.log(Health::Bad, format!("pulse: {e}"));
                        self.error = Some(e);
                    }
                }
                (true, Vec::new())
            }
            Ok(PulseMsg::Logs(round, found)) if round == self.round => {
                self.logs_loading = false;
                self.log_errors = found.errors.iter().map(|(g, e)| format!("{}: {e}", g.name())).collect();
                if found.truncated {
                    self.log_errors.push("more events than one read keeps: the oldest of them were skipped".into());
                }
                let new = self.tail.push(found.events);
                if new > 0 && self.log_scroll > 0 {
                    self.log_scroll += new;
                }
                (new > 0 || !self.log_errors.is_empty(), Vec::new())
            }
            Ok(PulseMsg::Logs(..)) => {
                self.logs_loading = false;
                (false, Vec::new())
            }
            _ => (false, Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_survives_bucketing_and_the_line_fills_its_width() {
        let mut pts: Vec<(i64, f64)> = (0..1440).map(|i| (i, 10.0)).collect();
        pts[700].1 = 90.0;
        let s = spark(&pts, 60);
        assert_eq!(s.chars().count(), 60);
        assert_eq!(s.chars().filter(|c| *c == '█').count(), 1, "{s}");
        let few = spark(&[(0, 1.0), (1, 2.0)], 10);
        assert_eq!(few.chars().count(), 10);
        assert!(few.ends_with('█'));
        assert_eq!(spark(&[], 5), "     ");
    }
}
