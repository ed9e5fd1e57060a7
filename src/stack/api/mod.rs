//! A resource as AWS describes it: the raw response of the call that listed it,
//! read the way the AWS CLI reads it, so the detail view and `rdsdeck describe`
//! show the field names and values `aws … describe-…` prints.
//!
//! The SDK's typed output has no serializer, and its `Debug` text is Rust (`Some(…)`, enum variant
//! names instead of their wire values). So the fetchers keep the response bodies ([`Capture`], an
//! SDK interceptor) and this module reads them with the operation's part of AWS's service model
//! (`model.json`, written from botocore's models by `tools/describe_model.py`): member names and
//! order, wire names (EC2's `groupSet`), lists, maps, and scalar types, as botocore's parsers for
//! the query, ec2, json and rest-xml protocols do. Timestamps come out as the CLI prints them in
//! UTC (`2026-12-03T08:00:00+00:00`, microseconds when there are any).

use aws_smithy_xml::decode::{Document, ScopedDecoder, try_data};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

#[derive(Debug, Deserialize)]
struct Service {
    protocol: String,
    operations: HashMap<String, Operation>,
    shapes: HashMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
struct Operation {
    output: String,
    wrapper: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Member {
    name: String,
    shape: String,
    wire: Option<String>,
    location: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Shape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: Vec<Member>,
    member: Option<String>,
    wire: Option<String>,
    #[serde(default)]
    flattened: bool,
    value: Option<String>,
    key_wire: Option<String>,
    value_wire: Option<String>,
}

static MODEL: LazyLock<HashMap<String, Service>> =
    LazyLock::new(|| serde_json::from_str(include_str!("model.json")).expect("the built-in service model parses"));

/// The response bodies of the calls an SDK client made while this was attached (every page).
#[derive(Debug, Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<(String, bytes::Bytes)>>>);

impl Capture {
    /// The bodies kept so far, read as `service`'s `operation` output; a body that cannot be read
    /// is left out (the resource then shows no API object, and the log says why).
    pub fn outputs(&self, service: &str, operation: &str) -> Vec<Value> {
        let bodies = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        bodies
            .iter()
            .filter(|(op, _)| op == operation)
            .filter_map(|(_, b)| match read(service, operation, b) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!("{service} {operation}: response not read for the detail view: {e}");
                    None
                }
            })
            .collect()
    }

    /// Every object at `path` (lists on the way are walked: `["Reservations", "Instances"]`) in
    /// every page of `operation`.
    pub fn items(&self, service: &str, operation: &str, path: &[&str]) -> Items {
        let mut items = Vec::new();
        for out in self.outputs(service, operation) {
            collect(&out, path, &mut items);
        }
        Items(items)
    }
}

fn collect(v: &Value, path: &[&str], out: &mut Vec<Value>) {
    match (v, path.split_first()) {
        (Value::Array(a), _) => a.iter().for_each(|x| collect(x, path, out)),
        (_, None) => out.push(v.clone()),
        (Value::Object(o), Some((first, rest))) => {
            if let Some(x) = o.get(*first) {
                collect(x, rest, out)
            }
        }
        _ => {}
    }
}

/// The objects one listing returned.
#[derive(Debug, Default)]
pub struct Items(Vec<Value>);

impl Items {
    /// The object whose `key` is `value`.
    pub fn find(&self, key: &str, value: &str) -> Option<Value> {
        self.0.iter().find(|o| o.get(key).and_then(Value::as_str) == Some(value)).cloned()
    }
}

impl aws_smithy_runtime_api::client::interceptors::Intercept for Capture {
    fn name(&self) -> &'static str {
        "rdsdeck-capture-body"
    }

    fn read_after_deserialization(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let response = ctx.response();
        if response.status().is_success()
            && let Some(op) = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            && let Some(body) = response.body().bytes()
            && let Ok(mut kept) = self.0.lock()
        {
            kept.push((op.name().to_string(), bytes::Bytes::copy_from_slice(body)));
        }
        Ok(())
    }
}

/// `operation`'s response body read as the AWS CLI reads it (without `ResponseMetadata`).
pub fn read(service: &str, operation: &str, body: &[u8]) -> Result<Value, String> {
    let svc = MODEL.get(service).ok_or_else(|| format!("no model for {service}"))?;
    let op = svc.operations.get(operation).ok_or_else(|| format!("no model for {service} {operation}"))?;
    let text = std::str::from_utf8(body).map_err(|_| "the response is not UTF-8".to_string())?;
    let r = Reader { svc };
    match svc.protocol.as_str() {
        "json" => {
            let v: Value = serde_json::from_str(text).map_err(|e| format!("the response is not JSON: {e}"))?;
            Ok(r.json(&v, &op.output))
        }
        "query" | "ec2" | "rest-xml" => {
            let mut doc = Document::new(text);
            let mut root = doc.root_element().map_err(|e| format!("the response is not XML: {e}"))?;
            match &op.wrapper {
                // query: <OpResponse><OpResult>…members…</OpResult><ResponseMetadata/></OpResponse>
                Some(w) => {
                    while let Some(mut el) = root.next_tag() {
                        if el.start_el().local() == w {
                            return r.xml(&mut el, &op.output);
                        }
                    }
                    Ok(Value::Object(Map::new()))
                }
                // ec2 and rest-xml: the members are the root element's children
                None => r.xml(&mut root, &op.output),
            }
        }
        p => Err(format!("protocol {p} is not read")),
    }
}

/// How an API object is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// As k9s shows a resource.
    #[default]
    Yaml,
    /// As the AWS CLI prints it (`--output json`).
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        }
    }
}

/// An API object as text (ends with a newline); control characters from AWS are escaped.
pub fn text(v: &Value, format: Format) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
            s.push('\n');
            crate::untrusted::json(&s).into_owned()
        }
        // libyaml double-quotes and escapes what YAML calls unprintable; the rest (NEL) is escaped here.
        Format::Yaml => crate::untrusted::text(&serde_yaml_ng::to_string(v).unwrap_or_default()).into_owned(),
    }
}

struct Reader<'m> {
    svc: &'m Service,
}

impl Reader<'_> {
    fn shape(&self, name: &str) -> Option<&Shape> {
        self.svc.shapes.get(name)
    }

    fn xml(&self, el: &mut ScopedDecoder, shape: &str) -> Result<Value, String> {
        let Some(s) = self.shape(shape) else { return Ok(Value::Null) };
        match s.kind.as_str() {
            "structure" => {
                let mut out = Map::new();
                while let Some(mut child) = el.next_tag() {
                    let tag = child.start_el().local().to_string();
                    let Some(m) = s.members.iter().filter(|m| m.location.is_none()).find(|m| self.xml_name(m) == tag) else { continue };
                    let target = self.shape(&m.shape);
                    if let Some(list) = target.filter(|t| t.kind == "list" && t.flattened) {
                        let item = self.xml(&mut child, list.member.as_deref().unwrap_or_default())?;
                        match out.entry(m.name.clone()).or_insert_with(|| Value::Array(Vec::new())) {
                            Value::Array(a) => a.push(item),
                            _ => unreachable!("a flattened list's entry is an array"),
                        }
                    } else {
                        out.insert(m.name.clone(), self.xml(&mut child, &m.shape)?);
                    }
                }
                Ok(Value::Object(out))
            }
            "list" => {
                let member = s.member.as_deref().unwrap_or_default();
                let mut out = Vec::new();
                while let Some(mut child) = el.next_tag() {
                    // botocore keeps the children named as the list's member (default `member`)
                    if child.start_el().local() == s.wire.as_deref().unwrap_or("member") {
                        out.push(self.xml(&mut child, member)?);
                    }
                }
                Ok(Value::Array(out))
            }
            "map" => {
                let (kname, vname) = (s.key_wire.as_deref().unwrap_or("key"), s.value_wire.as_deref().unwrap_or("value"));
                let mut out = Map::new();
                while let Some(mut entry) = el.next_tag() {
                    let (mut k, mut v) = (None, Value::Null);
                    while let Some(mut part) = entry.next_tag() {
                        let name = part.start_el().local().to_string();
                        if name == kname {
                            k = Some(xml_text(&mut part)?);
                        } else if name == vname {
                            v = self.xml(&mut part, s.value.as_deref().unwrap_or_default())?;
                        }
                    }
                    if let Some(k) = k {
                        out.insert(k, v);
                    }
                }
                Ok(Value::Object(out))
            }
            kind => scalar(kind, &xml_text(el)?),
        }
    }

    /// The element name of a member: its wire name, or for a flattened list its member's.
    fn xml_name<'a>(&'a self, m: &'a Member) -> &'a str {
        if let Some(list) = self.shape(&m.shape).filter(|t| t.kind == "list" && t.flattened)
            && let Some(w) = &list.wire
        {
            return w;
        }
        m.wire.as_deref().unwrap_or(&m.name)
    }

    fn json(&self, v: &Value, shape: &str) -> Value {
        let Some(s) = self.shape(shape) else { return v.clone() };
        match (s.kind.as_str(), v) {
            ("structure", Value::Object(o)) => {
                let mut out = Map::new();
                // botocore leaves out a member sent as null
                for m in &s.members {
                    if let Some(x) = o.get(&m.name).filter(|x| !x.is_null()) {
                        out.insert(m.name.clone(), self.json(x, &m.shape));
                    }
                }
                Value::Object(out)
            }
            ("list", Value::Array(a)) => Value::Array(a.iter().map(|x| self.json(x, s.member.as_deref().unwrap_or_default())).collect()),
            ("map", Value::Object(o)) => {
                Value::Object(o.iter().map(|(k, x)| (k.clone(), self.json(x, s.value.as_deref().unwrap_or_default()))).collect())
            }
            ("timestamp", Value::Number(n)) => n.as_f64().map(|secs| Value::String(epoch(secs))).unwrap_or_else(|| v.clone()),
            _ => v.clone(),
        }
    }
}

fn xml_text(el: &mut ScopedDecoder) -> Result<String, String> {
    try_data(el).map(|c| c.into_owned()).map_err(|e| format!("unexpected XML: {e}"))
}

/// A scalar's text as botocore types it.
fn scalar(kind: &str, t: &str) -> Result<Value, String> {
    Ok(match kind {
        "boolean" => Value::Bool(t == "true"),
        "integer" | "long" => t.trim().parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(t.to_string())),
        "float" | "double" => t.trim().parse::<f64>().ok().and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)).unwrap_or_else(|| Value::String(t.to_string())),
        "timestamp" => Value::String(iso_text(t)),
        _ => Value::String(t.to_string()),
    })
}

/// An XML timestamp (ISO 8601, or epoch seconds) as the CLI prints it.
fn iso_text(t: &str) -> String {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t.trim()) {
        return cli_time(d.with_timezone(&chrono::Utc));
    }
    if let Ok(secs) = t.trim().parse::<f64>() {
        return epoch(secs);
    }
    t.to_string()
}

fn epoch(secs: f64) -> String {
    let whole = secs.floor();
    let micros = ((secs - whole) * 1e6).round() as u32;
    let (whole, micros) = if micros >= 1_000_000 { (whole + 1.0, 0) } else { (whole, micros) };
    chrono::DateTime::from_timestamp(whole as i64, micros * 1000).map(cli_time).unwrap_or_else(|| secs.to_string())
}

/// Python's `datetime.isoformat()` in UTC: microseconds only when there are any.
fn cli_time(d: chrono::DateTime<chrono::Utc>) -> String {
    let micros = d.timestamp_subsec_micros();
    if micros == 0 { d.format("%Y-%m-%dT%H:%M:%S+00:00").to_string() } else { format!("{}.{micros:06}+00:00", d.format("%Y-%m-%dT%H:%M:%S")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_xml_is_read_with_the_models_names_and_types() {
        let body = br#"<DescribeDBProxiesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBProxiesResult>
    <DBProxies>
      <member>
        <DBProxyName>app-proxy</DBProxyName>
        <Status>available</Status>
        <RequireTLS>true</RequireTLS>
        <IdleClientTimeout>1800</IdleClientTimeout>
        <VpcSubnetIds><member>subnet-1</member><member>subnet-2</member></VpcSubnetIds>
        <VpcSecurityGroupIds/>
        <Auth><member><AuthScheme>SECRETS</AuthScheme><IAMAuth>REQUIRED</IAMAuth><Description>a &amp; b</Description></member></Auth>
        <CreatedDate>2026-12-03T08:00:00.250Z</CreatedDate>
        <UpdatedDate>2026-12-03T08:00:00Z</UpdatedDate>
        <SomethingNew>ignored</SomethingNew>
      </member>
    </DBProxies>
  </DescribeDBProxiesResult>
  <ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>
</DescribeDBProxiesResponse>"#;
        let v = read("rds", "DescribeDBProxies", body).unwrap();
        assert_eq!(
            v,
            json!({"DBProxies": [{
                "DBProxyName": "app-proxy", "Status": "available", "RequireTLS": true, "IdleClientTimeout": 1800,
                "VpcSubnetIds": ["subnet-1", "subnet-2"], "VpcSecurityGroupIds": [],
                "Auth": [{"AuthScheme": "SECRETS", "IAMAuth": "REQUIRED", "Description": "a & b"}],
                "CreatedDate": "2026-12-03T08:00:00.250000+00:00", "UpdatedDate": "2026-12-03T08:00:00+00:00"
            }]})
        );
    }

    #[test]
    fn ec2_wire_names_become_the_clis_names() {
        let body = br#"<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r</requestId>
  <securityGroupInfo><item>
    <ownerId>123456789012</ownerId><groupId>sg-1</groupId><groupName>db</groupName><groupDescription>the db</groupDescription>
    <ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>3306</fromPort><toPort>3306</toPort>
      <groups><item><userId>123456789012</userId><groupId>sg-2</groupId></item></groups><ipRanges/>
    </item></ipPermissions>
    <tagSet><item><key>Name</key><value>db</value></item></tagSet>
  </item></securityGroupInfo>
</DescribeSecurityGroupsResponse>"#;
        let v = read("ec2", "DescribeSecurityGroups", body).unwrap();
        let g = &v["SecurityGroups"][0];
        assert_eq!(g["Description"], "the db");
        assert_eq!(g["IpPermissions"][0]["FromPort"], 3306);
        assert_eq!(g["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"], "sg-2");
        assert_eq!(g["IpPermissions"][0]["IpRanges"], json!([]));
        assert_eq!(g["Tags"], json!([{"Key": "Name", "Value": "db"}]));
        assert!(g.get("groupId").is_none() && g.get("tagSet").is_none());
    }

    #[test]
    fn json_protocol_keeps_names_and_prints_epoch_timestamps_as_the_cli_does() {
        let body = br#"{"Parameters":[{"Name":"/dev/database/port","Type":"String","LastModifiedDate":1764748800.5,"Version":3,"Selector":null}],"NextToken":"t"}"#;
        let v = read("ssm", "GetParametersByPath", body).unwrap();
        assert_eq!(v["Parameters"][0], json!({"Name": "/dev/database/port", "Type": "String", "LastModifiedDate": "2025-12-03T08:00:00.500000+00:00", "Version": 3}));
    }

    #[test]
    fn text_is_yaml_or_json_with_controls_escaped() {
        let v = json!({"Name": "a\u{1b}[31mred\u{7f}\u{9b}", "Port": 3306, "Tags": [{"Key": "k", "Value": "v"}]});
        let y = text(&v, Format::Yaml);
        assert!(y.contains("Port: 3306\n") && y.contains("- Key: k\n"), "{y}");
        let j = text(&v, Format::Json);
        assert_eq!(serde_json::from_str::<Value>(&j).unwrap(), v, "the JSON reads back the same");
        for t in [&y, &j] {
            assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "no raw control character: {t:?}");
        }
    }

    #[test]
    fn items_walk_lists_on_the_path_and_find_by_key() {
        let cap = Capture::default();
        cap.0.lock().unwrap().push(("DescribeInstances".into(), bytes::Bytes::from_static(
            br#"<DescribeInstancesResponse><reservationSet><item><instancesSet><item><instanceId>i-1</instanceId></item><item><instanceId>i-2</instanceId></item></instancesSet></item></reservationSet></DescribeInstancesResponse>"#,
        )));
        assert!(cap.items("ec2", "DescribeVpcs", &["Vpcs"]).find("InstanceId", "i-1").is_none(), "another operation's bodies are not read");
        let items = cap.items("ec2", "DescribeInstances", &["Reservations", "Instances"]);
        assert_eq!(items.find("InstanceId", "i-2"), Some(json!({"InstanceId": "i-2"})));
        assert_eq!(items.find("InstanceId", "i-3"), None);
    }

    #[test]
    fn a_broken_body_is_an_error_not_a_panic() {
        let _ = read("rds", "DescribeDBProxies", b"<DescribeDBProxiesResponse><DescribeDBProxiesResult><DBProxies><member>");
        let _ = read("ec2", "DescribeInstances", b"<a><reservationSet><item><instancesSet>x</instancesSet></item></reservationSet></a>");
        assert!(read("ssm", "GetParametersByPath", b"{").is_err());
        assert!(read("rds", "Nope", b"").is_err());
    }
}
