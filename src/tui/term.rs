//! Owning the terminal: entering and leaving the alternate screen, the panic
//! hook that restores it first, suspending (Ctrl-Z), taking it back after a
//! shell, and the clipboard (OSC 52).

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use secrecy::{ExposeSecret, SecretString};
use std::io::Stdout;
use std::time::Duration;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back: raw mode off, main screen, mouse off, cursor on.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(std::io::stdout(), DisableMouseCapture, LeaveAlternateScreen, crossterm::cursor::Show);
}

pub fn enter_terminal() -> std::io::Result<Term> {
    enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    Terminal::new(CrosstermBackend::new(std::io::stdout()))
}

/// A panic hook that restores the terminal first, then chains the previous hook.
/// The message is sanitised of nothing secret because no secret is ever in a panic message.
pub fn install_panic_hook() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!("panic: {info}");
        prev(info);
    }));
}

/// Copies to the terminal's clipboard with OSC 52 (works over SSH and in tmux
/// with `set-clipboard on`); the text never touches argv or a file.
pub fn osc52_copy(text: &SecretString) -> std::io::Result<()> {
    use base64::Engine;
    use std::io::Write;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.expose_secret().as_bytes());
    let mut out = std::io::stdout().lock();
    write!(out, "\x1b]52;c;{b64}\x07")?;
    out.flush()
}

/// Ctrl-Z: give the terminal back, stop, and take it again on SIGCONT.
pub fn suspend(term: &mut Term) -> anyhow::Result<()> {
    restore_terminal();
    // What the terminal does on a real ^Z (raw mode turned that off): SIGTSTP to the whole
    // foreground process group, so a wrapper rdsdeck runs under (the demo's sandbox) stops with it
    // and the shell gets the terminal back; `fg` continues the group.
    // SAFETY: signalling our own process group; the default SIGTSTP action stops it.
    unsafe {
        libc::kill(0, libc::SIGTSTP);
    }
    retake(term)?;
    std::thread::sleep(Duration::from_millis(1));
    Ok(())
}

/// Takes the terminal back after a suspend or a shell: raw mode, the alternate
/// screen, the mouse, and a fresh terminal so the next frame redraws everything
/// (without asking the terminal where its cursor is).
pub fn retake(term: &mut Term) -> anyhow::Result<()> {
    enable_raw_mode()?;
    execute!(std::io::stdout(), EnterAlternateScreen, EnableMouseCapture, crossterm::terminal::Clear(crossterm::terminal::ClearType::All))?;
    *term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    Ok(())
}
