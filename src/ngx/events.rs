//! The events file writer (`api_abuse_events`): the line is built by
//! `engine::events` after every lock is released; here it is appended.

use super::conf::MainConf;

/// Appends one whole line to the events file, if one is configured.
pub fn write(mcf: &MainConf, line: &str) {
    if mcf.events.is_null() {
        return;
    }
    // SAFETY: the open file lives as long as the cycle; nginx swaps its fd on
    // `nginx -s reopen`. One write(2) of a whole line to an O_APPEND file keeps
    // lines from two workers apart.
    unsafe {
        let fd = (*mcf.events).fd;
        if fd >= 0 {
            let _ = libc::write(fd, line.as_ptr().cast(), line.len());
        }
    }
}
