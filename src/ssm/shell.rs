//! An interactive shell on an SSM-managed instance, over the native data
//! channel: the session owns the terminal (raw mode when stdin is one, the
//! size sent at start and on every SIGWINCH) until the remote shell ends.
//! stdin is read without a helper thread (non-blocking, through the reactor),
//! so nothing is left reading the terminal when the TUI takes it back.

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use tokio::io::unix::AsyncFd;

use super::api::{SessionRequest, terminate_session};
use super::channel::driver::{self, Input, Output};
use super::forward::{StartError, open_session};
use crate::aws::AwsContext;

/// stdin in non-blocking mode for the session's lifetime (restored on drop).
struct NonBlockingStdin {
    fd: RawFd,
    flags: i32,
}

impl NonBlockingStdin {
    fn new() -> std::io::Result<NonBlockingStdin> {
        let fd = std::io::stdin().as_raw_fd();
        // SAFETY: fcntl on our own stdin descriptor.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(NonBlockingStdin { fd, flags })
    }
}

impl AsRawFd for NonBlockingStdin {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for NonBlockingStdin {
    fn drop(&mut self) {
        // SAFETY: restores the flags read in `new`.
        unsafe { libc::fcntl(self.fd, libc::F_SETFL, self.flags) };
    }
}

/// Raw mode while the session runs, when stdin is a terminal.
struct RawMode(bool);

impl RawMode {
    fn on() -> RawMode {
        use std::io::IsTerminal;
        RawMode(std::io::stdin().is_terminal() && crossterm::terminal::enable_raw_mode().is_ok())
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

fn size() -> Option<(u32, u32)> {
    crossterm::terminal::size().ok().map(|(c, r)| (c as u32, r as u32))
}

/// Runs a shell on `target` until it exits; returns the agent's closing words.
pub async fn run(ctx: &AwsContext, target: &str) -> Result<String, StartError> {
    let (mut ch, _) = open_session(ctx, &SessionRequest::shell(target)).await?;
    let id = ch.session_id.clone();
    let result = drive(&mut ch).await;
    let _ = terminate_session(ctx, &id).await;
    result.map_err(StartError::Failed)
}

async fn drive(ch: &mut driver::Channel) -> Result<String, String> {
    let _raw = RawMode::on();
    // SAFETY: stdin (fd 0) stays open, and is the same file, for the whole session.
    // A stdin epoll cannot watch (/dev/null, a file) just gives no input.
    let stdin = NonBlockingStdin::new()
        .ok()
        .and_then(|s| unsafe { AsyncFd::register_with_interest(s, tokio::io::Interest::READABLE) }.ok());
    use tokio::signal::unix::{SignalKind, signal};
    let mut winch = signal(SignalKind::window_change()).map_err(|e| e.to_string())?;
    // The terminal going away (SIGHUP), SIGTERM, or a SIGINT from outside (Ctrl-C itself goes to the
    // remote shell in raw mode): the session ends here, and the caller terminates it.
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    if let Some((cols, rows)) = size() {
        let _ = ch.input.send(Input::Size { cols, rows });
    }
    let mut stdin_open = stdin.is_some();
    let mut buf = [0u8; 4096];
    let mut out = std::io::stdout();
    loop {
        tokio::select! {
            o = ch.output.recv() => match o {
                Some(Output::Data(bytes)) => {
                    let _ = out.write_all(&bytes);
                    let _ = out.flush();
                }
                Some(Output::Closed(why) | Output::Unsupported(why)) => return Ok(why),
                Some(_) => {}
                None => return Ok("the session ended".into()),
            },
            ready = async { stdin.as_ref().expect("stdin_open").readable().await }, if stdin_open => {
                let Ok(mut guard) = ready else { stdin_open = false; continue };
                // SAFETY: reading into our buffer from our stdin descriptor.
                let n = unsafe { libc::read(guard.get_inner().as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n > 0 {
                    let _ = ch.input.send(Input::Data(buf[..n as usize].to_vec()));
                } else if n == 0 {
                    // End of input (a pipe): the remote shell gets EOF as Ctrl-D.
                    stdin_open = false;
                    let _ = ch.input.send(Input::Data(vec![4]));
                } else if std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock {
                    guard.clear_ready();
                } else {
                    stdin_open = false;
                }
            }
            _ = hup.recv() => return Ok("the terminal went away (SIGHUP): the session was ended".into()),
            _ = term.recv() => return Ok("SIGTERM: the session was ended".into()),
            _ = int.recv() => return Ok("SIGINT: the session was ended".into()),
            _ = winch.recv() => {
                if let Some((cols, rows)) = size() {
                    let _ = ch.input.send(Input::Size { cols, rows });
                }
            }
        }
    }
}
