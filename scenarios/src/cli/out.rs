//! The CLI's standard output. A reader that goes away (`detsim list … | head -1`) ends
//! the output quietly: nothing more is printed, the command finishes its work (reports,
//! repro files) and exits with its usual code, rather than panicking on a broken pipe.

use std::fmt;
use std::io::{ErrorKind, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader has gone away.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes one line to stdout, unless its reader has gone away.
pub(super) fn line(args: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = writeln!(out, "{args}").and_then(|()| out.flush());
    if let Err(error) = written
        && error.kind() == ErrorKind::BrokenPipe
    {
        CLOSED.store(true, Ordering::Relaxed);
    }
}

/// `println!` for the CLI: see the module's documentation.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(super) use say;
