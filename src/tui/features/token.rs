//! The token view: an IAM auth token signed for the selected proxy or DB
//! instance (or the stack's proxy), decoded, counting down its 15 minutes,
//! masked until revealed, copied with OSC 52. It leaves memory with the view.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, SystemTime};

use super::{Cx, Effect, View, ViewCx, centered};
use crate::auth::token::{TokenInfo, TokenRequest, inspect};
use crate::stack::{Health, Kind, Resource};
use crate::tui::event::{Internal, Mode};
use crate::tui::keymap::{Cmd, Scope, pretty};
use crate::tui::keymap::Def;

/// Its keys (rebindable under `[keys.token]`).
pub const KEYS: &[Def] = &[
    (Scope::Token, Cmd::Reveal, "reveal", "reveal or hide the token", &["v"]),
    (Scope::Token, Cmd::Copy, "copy", "copy the token (OSC 52)", &["y"]),
    (Scope::Token, Cmd::Refresh, "refresh", "sign a new token", &["r", "ctrl-r", "t"]),
    (Scope::Token, Cmd::Back, "back", "close (the token leaves memory)", &["esc"]),
    (Scope::Token, Cmd::Quit, "quit", "quit rdsdeck", &["q"]),
];

/// An IAM auth token on screen: masked until revealed.
pub struct TokenView {
    pub target: String,
    pub token: Option<SecretString>,
    pub info: Option<TokenInfo>,
    pub expires: Option<SystemTime>,
    pub error: Option<String>,
    pub revealed: bool,
    pub copied: bool,
    pub request: TokenRequest,
}

/// The feature's state, as the registry names it.
pub type Feature = Token;

#[derive(Default)]
pub struct Token {
    pub view: Option<TokenView>,
}

impl Token {
    /// Opens the view for `selected` (a proxy or an instance), else the stack's proxy.
    pub fn open(&mut self, selected: Option<&Resource>, cx: &mut Cx) -> Vec<Effect> {
        let Some(ctx) = cx.ctx else {
            cx.status(Health::Bad, "no AWS credentials yet: a token needs them");
            return Vec::new();
        };
        let pick = |r: &Resource| -> Option<(String, u16)> {
            match r.kind {
                Kind::Proxy => r.get_str("endpoint").filter(|e| !e.is_empty()).map(|e| (e.to_string(), 3306)),
                Kind::Instance => {
                    let port = r.attributes.get("endpoint_port").and_then(|p| p.as_u64()).unwrap_or(3306) as u16;
                    r.get_str("endpoint_address").map(|a| (a.to_string(), port))
                }
                _ => None,
            }
        };
        let stack_proxy = cx.located.and_then(|l| l.proxy_endpoint.clone()).map(|e| (e, 3306));
        let Some((host, port)) = selected.and_then(pick).or(stack_proxy) else {
            cx.status(Health::Bad, "select a proxy or DB instance to sign a token for");
            return Vec::new();
        };
        let request = TokenRequest { hostname: host.clone(), port, region: ctx.region.clone(), username: cx.facts.app_user() };
        let target = format!("{host}:{port}");
        self.view = Some(TokenView { target: target.clone(), token: None, info: None, expires: None, error: None, revealed: false, copied: false, request: request.clone() });
        cx.send(Internal::Focus(Mode::Token));
        vec![Effect::Token { generation: cx.generation, ctx: ctx.clone(), req: request, target }]
    }

    fn on_cmd(&mut self, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        match cmd {
            Some(Cmd::Reveal) => {
                if let Some(v) = self.view.as_mut() {
                    v.revealed = !v.revealed;
                }
            }
            Some(Cmd::Copy) => {
                if let Some(tok) = self.view.as_mut().and_then(|v| {
                    v.copied = v.token.is_some();
                    v.token.clone()
                }) {
                    cx.status(Health::Ok, "token copied to the clipboard (OSC 52)");
                    return vec![Effect::Copy(tok)];
                }
            }
            Some(Cmd::Refresh) => {
                if let (Some(ctx), Some(v)) = (cx.ctx, self.view.as_mut()) {
                    v.token = None;
                    v.info = None;
                    v.revealed = false;
                    return vec![Effect::Token { generation: cx.generation, ctx: ctx.clone(), req: v.request.clone(), target: v.target.clone() }];
                }
            }
            Some(Cmd::Quit) => cx.send(Internal::Quit),
            Some(Cmd::Back) => {
                cx.send(Internal::Focus(Mode::Normal));
                // The token leaves memory with the view.
                self.view = None;
            }
            _ => {}
        }
        Vec::new()
    }

    pub fn on_signed(&mut self, target: String, result: Result<SecretString, String>, cx: &mut Cx) {
        let Some(view) = self.view.as_mut().filter(|v| v.target == target) else { return };
        match result {
            Ok(tok) => {
                let info = inspect(tok.expose_secret(), cx.wall).ok();
                view.expires = info.as_ref().map(|i| cx.wall + Duration::from_secs(i.remaining_seconds.max(0) as u64));
                view.info = info;
                view.token = Some(tok);
                view.error = None;
                view.copied = false;
                let who = format!("token signed for {}@{}", view.request.username, target);
                cx.log(Health::Ok, who);
            }
            Err(e) => {
                view.error = Some(e.clone());
                cx.log(Health::Bad, format!("token: {e}"));
            }
        }
    }

    fn draw_in(&self, vx: &ViewCx, f: &mut Frame, area: Rect) {
        let th = vx.theme;
        let Some(v) = &self.view else { return };
        let row = |k: &str, val: String| Line::from(vec![Span::styled(format!("{k:>14}  "), th.muted), Span::raw(val)]);
        let mut lines = vec![Line::from(Span::styled(format!("IAM auth token for {}@{}", v.request.username, v.target), th.table_header))];
        match (&v.token, &v.info, &v.error) {
            (_, _, Some(e)) => lines.push(Line::from(Span::styled(format!("✖ {e}"), th.bad))),
            (Some(tok), Some(i), _) => {
                let remaining = v
                    .expires
                    .map(|e| match e.duration_since(vx.wall) {
                        Ok(d) => d.as_secs() as i64,
                        Err(e) => -(e.duration().as_secs() as i64),
                    })
                    .unwrap_or(0);
                let (style, state) = if remaining <= 0 {
                    (th.bad, format!("EXPIRED — {} signs a new one", vx.keymap.label(Scope::Token, Cmd::Refresh)))
                } else {
                    (if remaining < 120 { th.warn } else { th.ok }, format!("{}:{:02} left", remaining / 60, remaining % 60))
                };
                lines.push(row("host", format!("{}:{}", i.host, i.port)));
                lines.push(row("user", i.user.clone()));
                lines.push(row("region", i.region.clone()));
                lines.push(row("access key", format!("…{}", i.key_id_last4)));
                lines.push(row("session token", if i.session_token { "yes (temporary credentials)".into() } else { "no".into() }));
                lines.push(row("signed", i.signed_at.clone()));
                lines.push(Line::from(vec![
                    Span::styled(format!("{:>14}  ", "expires"), th.muted),
                    Span::raw(format!("{}  ", i.expires_at)),
                    Span::styled(state, style),
                ]));
                lines.push(Line::from(""));
                let shown = if v.revealed {
                    tok.expose_secret().to_string()
                } else {
                    format!("{} ({} characters, hidden)", "•".repeat(24), tok.expose_secret().len())
                };
                lines.push(Line::from(Span::styled(shown, th.accent)));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled("A new connection needs a valid token; one already open outlives it.", th.muted)));
            }
            _ => lines.push(Line::from(Span::styled("signing…", th.accent))),
        }
        let k = |c: Cmd| vx.keymap.label(Scope::Token, c);
        lines.push(Line::from(Span::styled(
            format!(
                "{} {} · {} copy{} · {} re-sign · {} close",
                k(Cmd::Reveal),
                if v.revealed { "hide" } else { "reveal" },
                k(Cmd::Copy),
                if v.copied { " (copied)" } else { "" },
                k(Cmd::Refresh),
                pretty(&k(Cmd::Back))
            ),
            th.key,
        )));
        let w = area.width.saturating_sub(4).min(100);
        let inner_w = w.saturating_sub(2).max(1) as usize;
        let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner_w).max(1)).sum();
        let r = centered(area, w, (rows as u16 + 2).min(area.height));
        f.render_widget(Clear, r);
        let b = Block::default().borders(Borders::ALL).border_style(th.border_focus).title(Span::styled(" Token ", th.title));
        f.render_widget(Paragraph::new(lines).block(b).wrap(Wrap { trim: false }), r);
    }
}

impl View for Token {
    fn scope(&self) -> Scope {
        Scope::Token
    }
    fn on_key(&mut self, _key: crossterm::event::KeyEvent, cmd: Option<Cmd>, cx: &mut Cx) -> Vec<Effect> {
        self.on_cmd(cmd, cx)
    }
    fn draw(&self, vx: &ViewCx, f: &mut Frame, main: Rect, _screen: Rect) {
        self.draw_in(vx, f, main)
    }
}
