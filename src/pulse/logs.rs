//! The stack's logs in CloudWatch Logs: the proxy's log group and the instance's exported logs
//! (`error`, `iam-db-auth-error`, `slowquery`), read with `FilterLogEvents` (the filter is
//! CloudWatch's pattern syntax, passed through), merged by time; [`Tail`] follows them with a
//! bounded buffer, fetching only what is new.

use serde::Serialize;
use std::collections::{HashSet, VecDeque};

use crate::aws::{AwsContext, explain};

/// A log the stack writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Proxy,
    Error,
    Iam,
    Slow,
}

impl Group {
    pub const ALL: [Group; 4] = [Group::Proxy, Group::Error, Group::Iam, Group::Slow];

    pub fn name(self) -> &'static str {
        match self {
            Group::Proxy => "proxy",
            Group::Error => "error",
            Group::Iam => "iam",
            Group::Slow => "slow",
        }
    }

    pub fn parse(s: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == s.trim())
    }

    /// Its log group's name, when the stack has the resource.
    pub fn path(self, proxy: Option<&str>, instance: Option<&str>) -> Option<String> {
        match self {
            Group::Proxy => proxy.map(|p| format!("/aws/rds/proxy/{p}")),
            Group::Error => instance.map(|i| format!("/aws/rds/instance/{i}/error")),
            Group::Iam => instance.map(|i| format!("/aws/rds/instance/{i}/iam-db-auth-error")),
            Group::Slow => instance.map(|i| format!("/aws/rds/instance/{i}/slowquery")),
        }
    }
}

/// One log event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    /// Epoch milliseconds.
    pub time: i64,
    pub group: Group,
    pub message: String,
    #[serde(skip)]
    pub id: String,
}

impl Event {
    /// A refused login (what the view highlights).
    pub fn is_auth_failure(&self) -> bool {
        let m = self.message.to_ascii_lowercase();
        self.group == Group::Iam || m.contains("authentication failed") || m.contains("access denied") || m.contains("not authorized")
    }
}

/// What to read: each group from its own start (epoch ms).
#[derive(Debug, Clone)]
pub struct Query {
    pub groups: Vec<(Group, String, i64)>,
    pub end: Option<i64>,
    pub filter: Option<String>,
    /// At most this many events per group per read: the newest are kept.
    pub limit: usize,
}

/// Pages read per group per read at most (FilterLogEvents may return empty pages with a token).
const MAX_PAGES: usize = 50;

/// What a read found: the events (oldest first), and the groups that could not be read (a group
/// that does not exist yet is not an error: nothing was logged).
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub events: Vec<Event>,
    pub errors: Vec<(Group, String)>,
    /// Some group had more than `limit` events (or pages): the oldest were left out.
    pub truncated: bool,
}

/// Reads every group of the query to its end (up to [`MAX_PAGES`] pages), keeping each group's
/// newest `limit` events, and merges them by time.
pub async fn read(ctx: &AwsContext, q: &Query) -> Found {
    let client = aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk);
    let limit = q.limit.max(1);
    let reads = q.groups.iter().map(|(g, path, start)| {
        let client = client.clone();
        async move {
            let mut events: VecDeque<Event> = VecDeque::new();
            let mut cut = false;
            let mut token: Option<String> = None;
            for page_no in 0.. {
                let sent = client
                    .filter_log_events()
                    .log_group_name(path)
                    .start_time(*start)
                    .set_end_time(q.end)
                    .set_filter_pattern(q.filter.clone())
                    .set_next_token(token.clone())
                    .send()
                    .await;
                let page = match sent {
                    Ok(p) => p,
                    Err(e) if e.as_service_error().is_some_and(|x| x.is_resource_not_found_exception()) => break,
                    Err(e) => return (*g, Err(explain(&e))),
                };
                for e in page.events() {
                    events.push_back(Event {
                        time: e.timestamp().unwrap_or_default(),
                        group: *g,
                        message: e.message().unwrap_or_default().trim_end().to_string(),
                        id: e.event_id().unwrap_or_default().to_string(),
                    });
                    if events.len() > limit {
                        events.pop_front();
                        cut = true;
                    }
                }
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
                if page_no + 1 >= MAX_PAGES {
                    cut = true;
                    break;
                }
            }
            (*g, Ok((events, cut)))
        }
    });
    let mut found = Found::default();
    for (g, r) in futures::future::join_all(reads).await {
        match r {
            Ok((events, cut)) => {
                found.truncated |= cut;
                found.events.extend(events);
            }
            Err(e) => found.errors.push((g, e)),
        }
    }
    found.events.sort_by(|a, b| a.time.cmp(&b.time).then(a.id.cmp(&b.id)));
    found
}

/// How far back each read looks again: RDS exports logs in batches, so an event can arrive after
/// newer ones of the same group were read. Events seen in that span are recognised by their id.
pub const OVERLAP_MS: i64 = 60_000;

/// Where one group's reads have got to.
#[derive(Debug, Clone, Default)]
struct Cursor {
    newest: i64,
    /// (time, id) of the events within [`OVERLAP_MS`] of the newest, oldest first, and their ids.
    recent: VecDeque<(i64, String)>,
    ids: HashSet<String>,
}

/// Follows logs: keeps at most `cap` events in time order (older ones counted in `dropped`); each
/// group is read again from its own newest event less [`OVERLAP_MS`], and what was seen is skipped.
#[derive(Debug, Clone)]
pub struct Tail {
    pub events: VecDeque<Event>,
    pub cap: usize,
    pub dropped: u64,
    /// Nothing older than this (epoch ms): the window's start.
    pub start: i64,
    cursors: std::collections::HashMap<Group, Cursor>,
}

impl Tail {
    pub fn new(start: i64, cap: usize) -> Tail {
        Tail { events: VecDeque::new(), cap: cap.max(1), dropped: 0, start, cursors: Default::default() }
    }

    /// Where the next read of `g` starts.
    pub fn since(&self, g: Group) -> i64 {
        self.cursors.get(&g).map(|c| c.newest - OVERLAP_MS).unwrap_or(self.start).max(self.start)
    }

    /// Adds a read's events; returns how many were new.
    pub fn push(&mut self, found: Vec<Event>) -> usize {
        let mut new = 0;
        for e in found {
            if e.time < self.start {
                continue;
            }
            let c = self.cursors.entry(e.group).or_default();
            if c.ids.contains(&e.id) || e.time < c.newest - OVERLAP_MS {
                continue;
            }
            c.newest = c.newest.max(e.time);
            c.recent.push_back((e.time, e.id.clone()));
            c.ids.insert(e.id.clone());
            while c.recent.front().is_some_and(|(t, _)| *t < c.newest - OVERLAP_MS) {
                if let Some((_, id)) = c.recent.pop_front() {
                    c.ids.remove(&id);
                }
            }
            // In time order: a late event goes before newer ones already held.
            let at = self.events.iter().rposition(|x| x.time <= e.time).map(|i| i + 1).unwrap_or(0);
            self.events.insert(at, e);
            new += 1;
            if self.events.len() > self.cap {
                self.events.pop_front();
                self.dropped += 1;
            }
        }
        new
    }
}

/// `15m`, `2h`, `1d`, `90s` → seconds.
pub fn parse_since(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n.parse().map_err(|_| format!("`{s}` is not a duration: use 90s, 15m, 2h or 1d"))?;
    let mult = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("`{s}`: the unit is s, m, h or d")),
    };
    let secs = n.saturating_mul(mult);
    if secs <= 0 || secs > 14 * 86400 {
        return Err(format!("`{s}`: between 1 second and 14 days"));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: i64, id: &str) -> Event {
        Event { time, group: Group::Iam, message: format!("m{id}"), id: id.into() }
    }

    #[test]
    fn following_keeps_only_new_events_and_a_bounded_buffer() {
        let mut t = Tail::new(100, 3);
        assert_eq!(t.push(vec![ev(90, "old"), ev(100, "a"), ev(105, "b")]), 2);
        // The next read looks back a minute: what was seen is not new, a late event is.
        assert_eq!(t.since(Group::Iam), 100);
        assert_eq!(t.push(vec![ev(100, "a"), ev(105, "b"), ev(102, "late"), ev(110, "d")]), 2);
        assert_eq!(t.events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["late", "b", "d"], "in time order, capped");
        assert_eq!(t.dropped, 1);
        for i in 0..100_000 {
            t.push(vec![ev(200 + i, &i.to_string())]);
        }
        assert_eq!(t.events.len(), 3);
        assert_eq!(t.dropped, 100_001);
        // Each group has its own cursor: an older event of another group is still new.
        let mut t = Tail::new(0, 10);
        t.push(vec![ev(500_000, "x")]);
        let mut p = ev(1_000, "p");
        p.group = Group::Proxy;
        assert_eq!(t.push(vec![p]), 1);
        assert_eq!(t.since(Group::Iam), 500_000 - OVERLAP_MS);
        assert_eq!(t.since(Group::Slow), 0);
    }

    #[test]
    fn durations_and_groups_parse() {
        assert_eq!(parse_since("15m"), Ok(900));
        assert_eq!(parse_since("2h"), Ok(7200));
        assert_eq!(parse_since("45"), Ok(2700));
        assert!(parse_since("15 minutes").is_err());
        assert!(parse_since("0m").is_err());
        assert!(parse_since("30d").is_err());
        assert_eq!(Group::parse("iam"), Some(Group::Iam));
        assert_eq!(Group::Iam.path(None, Some("db")).as_deref(), Some("/aws/rds/instance/db/iam-db-auth-error"));
        assert!(ev(1, "x").is_auth_failure());
    }
}
