//! Ctrl-C and SIGTERM, for the commands that clean up before they exit (`serve`, `proxy`,
//! `exec`): a terminal's interrupt and a supervisor's stop (systemd, a CI runner, `kill`) get
//! the same orderly end. Waiting installs the process's handlers for both, which stay
//! installed: only the command line waits on them.

/// Resolves at the first Ctrl-C (SIGINT) or SIGTERM.
///
/// # Errors
/// When the handlers cannot be installed.
pub(crate) async fn interrupted() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            signal = tokio::signal::ctrl_c() => signal,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
