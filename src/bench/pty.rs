//! A pseudo-terminal to draw into, as an SSH session would receive the cockpit, counting every
//! byte written to it. The other end is drained by a thread so writes never block.

#![allow(unsafe_code, reason = "opening a pseudo-terminal is only in libc")]

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The terminal side of a pty of `width` x `height`, counting what is written to it.
pub struct CountingPty {
    terminal: File,
    written: Arc<AtomicU64>,
}

impl CountingPty {
    pub fn open(width: u16, height: u16) -> io::Result<CountingPty> {
        let (mut controller, mut terminal) = (-1, -1);
        let size = libc::winsize {
            ws_row: height,
            ws_col: width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors it opened into the two integers.
        let rc = unsafe {
            libc::openpty(
                &mut controller,
                &mut terminal,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors are fresh and owned by nothing else.
        let (controller, terminal) = unsafe {
            (
                File::from(OwnedFd::from_raw_fd(controller)),
                File::from(OwnedFd::from_raw_fd(terminal)),
            )
        };
        std::thread::spawn(move || {
            let mut controller = controller;
            let mut buf = [0u8; 64 * 1024];
            while matches!(controller.read(&mut buf), Ok(n) if n > 0) {}
        });
        Ok(CountingPty {
            terminal,
            written: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Bytes written so far.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.written.clone()
    }
}

impl Write for CountingPty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.terminal.write(buf)?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.terminal.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reach_the_pty_and_are_counted() {
        let mut pty = CountingPty::open(80, 24).unwrap();
        let counter = pty.counter();
        let frame = b"\x1b[2J hello, terminal\r\n";
        for _ in 0..100 {
            pty.write_all(frame).unwrap();
        }
        pty.flush().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 100 * frame.len() as u64);
    }
}
