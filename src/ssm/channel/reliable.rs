//! Reliable delivery over the data channel (SSM_PROTOCOL.md §3, "Acks" and
//! "Ordering"): each side numbers its stream-data messages from 0; the
//! receiver acks every one, delivers in order and buffers what comes early;
//! the sender keeps what is unacked and resends the oldest when it is older
//! than the retransmission timeout (Jacobson/Karels, 200 ms to start, at most
//! 1 s). A pure state machine: the caller passes the time in and sends what it
//! returns, so tests drive a simulated clock, deterministically.
//!
//! Lost acks. An agent older than 3.2.1041.0 drops a message below its
//! expected sequence number without an ack (its datachannel.go,
//! handleStreamDataMessage), so a message whose ack went down with a websocket
//! would be resent forever: the plugin resends it 3,000 times (5 minutes) and
//! then terminates the session (its streaming.go ResendMaxAttempt,
//! session.go handleStreamMessageResendTimeout). Here each websocket is an
//! epoch; the agent handles one websocket's messages in order and acks every
//! one at or above its expected number, so when a message sent on this
//! websocket is acked, every message resent on it earlier that carried over
//! from an earlier websocket and is still unacked was already processed: it
//! is dropped ([`Counters::presumed_processed`]). When nothing newer is in
//! flight to tell, an empty Output message (a no-op for every session type) is
//! sent as the probe ([`Reliable::nudge`]). A message unacked for
//! [`STUCK_AFTER`] ends the channel ([`Reliable::stuck`]), as the plugin's limit does.
//!
//! The other way round, acks we sent that went down with a websocket leave the
//! agent resending what we already have, oldest first, one message per tick:
//! a backlog of them would hold back the one message we miss for seconds. So
//! a new websocket starts with the last [`REACKS`] acks again ([`Reliable::reacks`]);
//! an ack of a message the agent no longer holds changes nothing there.

use std::collections::BTreeMap;
use tokio::time::{Duration, Instant};

use super::message::{
    ACKNOWLEDGE, Acknowledge, CHANNEL_CLOSED, ChannelClosed, INPUT_STREAM_DATA, Message, PAUSE_PUBLICATION, PayloadType, START_PUBLICATION,
};

pub const INITIAL_RTO: Duration = Duration::from_millis(200);
pub const MAX_RTO: Duration = Duration::from_secs(1);
pub const MIN_RTO: Duration = Duration::from_millis(40);
/// How often the caller should call [`Reliable::due`].
pub const RESEND_TICK: Duration = Duration::from_millis(100);
/// Acks repeated on a new websocket (the ones the old one may have lost).
pub const REACKS: usize = 4096;
/// A message unacked this long means the session is stuck (the plugin: 3,000 resends 100 ms apart).
pub const STUCK_AFTER: Duration = Duration::from_secs(300);

/// The retransmission timeout estimator (RFC 6298 without the 1 s floor).
#[derive(Debug, Clone)]
pub struct Rto {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
}

impl Default for Rto {
    fn default() -> Self {
        Rto { srtt: None, rttvar: Duration::ZERO, rto: INITIAL_RTO }
    }
}

impl Rto {
    pub fn sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(s) => {
                let diff = if s > rtt { s - rtt } else { rtt - s };
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((s * 7 + rtt) / 8);
            }
        }
        self.rto = (self.srtt.unwrap_or(rtt) + self.rttvar * 4).clamp(MIN_RTO, MAX_RTO);
    }

    pub fn current(&self) -> Duration {
        self.rto
    }
}

#[derive(Debug, Clone)]
struct Pending {
    frame: Vec<u8>,
    last_sent: Option<Instant>,
    first_sent: Option<Instant>,
    resent: u32,
    /// The websocket (epoch) it was first sent on.
    first_epoch: Option<u32>,
    /// Its first transmission on the current websocket: the send order and the time.
    this_epoch: Option<(u64, Instant)>,
}

/// What a received frame asks of the caller.
#[derive(Debug, Default, PartialEq)]
pub struct Inbound {
    /// Frames to send back (acks), in order.
    pub send: Vec<Vec<u8>>,
    /// Stream-data messages now in order, to process in this order.
    pub deliver: Vec<Message>,
    /// The agent closed the channel; the reason to show.
    pub closed: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub sent: u64,
    pub resent: u64,
    pub received: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub acks_received: u64,
    /// Messages carried over a websocket loss, shown processed by a later ack (their own ack was lost).
    pub presumed_processed: u64,
    /// Empty probe messages sent to learn that.
    pub nudges: u64,
}

#[derive(Debug)]
pub struct Reliable {
    /// `input_stream_data` for a client, `output_stream_data` for an agent.
    send_type: &'static str,
    next_out: i64,
    unacked: BTreeMap<i64, Pending>,
    expected_in: i64,
    early: BTreeMap<i64, Message>,
    paused: bool,
    rto: Rto,
    /// The current websocket.
    epoch: u32,
    /// Transmissions of stream data so far (the order of sends on the wire).
    order: u64,
    /// The last messages acked (sequence number, id, type), for [`Reliable::reacks`].
    recent_acks: std::collections::VecDeque<(i64, uuid::Uuid, String)>,
    pub counters: Counters,
}

impl Reliable {
    /// The client side: sends `input_stream_data`.
    pub fn client() -> Reliable {
        Reliable::new(INPUT_STREAM_DATA)
    }

    pub fn new(send_type: &'static str) -> Reliable {
        Reliable {
            send_type,
            next_out: 0,
            unacked: BTreeMap::new(),
            expected_in: 0,
            early: BTreeMap::new(),
            paused: false,
            rto: Rto::default(),
            epoch: 0,
            order: 0,
            recent_acks: std::collections::VecDeque::new(),
            counters: Counters::default(),
        }
    }

    /// A new websocket carries the channel from now on (after a resume).
    pub fn begin_epoch(&mut self) {
        self.epoch += 1;
        for p in self.unacked.values_mut() {
            p.this_epoch = None;
        }
    }

    /// The last acks sent, oldest first: to send first on a new websocket.
    pub fn reacks(&self) -> Vec<Vec<u8>> {
        self.recent_acks
            .iter()
            .map(|(seq, id, kind)| {
                let mut m = Message::new(kind, *seq, 0, PayloadType::Null, Vec::new());
                m.message_id = *id;
                Acknowledge::message_for(&m).encode()
            })
            .collect()
    }

    /// Marks `p` sent now and returns its frame.
    fn transmit(epoch: u32, order: &mut u64, counters: &mut Counters, p: &mut Pending, now: Instant) -> Vec<u8> {
        *order += 1;
        if p.first_sent.is_some() {
            p.resent += 1;
            counters.resent += 1;
        } else {
            p.first_sent = Some(now);
            p.first_epoch = Some(epoch);
            counters.sent += 1;
        }
        p.last_sent = Some(now);
        p.this_epoch.get_or_insert((*order, now));
        p.frame.clone()
    }

    /// Numbers and keeps a stream-data message; returns the frame to send now
    /// (`None` while the agent paused publication: it goes out on resume).
    pub fn send(&mut self, payload_type: PayloadType, payload: Vec<u8>, now: Instant) -> Option<Vec<u8>> {
        let seq = self.next_out;
        self.next_out += 1;
        let frame = Message::new(self.send_type, seq, 0, payload_type, payload).encode();
        let mut p = Pending { frame, last_sent: None, first_sent: None, resent: 0, first_epoch: None, this_epoch: None };
        let out = (!self.paused).then(|| Self::transmit(self.epoch, &mut self.order, &mut self.counters, &mut p, now));
        self.unacked.insert(seq, p);
        out
    }

    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn rto(&self) -> Duration {
        self.rto.current()
    }

    /// The next sequence number this side expects from the peer.
    pub fn expected(&self) -> i64 {
        self.expected_in
    }

    /// Handles one received message.
    pub fn receive(&mut self, m: Message, now: Instant) -> Inbound {
        let mut r = Inbound::default();
        match m.message_type.as_str() {
            ACKNOWLEDGE => {
                if let Ok(a) = serde_json::from_slice::<Acknowledge>(&m.payload) {
                    self.counters.acks_received += 1;
                    if let Some(p) = self.unacked.remove(&a.sequence_number) {
                        if p.resent == 0
                            && let Some(t) = p.first_sent
                        {
                            // Karn: only never-resent messages give an RTT sample.
                            self.rto.sample(now.saturating_duration_since(t));
                        }
                        if let Some((bound, _)) = p.this_epoch {
                            self.settle_before(bound);
                        }
                    }
                }
            }
            CHANNEL_CLOSED => {
                let reason = serde_json::from_slice::<ChannelClosed>(&m.payload)
                    .map(|c| c.output)
                    .ok()
                    .filter(|o| !o.is_empty())
                    .unwrap_or_else(|| "the agent closed the channel".into());
                r.closed = Some(reason);
            }
            PAUSE_PUBLICATION => self.paused = true,
            START_PUBLICATION => {
                self.paused = false;
                // Everything held back goes out now, oldest first.
                for p in self.unacked.values_mut().filter(|p| p.last_sent.is_none()) {
                    r.send.push(Self::transmit(self.epoch, &mut self.order, &mut self.counters, p, now));
                }
            }
            _ if m.is_stream_data() => {
                self.counters.received += 1;
                // Every stream-data message is acked, even a duplicate (its ack was lost).
                if self.recent_acks.len() == REACKS {
                    self.recent_acks.pop_front();
                }
                self.recent_acks.push_back((m.sequence_number, m.message_id, m.message_type.clone()));
                r.send.push(Acknowledge::message_for(&m).encode());
                let seq = m.sequence_number;
                if seq == self.expected_in {
                    r.deliver.push(m);
                    self.expected_in += 1;
                    while let Some(next) = self.early.remove(&self.expected_in) {
                        r.deliver.push(next);
                        self.expected_in += 1;
                    }
                } else if seq > self.expected_in {
                    if self.early.contains_key(&seq) {
                        self.counters.duplicates += 1;
                    } else {
                        self.counters.out_of_order += 1;
                        self.early.insert(seq, m);
                    }
                } else {
                    self.counters.duplicates += 1;
                }
            }
            _ => {}
        }
        r
    }

    /// The frame to resend now, if the oldest unacked message has waited longer than the RTO.
    /// Call every [`RESEND_TICK`].
    pub fn due(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.paused {
            return None;
        }
        let rto = self.rto.current();
        let (_, p) = self.unacked.iter_mut().next()?;
        let last = p.last_sent?;
        if now.saturating_duration_since(last) < rto {
            return None;
        }
        Some(Self::transmit(self.epoch, &mut self.order, &mut self.counters, p, now))
    }

    /// Every unacked frame, oldest first (after a reconnect, to send again at once).
    pub fn resend_all(&mut self, now: Instant) -> Vec<Vec<u8>> {
        if self.paused {
            return Vec::new();
        }
        let (epoch, order, counters) = (self.epoch, &mut self.order, &mut self.counters);
        self.unacked.values_mut().map(|p| Self::transmit(epoch, order, counters, p, now)).collect()
    }

    /// Drops what an ack of a message first sent on this websocket at `bound` shows processed:
    /// messages carried over from an earlier websocket, resent on this one before `bound`, unacked.
    fn settle_before(&mut self, bound: u64) {
        let epoch = self.epoch;
        let done: Vec<i64> = self
            .unacked
            .iter()
            .filter(|(_, k)| k.first_epoch.is_some_and(|e| e < epoch) && k.this_epoch.is_some_and(|(o, _)| o < bound))
            .map(|(s, _)| *s)
            .collect();
        for s in done {
            self.unacked.remove(&s);
            self.counters.presumed_processed += 1;
        }
    }

    /// An empty Output message to send now, when the oldest unacked message came over from an
    /// earlier websocket, was resent on this one over an RTO ago without an ack, and nothing sent
    /// after it can tell whether the agent processed it already.
    pub fn nudge(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.paused {
            return None;
        }
        let (_, k) = self.unacked.iter().next()?;
        let (order, at) = k.this_epoch?;
        let carried = k.first_epoch.is_some_and(|e| e < self.epoch);
        // Only a message first sent on this websocket is sure to be acked (a carried-over one may
        // have been processed too): one sent after `k` settles it.
        let epoch = self.epoch;
        let newer = self.unacked.values().any(|p| p.first_epoch == Some(epoch) && p.this_epoch.is_some_and(|(o, _)| o > order));
        if !carried || newer || now.saturating_duration_since(at) < self.rto.current() {
            return None;
        }
        self.counters.nudges += 1;
        self.send(PayloadType::Output, Vec::new(), now)
    }

    /// The sequence number of a message unacked for longer than [`STUCK_AFTER`], if any.
    pub fn stuck(&self, now: Instant) -> Option<i64> {
        let (seq, p) = self.unacked.iter().next()?;
        (!self.paused && p.first_sent.is_some_and(|t| now.saturating_duration_since(t) > STUCK_AFTER)).then_some(*seq)
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::{FLAG_FIN, FLAG_SYN, OUTPUT_STREAM_DATA};
    use super::*;

    fn data(seq: i64, body: &str) -> Message {
        Message::new(OUTPUT_STREAM_DATA, seq, 0, PayloadType::Output, body.as_bytes().to_vec())
    }

    fn ack_of(frame: &[u8]) -> Message {
        let m = Message::decode(frame).unwrap();
        Acknowledge::message_for(&m)
    }

    fn acked_seqs(r: &Inbound) -> Vec<i64> {
        r.send
            .iter()
            .map(|f| Message::decode(f).unwrap())
            .map(|m| {
                assert_eq!(m.message_type, ACKNOWLEDGE);
                assert_eq!(m.flags, FLAG_SYN | FLAG_FIN);
                serde_json::from_slice::<Acknowledge>(&m.payload).unwrap().sequence_number
            })
            .collect()
    }

    fn bodies(r: &Inbound) -> String {
        r.deliver.iter().map(|m| String::from_utf8_lossy(&m.payload).into_owned()).collect()
    }

    #[test]
    fn in_order_early_and_duplicate_messages() {
        let clock = Instant::now();
        let mut c = Reliable::client();
        let now = clock;
        let r = c.receive(data(0, "a"), now);
        assert_eq!((bodies(&r), acked_seqs(&r)), ("a".into(), vec![0]));
        // 2 and 3 come early: acked and buffered.
        let r = c.receive(data(2, "c"), now);
        assert_eq!((bodies(&r), acked_seqs(&r)), ("".into(), vec![2]));
        let r = c.receive(data(3, "d"), now);
        assert_eq!((bodies(&r), acked_seqs(&r)), ("".into(), vec![3]));
        // A duplicate of 2 is acked again and dropped.
        let r = c.receive(data(2, "c"), now);
        assert_eq!((bodies(&r), acked_seqs(&r)), ("".into(), vec![2]));
        // 1 releases 1, 2, 3 in order.
        let r = c.receive(data(1, "b"), now);
        assert_eq!((bodies(&r), acked_seqs(&r)), ("bcd".into(), vec![1]));
        // A late duplicate of 0.
        let r = c.receive(data(0, "a"), now);
        assert_eq!((bodies(&r), acked_seqs(&r)), ("".into(), vec![0]));
        assert_eq!(c.expected(), 4);
        assert_eq!(c.counters.duplicates, 2);
        assert_eq!(c.counters.out_of_order, 2);
    }

    #[test]
    fn unacked_messages_are_resent_after_the_rto_oldest_first() {
        let mut clock = Instant::now();
        let mut c = Reliable::client();
        let f0 = c.send(PayloadType::Output, b"zero".to_vec(), clock).unwrap();
        clock += Duration::from_millis(10);
        let f1 = c.send(PayloadType::Output, b"one".to_vec(), clock).unwrap();
        assert_eq!(Message::decode(&f0).unwrap().sequence_number, 0);
        assert_eq!(Message::decode(&f1).unwrap().sequence_number, 1);
        assert_eq!(c.due(clock), None, "not before the RTO");
        clock += Duration::from_millis(100);
        assert_eq!(c.due(clock), None);
        clock += Duration::from_millis(100);
        assert_eq!(c.due(clock), Some(f0.clone()), "the oldest after 200 ms");
        // The ack of 0 (after a resend: no RTT sample) leaves 1, which is overdue.
        c.receive(ack_of(&f0), clock);
        assert_eq!(c.rto(), INITIAL_RTO);
        assert_eq!(c.due(clock), Some(f1.clone()));
        c.receive(ack_of(&f1), clock);
        assert_eq!(c.unacked(), 0);
        assert_eq!(c.due(clock), None);
        assert_eq!(c.counters.resent, 2);
    }

    #[test]
    fn rtt_samples_shape_the_timeout_within_bounds() {
        let mut clock = Instant::now();
        let mut c = Reliable::client();
        for _ in 0..20 {
            let f = c.send(PayloadType::Output, vec![1], clock).unwrap();
            clock += Duration::from_millis(20);
            c.receive(ack_of(&f), clock);
        }
        assert!(c.rto() < Duration::from_millis(100), "a fast peer shortens the RTO: {:?}", c.rto());
        assert!(c.rto() >= MIN_RTO);
        for _ in 0..20 {
            let f = c.send(PayloadType::Output, vec![1], clock).unwrap();
            clock += Duration::from_secs(3);
            c.receive(ack_of(&f), clock);
        }
        assert_eq!(c.rto(), MAX_RTO, "capped at 1 s");
    }

    #[test]
    fn paused_publication_holds_messages_until_started() {
        let mut clock = Instant::now();
        let mut c = Reliable::client();
        let now = clock;
        c.receive(Message::new(PAUSE_PUBLICATION, 0, 0, PayloadType::Null, vec![]), now);
        assert!(c.send(PayloadType::Output, b"held".to_vec(), now).is_none());
        clock += Duration::from_secs(2);
        assert_eq!(c.due(clock), None, "nothing is resent while paused");
        let r = c.receive(Message::new(START_PUBLICATION, 0, 0, PayloadType::Null, vec![]), clock);
        assert_eq!(r.send.len(), 1);
        assert_eq!(Message::decode(&r.send[0]).unwrap().payload, b"held");
        assert!(!c.paused());
    }

    #[test]
    fn channel_closed_carries_the_reason() {
        let clock = Instant::now();
        let mut c = Reliable::client();
        let body = serde_json::to_vec(&ChannelClosed { output: "Session i-1 was terminated".into(), ..Default::default() }).unwrap();
        let r = c.receive(Message::new(CHANNEL_CLOSED, 0, 0, PayloadType::Null, body), clock);
        assert_eq!(r.closed.as_deref(), Some("Session i-1 was terminated"));
        let r = c.receive(Message::new(CHANNEL_CLOSED, 0, 0, PayloadType::Null, vec![]), clock);
        assert_eq!(r.closed.as_deref(), Some("the agent closed the channel"));
    }

    fn seq_of(frame: &[u8]) -> i64 {
        Message::decode(frame).unwrap().sequence_number
    }

    /// The agent processed 1 and 2, their acks went down with the websocket, and it drops them
    /// again without an ack: the next websocket resends them once, probes with an empty message
    /// after an RTO, and its ack settles both. No endless resends.
    #[test]
    fn acks_lost_with_a_websocket_are_settled_by_a_later_ack() {
        let mut clock = Instant::now();
        let mut c = Reliable::client();
        c.begin_epoch();
        let f0 = c.send(PayloadType::Output, b"a".to_vec(), clock).unwrap();
        c.send(PayloadType::Output, b"b".to_vec(), clock).unwrap();
        c.send(PayloadType::Output, b"c".to_vec(), clock).unwrap();
        c.receive(ack_of(&f0), clock);
        // A new websocket: 1 and 2 go again, once.
        c.begin_epoch();
        let again: Vec<i64> = c.resend_all(clock).iter().map(|f| seq_of(f)).collect();
        assert_eq!(again, [1, 2]);
        assert_eq!(c.nudge(clock), None, "not before an RTO");
        clock += INITIAL_RTO + Duration::from_millis(10);
        let probe = c.nudge(clock).expect("a probe once the resends went unanswered");
        let p = Message::decode(&probe).unwrap();
        assert_eq!((p.sequence_number, p.payload_type, p.payload.len()), (3, PayloadType::Output, 0));
        assert_eq!(c.nudge(clock), None, "one probe at a time");
        c.receive(ack_of(&probe), clock);
        assert_eq!(c.unacked(), 0);
        assert_eq!((c.counters.presumed_processed, c.counters.nudges), (2, 1));
    }

    /// On the first websocket an unacked message is never presumed processed, even when a later
    /// one is acked: an agent not ready yet leaves the first unacked and buffers the second.
    #[test]
    fn nothing_is_presumed_without_a_lost_websocket() {
        let mut clock = Instant::now();
        let mut c = Reliable::client();
        c.begin_epoch();
        c.send(PayloadType::Output, b"syn".to_vec(), clock).unwrap();
        let f1 = c.send(PayloadType::Output, b"data".to_vec(), clock).unwrap();
        c.receive(ack_of(&f1), clock);
        clock += Duration::from_secs(2);
        assert_eq!(c.nudge(clock), None);
        assert_eq!(c.unacked(), 1);
        assert_eq!(c.due(clock).map(|f| seq_of(&f)), Some(0), "resent until acked");
        assert_eq!(c.counters.presumed_processed, 0);
        // Unacked for five minutes: stuck.
        assert_eq!(c.stuck(clock), None);
        clock += STUCK_AFTER;
        assert_eq!(c.stuck(clock), Some(0));
    }

    /// A new websocket repeats the last acks (the old one may have lost them), at most REACKS.
    #[test]
    fn the_last_acks_are_kept_for_the_next_websocket() {
        let clock = Instant::now();
        let mut c = Reliable::client();
        for i in 0..(REACKS as i64 + 5) {
            c.receive(data(i, "x"), clock);
        }
        let again = c.reacks();
        assert_eq!(again.len(), REACKS);
        let first = Message::decode(&again[0]).unwrap();
        let a: Acknowledge = serde_json::from_slice(&first.payload).unwrap();
        assert_eq!((first.message_type.as_str(), a.sequence_number), (ACKNOWLEDGE, 5));
    }

    /// Two ends over a lossy, duplicating, reordering link deliver every byte once, in order.
    #[test]
    fn a_faulty_link_loses_nothing() {
        let mut clock = Instant::now();
        let mut a = Reliable::client();
        let mut b = Reliable::new(OUTPUT_STREAM_DATA);
        let mut wire_ab: Vec<Vec<u8>> = Vec::new();
        let mut wire_ba: Vec<Vec<u8>> = Vec::new();
        let mut got = Vec::new();
        let mut rng = 0x2545F4914F6CDD1Du64;
        let mut roll = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let want: Vec<u8> = (0..400u32).flat_map(|i| i.to_be_bytes()).collect();
        for chunk in want.chunks(16) {
            if let Some(f) = a.send(PayloadType::Output, chunk.to_vec(), clock) {
                wire_ab.push(f);
            }
        }
        for _ in 0..2000 {
            clock += Duration::from_millis(10);
            let now = clock;
            if let Some(f) = a.due(now) {
                wire_ab.push(f);
            }
            // Deliver a random frame from each wire: drop 20%, duplicate 10%, the rest arrive out of order.
            let mut pick = |wire: &mut Vec<Vec<u8>>| -> Option<Message> {
                if wire.is_empty() {
                    return None;
                }
                let i = roll(wire.len() as u64) as usize;
                let f = wire.swap_remove(i);
                match roll(10) {
                    0 | 1 => return None,
                    2 => wire.push(f.clone()),
                    _ => {}
                }
                Some(Message::decode(&f).unwrap())
            };
            if let Some(m) = pick(&mut wire_ab) {
                let r = b.receive(m, now);
                for d in &r.deliver {
                    got.extend_from_slice(&d.payload);
                }
                wire_ba.extend(r.send);
            }
            if let Some(m) = pick(&mut wire_ba) {
                wire_ab.extend(a.receive(m, now).send);
            }
            if a.unacked() == 0 && got.len() == want.len() {
                break;
            }
        }
        assert_eq!(got, want, "every byte once, in order");
        assert_eq!(a.unacked(), 0);
        assert!(a.counters.resent > 0 && b.counters.duplicates > 0, "{:?} {:?}", a.counters, b.counters);
    }
}
