//! The Session Manager data channel's binary frame (one websocket BINARY
//! message each), as SSM_PROTOCOL.md §3 describes it. All integers are
//! big-endian; the message id is a UUID whose two 8-byte halves are swapped
//! on the wire; the digest is SHA-256 of the payload. Reading is lenient the
//! way the agent's peers are: trust HeaderLength, take the payload as
//! everything after HeaderLength + 4, skip the digest for publication
//! control frames and empty payloads.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Bytes up to and including PayloadType.
pub const HEADER_LENGTH: u32 = 116;
/// HeaderLength without PayloadType (some `channel_closed` frames).
pub const SHORT_HEADER_LENGTH: u32 = 112;
const TYPE_LEN: usize = 32;
pub const SCHEMA_VERSION: u32 = 1;

pub const INPUT_STREAM_DATA: &str = "input_stream_data";
pub const OUTPUT_STREAM_DATA: &str = "output_stream_data";
pub const ACKNOWLEDGE: &str = "acknowledge";
pub const CHANNEL_CLOSED: &str = "channel_closed";
pub const START_PUBLICATION: &str = "start_publication";
pub const PAUSE_PUBLICATION: &str = "pause_publication";

pub const FLAG_SYN: u64 = 1;
pub const FLAG_FIN: u64 = 2;

/// What the payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadType {
    /// 0: unset (acks, control frames).
    Null,
    Output,
    Error,
    Size,
    Parameter,
    HandshakeRequest,
    HandshakeResponse,
    HandshakeComplete,
    EncChallengeRequest,
    EncChallengeResponse,
    Flag,
    StdErr,
    ExitCode,
    /// A value this client does not know (kept, so it can be reported).
    Unknown(u32),
}

impl PayloadType {
    pub fn from_u32(v: u32) -> PayloadType {
        match v {
            0 => PayloadType::Null,
            1 => PayloadType::Output,
            2 => PayloadType::Error,
            3 => PayloadType::Size,
            4 => PayloadType::Parameter,
            5 => PayloadType::HandshakeRequest,
            6 => PayloadType::HandshakeResponse,
            7 => PayloadType::HandshakeComplete,
            8 => PayloadType::EncChallengeRequest,
            9 => PayloadType::EncChallengeResponse,
            10 => PayloadType::Flag,
            11 => PayloadType::StdErr,
            12 => PayloadType::ExitCode,
            n => PayloadType::Unknown(n),
        }
    }

    pub fn to_u32(self) -> u32 {
        match self {
            PayloadType::Null => 0,
            PayloadType::Output => 1,
            PayloadType::Error => 2,
            PayloadType::Size => 3,
            PayloadType::Parameter => 4,
            PayloadType::HandshakeRequest => 5,
            PayloadType::HandshakeResponse => 6,
            PayloadType::HandshakeComplete => 7,
            PayloadType::EncChallengeRequest => 8,
            PayloadType::EncChallengeResponse => 9,
            PayloadType::Flag => 10,
            PayloadType::StdErr => 11,
            PayloadType::ExitCode => 12,
            PayloadType::Unknown(n) => n,
        }
    }
}

/// A Flag payload (a u32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    DisconnectToPort,
    TerminateSession,
    ConnectToPortError,
}

impl Flag {
    pub fn to_u32(self) -> u32 {
        match self {
            Flag::DisconnectToPort => 1,
            Flag::TerminateSession => 2,
            Flag::ConnectToPortError => 3,
        }
    }

    pub fn from_payload(p: &[u8]) -> Option<Flag> {
        let v = u32::from_be_bytes(p.get(..4)?.try_into().ok()?);
        match v {
            1 => Some(Flag::DisconnectToPort),
            2 => Some(Flag::TerminateSession),
            3 => Some(Flag::ConnectToPortError),
            _ => None,
        }
    }

    pub fn payload(self) -> Vec<u8> {
        self.to_u32().to_be_bytes().to_vec()
    }
}

/// One data-channel message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `input_stream_data`, `output_stream_data`, `acknowledge`, ...
    pub message_type: String,
    pub schema_version: u32,
    /// Milliseconds since the epoch.
    pub created_date: u64,
    pub sequence_number: i64,
    pub flags: u64,
    pub message_id: Uuid,
    pub payload_type: PayloadType,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {0} bytes is shorter than a header")]
    Short(usize),
    #[error("HeaderLength {header} does not fit a frame of {len} bytes")]
    BadHeaderLength { header: u32, len: usize },
    #[error("message type is not ASCII")]
    BadType,
    #[error("payload digest mismatch on a {0} message")]
    Digest(String),
}

fn put_uuid(out: &mut Vec<u8>, id: &Uuid) {
    let b = id.as_bytes();
    out.extend_from_slice(&b[8..16]);
    out.extend_from_slice(&b[0..8]);
}

fn get_uuid(b: &[u8]) -> Uuid {
    let mut raw = [0u8; 16];
    raw[0..8].copy_from_slice(&b[8..16]);
    raw[8..16].copy_from_slice(&b[0..8]);
    Uuid::from_bytes(raw)
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b.try_into().expect("4 bytes"))
}

fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b.try_into().expect("8 bytes"))
}

pub fn digest(payload: &[u8]) -> [u8; 32] {
    Sha256::digest(payload).into()
}

impl Message {
    /// A message of `message_type` carrying `payload`, created now with a random id.
    pub fn new(message_type: &str, sequence_number: i64, flags: u64, payload_type: PayloadType, payload: Vec<u8>) -> Message {
        Message {
            message_type: message_type.to_string(),
            schema_version: SCHEMA_VERSION,
            created_date: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
            sequence_number,
            flags,
            message_id: new_uuid(),
            payload_type,
            payload,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LENGTH as usize + 4 + self.payload.len());
        out.extend_from_slice(&HEADER_LENGTH.to_be_bytes());
        let mut t = self.message_type.as_bytes().to_vec();
        t.truncate(TYPE_LEN);
        t.resize(TYPE_LEN, b' ');
        out.extend_from_slice(&t);
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        out.extend_from_slice(&self.created_date.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        put_uuid(&mut out, &self.message_id);
        out.extend_from_slice(&digest(&self.payload));
        out.extend_from_slice(&self.payload_type.to_u32().to_be_bytes());
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Reads a frame leniently (see the module docs).
    pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
        if buf.len() < SHORT_HEADER_LENGTH as usize {
            return Err(DecodeError::Short(buf.len()));
        }
        let header = be_u32(&buf[0..4]);
        if header < SHORT_HEADER_LENGTH || header as usize > buf.len() {
            return Err(DecodeError::BadHeaderLength { header, len: buf.len() });
        }
        let raw_type = &buf[4..4 + TYPE_LEN];
        if !raw_type.is_ascii() {
            return Err(DecodeError::BadType);
        }
        let message_type = String::from_utf8_lossy(raw_type).trim_matches(|c| c == ' ' || c == '\0').to_string();
        let payload_type = if header >= HEADER_LENGTH { PayloadType::from_u32(be_u32(&buf[112..116])) } else { PayloadType::Null };
        let start = (header as usize + 4).min(buf.len());
        let payload = buf[start..].to_vec();
        let lenient = message_type == START_PUBLICATION || message_type == PAUSE_PUBLICATION || payload.is_empty();
        if !lenient && buf[80..112] != digest(&payload) {
            return Err(DecodeError::Digest(message_type));
        }
        Ok(Message {
            schema_version: be_u32(&buf[36..40]),
            created_date: be_u64(&buf[40..48]),
            sequence_number: be_u64(&buf[48..56]) as i64,
            flags: be_u64(&buf[56..64]),
            message_id: get_uuid(&buf[64..80]),
            message_type,
            payload_type,
            payload,
        })
    }

    /// Stream data (either direction), as opposed to acks and control frames.
    pub fn is_stream_data(&self) -> bool {
        self.message_type == INPUT_STREAM_DATA || self.message_type == OUTPUT_STREAM_DATA
    }
}

/// A random (v4) UUID.
pub fn new_uuid() -> Uuid {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: time and a counter still make ids unique per process.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        b[..8].copy_from_slice(&t.to_be_bytes());
        b[8..].copy_from_slice(&N.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_be_bytes());
    }
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// The payload of an `acknowledge` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledge {
    #[serde(rename = "AcknowledgedMessageType")]
    pub message_type: String,
    #[serde(rename = "AcknowledgedMessageId")]
    pub message_id: String,
    #[serde(rename = "AcknowledgedMessageSequenceNumber")]
    pub sequence_number: i64,
    #[serde(rename = "IsSequentialMessage")]
    pub is_sequential: bool,
}

impl Acknowledge {
    /// The ack for a received stream-data message.
    pub fn message_for(m: &Message) -> Message {
        let ack = Acknowledge {
            message_type: m.message_type.clone(),
            message_id: m.message_id.hyphenated().to_string(),
            sequence_number: m.sequence_number,
            is_sequential: true,
        };
        Message::new(ACKNOWLEDGE, 0, FLAG_SYN | FLAG_FIN, PayloadType::Null, serde_json::to_vec(&ack).expect("ack JSON"))
    }
}

/// The payload of `channel_closed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelClosed {
    #[serde(rename = "MessageId", default)]
    pub message_id: String,
    #[serde(rename = "CreatedDate", default)]
    pub created_date: String,
    #[serde(rename = "DestinationId", default)]
    pub destination_id: String,
    #[serde(rename = "SessionId", default)]
    pub session_id: String,
    #[serde(rename = "MessageType", default)]
    pub message_type: String,
    #[serde(rename = "SchemaVersion", default)]
    pub schema_version: i64,
    #[serde(rename = "Output", default)]
    pub output: String,
}

/// The opening TEXT frame. It carries the session token: its `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDataChannel {
    #[serde(rename = "MessageSchemaVersion")]
    pub schema_version: String,
    #[serde(rename = "RequestId")]
    pub request_id: String,
    #[serde(rename = "TokenValue")]
    pub token: String,
    #[serde(rename = "ClientId")]
    pub client_id: String,
    #[serde(rename = "ClientVersion")]
    pub client_version: String,
}

impl std::fmt::Debug for OpenDataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenDataChannel")
            .field("schema_version", &self.schema_version)
            .field("request_id", &self.request_id)
            .field("token", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("client_version", &self.client_version)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAction {
    #[serde(rename = "ActionType")]
    pub action_type: String,
    #[serde(rename = "ActionParameters", default)]
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeRequest {
    #[serde(rename = "AgentVersion", default)]
    pub agent_version: String,
    #[serde(rename = "RequestedClientActions", default)]
    pub actions: Vec<ClientAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessedAction {
    #[serde(rename = "ActionType")]
    pub action_type: String,
    /// 1 ok, 2 failed, 3 unsupported.
    #[serde(rename = "ActionStatus")]
    pub status: u32,
    /// Always written, `null` when there is none, as the plugin's Go struct marshals it.
    #[serde(rename = "ActionResult", default)]
    pub result: serde_json::Value,
    #[serde(rename = "Error", default)]
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeResponse {
    #[serde(rename = "ClientVersion")]
    pub client_version: String,
    #[serde(rename = "ProcessedClientActions")]
    pub processed: Vec<ProcessedAction>,
    /// `null` when there are none (the plugin's nil slice), else the messages.
    #[serde(rename = "Errors")]
    pub errors: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeComplete {
    #[serde(rename = "HandshakeTimeToComplete", default)]
    pub time_to_complete: i64,
    #[serde(rename = "CustomerMessage", default)]
    pub customer_message: String,
}

/// Terminal size (payload type Size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub cols: u32,
    pub rows: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        Message {
            message_type: INPUT_STREAM_DATA.into(),
            schema_version: 1,
            created_date: 0x0000_0191_2345_6789,
            sequence_number: 7,
            flags: FLAG_SYN,
            message_id: Uuid::parse_str("00112233-4455-6677-8899-aabbccddeeff").unwrap(),
            payload_type: PayloadType::Output,
            payload: b"hi".to_vec(),
        }
    }

    /// The frame byte for byte, written out from the protocol table.
    #[test]
    fn golden_bytes() {
        let b = sample().encode();
        let mut want = Vec::new();
        want.extend_from_slice(&[0, 0, 0, 116]);
        want.extend_from_slice(b"input_stream_data               ");
        want.extend_from_slice(&[0, 0, 0, 1]);
        want.extend_from_slice(&[0, 0, 0x01, 0x91, 0x23, 0x45, 0x67, 0x89]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 7]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
        // The UUID's halves swapped: 8899aabbccddeeff first.
        want.extend_from_slice(&[0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
        // SHA-256("hi")
        want.extend_from_slice(&hex::decode("8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4").unwrap());
        want.extend_from_slice(&[0, 0, 0, 1]);
        want.extend_from_slice(&[0, 0, 0, 2]);
        want.extend_from_slice(b"hi");
        assert_eq!(b, want);
        assert_eq!(b.len(), 122);
        assert_eq!(Message::decode(&b).unwrap(), sample());
    }

    #[test]
    fn lenient_reading() {
        // channel_closed with HeaderLength 112 (no PayloadType): the payload follows at 116.
        let mut m = sample();
        m.message_type = CHANNEL_CLOSED.into();
        m.payload = br#"{"Output":"Session terminated by the admin","SessionId":"s-1"}"#.to_vec();
        let mut b = m.encode();
        b[0..4].copy_from_slice(&112u32.to_be_bytes());
        let d = Message::decode(&b[..112].iter().chain(&b[116..]).copied().collect::<Vec<u8>>()).unwrap();
        assert_eq!(d.payload_type, PayloadType::Null);
        let c: ChannelClosed = serde_json::from_slice(&d.payload).unwrap();
        assert_eq!(c.output, "Session terminated by the admin");

        // start_publication with a bogus length and digest is still read.
        let mut p = Message::new(START_PUBLICATION, 0, 0, PayloadType::Null, vec![1, 2, 3]);
        p.payload.clear();
        let mut b = p.encode();
        b[80..112].fill(0xAB);
        b[116..120].copy_from_slice(&999u32.to_be_bytes());
        assert_eq!(Message::decode(&b).unwrap().message_type, START_PUBLICATION);

        // Type padded with NULs instead of spaces.
        let mut b = sample().encode();
        for x in &mut b[4 + 17..36] {
            *x = 0;
        }
        assert_eq!(Message::decode(&b).unwrap().message_type, INPUT_STREAM_DATA);
    }

    #[test]
    fn corrupt_frames_are_errors_not_panics() {
        let b = sample().encode();
        assert_eq!(Message::decode(&b[..50]), Err(DecodeError::Short(50)));
        let mut bad = b.clone();
        bad[0..4].copy_from_slice(&5000u32.to_be_bytes());
        assert!(matches!(Message::decode(&bad), Err(DecodeError::BadHeaderLength { header: 5000, .. })));
        let mut bad = b.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(Message::decode(&bad), Err(DecodeError::Digest(INPUT_STREAM_DATA.into())));
        let mut bad = b;
        bad[5] = 0xff;
        assert_eq!(Message::decode(&bad), Err(DecodeError::BadType));
    }

    #[test]
    fn every_payload_type_and_flag_round_trips() {
        for v in 0..=13u32 {
            let t = PayloadType::from_u32(v);
            assert_eq!(t.to_u32(), v);
            let mut m = sample();
            m.payload_type = t;
            assert_eq!(Message::decode(&m.encode()).unwrap().payload_type, t);
        }
        assert_eq!(PayloadType::from_u32(13), PayloadType::Unknown(13));
        for f in [Flag::DisconnectToPort, Flag::TerminateSession, Flag::ConnectToPortError] {
            assert_eq!(Flag::from_payload(&f.payload()), Some(f));
        }
        assert_eq!(Flag::from_payload(&[0, 0]), None);
    }

    #[test]
    fn ack_names_the_message_in_normal_uuid_order() {
        let m = sample();
        let ack = Acknowledge::message_for(&m);
        assert_eq!(ack.message_type, ACKNOWLEDGE);
        assert_eq!(ack.sequence_number, 0);
        assert_eq!(ack.flags, 3);
        let body: serde_json::Value = serde_json::from_slice(&ack.payload).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"AcknowledgedMessageType": "input_stream_data", "AcknowledgedMessageId": "00112233-4455-6677-8899-aabbccddeeff",
                "AcknowledgedMessageSequenceNumber": 7, "IsSequentialMessage": true})
        );
        let back = Message::decode(&ack.encode()).unwrap();
        assert_eq!(serde_json::from_slice::<Acknowledge>(&back.payload).unwrap().sequence_number, 7);
    }

    #[test]
    fn the_opening_frame_never_debug_prints_its_token() {
        let o = OpenDataChannel {
            schema_version: "1.0".into(),
            request_id: "r".into(),
            token: "secret-token-value".into(),
            client_id: "c".into(),
            client_version: "1".into(),
        };
        assert!(!format!("{o:?}").contains("secret-token-value"));
        assert!(serde_json::to_string(&o).unwrap().contains("\"TokenValue\":\"secret-token-value\""));
    }

    #[test]
    fn handshake_json_shapes() {
        let req: HandshakeRequest = serde_json::from_str(
            r#"{"AgentVersion":"3.3.40.0","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"Port","Properties":{"portNumber":"3306","type":"LocalPortForwarding","host":"db"}}}]}"#,
        )
        .unwrap();
        assert_eq!(req.actions[0].parameters["SessionType"], "Port");
        let resp = HandshakeResponse {
            client_version: "1.2.0.0".into(),
            processed: vec![ProcessedAction { action_type: "SessionType".into(), status: 1, result: serde_json::Value::Null, error: String::new() }],
            errors: None,
        };
        // As the plugin's Go structs marshal it (message/handshakemessage.go): every field, nil as null.
        assert_eq!(
            serde_json::to_string(&resp).unwrap(),
            r#"{"ClientVersion":"1.2.0.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}"#
        );
        let u = new_uuid();
        assert_eq!(u.get_version_num(), 4);
        assert_ne!(u, new_uuid());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encode_decode_round_trip(
            t in "[a-z_]{1,32}", seq in any::<i64>(), flags in any::<u64>(), date in any::<u64>(),
            id in any::<u128>(), pt in 0u32..20, payload in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let m = Message { message_type: t, schema_version: 1, created_date: date, sequence_number: seq, flags,
                message_id: Uuid::from_u128(id), payload_type: PayloadType::from_u32(pt), payload };
            prop_assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Message::decode(&bytes);
        }
    }
}
