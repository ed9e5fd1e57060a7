//! The network path, evaluated from the security groups' rules the way AWS
//! applies them (from the configuration, no packets): a connection from a
//! source to a destination on a port is allowed when one of the destination's
//! groups has an ingress rule covering the port whose source is one of the
//! source's groups or a CIDR holding the source's address, and one of the
//! source's groups has an egress rule covering the port towards the destination.

use std::net::Ipv4Addr;

/// One rule of a security group, as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, or `-1` (everything).
    pub protocol: String,
    /// -1 for every port.
    pub from_port: i32,
    pub to_port: i32,
    pub cidrs: Vec<String>,
    pub groups: Vec<String>,
}

impl Rule {
    pub fn covers(&self, port: u16) -> bool {
        let p = port as i32;
        match self.protocol.as_str() {
            "-1" => true,
            "tcp" | "6" => self.from_port < 0 || (self.from_port <= p && p <= self.to_port),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

/// One end of a connection: its security groups and, when known, its private address.
#[derive(Debug, Clone, Default)]
pub struct End {
    pub groups: Vec<String>,
    pub ip: Option<Ipv4Addr>,
}

/// Whether `cidr` (`a.b.c.d/n`) holds `ip`.
pub fn cidr_contains(cidr: &str, ip: Ipv4Addr) -> bool {
    let Some((net, bits)) = cidr.split_once('/') else { return false };
    let (Ok(net), Ok(bits)) = (net.parse::<Ipv4Addr>(), bits.parse::<u32>()) else { return false };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    (u32::from(net) & mask) == (u32::from(ip) & mask)
}

/// The verdict on one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    /// Allowed: the ingress rule and the egress rule that allow it.
    Open { ingress: String, egress: String },
    /// Nothing in the destination's groups lets the source in on the port.
    NoIngress,
    /// The destination lets it in, but no egress rule of the source's groups lets it out.
    NoEgress { ingress: String },
    /// A group of either end was not found (deleted, or another VPC).
    Unknown(String),
}

/// Evaluates `src` -> `dst` on `port` against `groups`.
pub fn evaluate(groups: &[Group], src: &End, dst: &End, port: u16) -> Path {
    let find = |id: &String| groups.iter().find(|g| &g.id == id);
    for id in src.groups.iter().chain(dst.groups.iter()) {
        if find(id).is_none() {
            return Path::Unknown(format!("security group {id} was not found"));
        }
    }
    let name = |id: &str| groups.iter().find(|g| g.id == id).map(|g| format!("{} ({id})", g.name)).unwrap_or_else(|| id.to_string());
    let what = |r: &Rule| if r.protocol == "-1" { "all traffic".to_string() } else { format!("tcp {port}") };
    let ingress = dst.groups.iter().filter_map(find).find_map(|g| {
        g.ingress.iter().filter(|r| r.covers(port)).find_map(|r| {
            if let Some(s) = r.groups.iter().find(|s| src.groups.contains(s)) {
                return Some(format!("{} allows {} from {}", name(&g.id), what(r), name(s)));
            }
            let ip = src.ip?;
            r.cidrs.iter().find(|c| cidr_contains(c, ip)).map(|c| format!("{} allows {} from {c} (holds {ip})", name(&g.id), what(r)))
        })
    });
    let Some(ingress) = ingress else { return Path::NoIngress };
    let egress = src.groups.iter().filter_map(find).find_map(|g| {
        g.egress.iter().filter(|r| r.covers(port)).find_map(|r| {
            if let Some(d) = r.groups.iter().find(|d| dst.groups.contains(d)) {
                return Some(format!("{} allows {} out to {}", name(&g.id), what(r), name(d)));
            }
            r.cidrs
                .iter()
                .find(|c| c.as_str() == "0.0.0.0/0" || dst.ip.is_some_and(|ip| cidr_contains(c, ip)))
                .map(|c| format!("{} allows {} out to {c}", name(&g.id), what(r)))
        })
    });
    match egress {
        Some(egress) => Path::Open { ingress, egress },
        None => Path::NoEgress { ingress },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(port: i32, groups: &[&str], cidrs: &[&str]) -> Rule {
        Rule { protocol: "tcp".into(), from_port: port, to_port: port, cidrs: cidrs.iter().map(|s| s.to_string()).collect(), groups: groups.iter().map(|s| s.to_string()).collect() }
    }

    fn all_out() -> Rule {
        Rule { protocol: "-1".into(), from_port: -1, to_port: -1, cidrs: vec!["0.0.0.0/0".into()], groups: vec![] }
    }

    fn stack() -> Vec<Group> {
        vec![
            Group { id: "sg-ec2".into(), name: "ec2".into(), ingress: vec![tcp(3000, &["sg-alb"], &[])], egress: vec![all_out()] },
            Group { id: "sg-prx".into(), name: "proxy".into(), ingress: vec![tcp(3306, &["sg-ec2"], &[])], egress: vec![all_out()] },
            Group { id: "sg-rds".into(), name: "rds".into(), ingress: vec![tcp(3306, &["sg-prx"], &[])], egress: vec![all_out()] },
        ]
    }

    fn end(g: &str, ip: Option<&str>) -> End {
        End { groups: vec![g.into()], ip: ip.map(|i| i.parse().unwrap()) }
    }

    #[test]
    fn the_seed_stack_is_open_link_by_link() {
        let g = stack();
        assert!(matches!(evaluate(&g, &end("sg-ec2", Some("172.20.32.4")), &end("sg-prx", None), 3306), Path::Open { .. }));
        assert!(matches!(evaluate(&g, &end("sg-prx", None), &end("sg-rds", None), 3306), Path::Open { .. }));
        assert_eq!(evaluate(&g, &end("sg-ec2", None), &end("sg-rds", None), 3306), Path::NoIngress, "the host may not skip the proxy");
        assert_eq!(evaluate(&g, &end("sg-ec2", None), &end("sg-prx", None), 3307), Path::NoIngress);
    }

    #[test]
    fn cidr_rules_need_the_source_address() {
        let mut g = stack();
        g[1].ingress = vec![tcp(3306, &[], &["172.20.32.0/20"])];
        assert!(matches!(evaluate(&g, &end("sg-ec2", Some("172.20.40.9")), &end("sg-prx", None), 3306), Path::Open { .. }));
        assert_eq!(evaluate(&g, &end("sg-ec2", Some("172.20.64.9")), &end("sg-prx", None), 3306), Path::NoIngress);
        assert_eq!(evaluate(&g, &end("sg-ec2", None), &end("sg-prx", None), 3306), Path::NoIngress);
        assert!(cidr_contains("0.0.0.0/0", "8.8.8.8".parse().unwrap()));
        assert!(!cidr_contains("10.0.0.0/8", "11.0.0.1".parse().unwrap()));
        assert!(!cidr_contains("garbage", "11.0.0.1".parse().unwrap()));
    }

    #[test]
    fn egress_is_checked_and_port_ranges_count() {
        let mut g = stack();
        g[0].egress = vec![tcp(443, &[], &["0.0.0.0/0"])];
        assert!(matches!(evaluate(&g, &end("sg-ec2", None), &end("sg-prx", None), 3306), Path::NoEgress { .. }));
        g[0].egress = vec![Rule { protocol: "tcp".into(), from_port: 3000, to_port: 4000, cidrs: vec![], groups: vec!["sg-prx".into()] }];
        assert!(matches!(evaluate(&g, &end("sg-ec2", None), &end("sg-prx", None), 3306), Path::Open { .. }));
        assert!(matches!(evaluate(&g, &end("sg-gone", None), &end("sg-prx", None), 3306), Path::Unknown(_)));
    }
}
