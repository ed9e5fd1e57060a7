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

/// What to read.
#[derive(Debug, Clone)]
pub struct Query {
    pub groups: Vec<(Group, String)>,
    /// Epoch milliseconds.
    pub start: i64,
    pub end: Option<i64>,
    pub filter: Option<String>,
    /// At most this many events per group per read.
    pub limit: usize,
}

/// What a read found: the events (oldest first), and the groups that could not be read (a group
/// that does not exist yet is not an error: nothing was logged).
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub events: Vec<Event>,
    pub errors: Vec<(Group, String)>,
    /// Some group had more than `limit` events: the oldest were left out.
    pub truncated: bool,
}

/// Reads every group of the query (following pages up to `limit` each) and merges them by time.
pub async fn read(ctx: &AwsContext, q: &Query) -> Found {
    let client = aws_sdk_cloudwatchlogs::Client::new(&ctx.sdk);
    let reads = q.groups.iter().map(|(g, path)| {
        let client = client.clone();
        async move {
            let mut events = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let sent = client
                    .filter_log_events()
                    .log_group_name(path)
                    .start_time(q.start)
                    .set_end_time(q.end)
                    .set_filter_pattern(q.filter.clone())
                    .set_next_token(token.clone())
                    .send()
                    .await;
                let page = match sent {
                    Ok(p) => p,
                    Err(e) if e.as_service_error().is_some_and(|x| x.is_resource_not_found_exception()) => return (*g, Ok((events, false))),
                    Err(e) => return (*g, Err(explain(&e))),
                };
                events.extend(page.events().iter().map(|e| Event {
                    time: e.timestamp().unwrap_or_default(),
                    group: *g,
                    message: e.message().unwrap_or_default().trim_end().to_string(),
                    id: e.event_id().unwrap_or_default().to_string(),
                }));
                token = page.next_token().map(str::to_string);
                if token.is_none() || events.len() >= q.limit {
                    let cut = events.len() > q.limit || token.is_some();
                    // Keep the newest when there are more than the limit.
                    events.sort_by_key(|e| e.time);
                    let extra = events.len().saturating_sub(q.limit);
                    events.drain(..extra);
                    return (*g, Ok((events, cut)));
                }
            }
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

/// Follows logs: keeps at most `cap` events (older ones counted in `dropped`), and after each read
/// asks only for events from the newest one seen on (CloudWatch's start time is inclusive: events
/// already held at that millisecond are recognised by their id).
#[derive(Debug, Clone)]
pub struct Tail {
    pub events: VecDeque<Event>,
    pub cap: usize,
    pub dropped: u64,
    /// Where the next read starts (epoch ms).
    pub since: i64,
    at_since: HashSet<String>,
}

impl Tail {
    pub fn new(since: i64, cap: usize) -> Tail {
        Tail { events: VecDeque::new(), cap: cap.max(1), dropped: 0, since, at_since: HashSet::new() }
    }

    /// Adds a read's events (oldest first); returns how many were new.
    pub fn push(&mut self, found: Vec<Event>) -> usize {
        let mut new = 0;
        for e in found {
            if e.time < self.since || (e.time == self.since && self.at_since.contains(&e.id)) {
                continue;
            }
            if e.time > self.since {
                self.since = e.time;
                self.at_since.clear();
            }
            self.at_since.insert(e.id.clone());
            self.events.push_back(e);
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
        // The next read starts at 105 (inclusive): b again is not new, c at the same ms is.
        assert_eq!(t.since, 105);
        assert_eq!(t.push(vec![ev(105, "b"), ev(105, "c"), ev(110, "d")]), 2);
        assert_eq!(t.events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["b", "c", "d"]);
        assert_eq!(t.dropped, 1);
        for i in 0..100_000 {
            t.push(vec![ev(200 + i, &i.to_string())]);
        }
        assert_eq!(t.events.len(), 3);
        assert_eq!(t.dropped, 100_001);
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
