//! The request body, for the attack signatures. The module never blocks on
//! a body: it reads one only where `api_abuse_inspect_body on` asks for it,
//! and then asynchronously, the way nginx reads any body.
//!
//! Once read, the body sits in memory buffers, in nginx's temporary file
//! (larger than `client_body_buffer_size`), or both. The first
//! `MAX_BODY_BYTES` are inspected either way: from a file they are read with
//! `ngx_read_file`, as nginx itself reads a buffered body from its temporary
//! file when it proxies it without sendfile or aio. That is one `pread` of
//! at most 64 KiB from a file nginx wrote a moment before (in the page
//! cache), bounded like the rest of the inspection.

use ngx::ffi::{ngx_buf_t, ngx_http_request_t, ngx_read_file};

/// The first bytes of the body, up to the inspection limit, in order,
/// whether held in memory or spooled to the temporary file.
///
/// # Safety
/// `r` must be a live request.
pub unsafe fn in_memory<'a>(r: *mut ngx_http_request_t) -> Option<&'a [u8]> {
    // SAFETY: the caller passes a live request; its body and chain links
    // are nginx's and live as long as the request.
    unsafe {
        let rb = (*r).request_body;
        if rb.is_null() {
            return None;
        }
        let mut cl = (*rb).bufs;
        if cl.is_null() {
            return None;
        }
        let limit = crate::signatures::MAX_BODY_BYTES;
        // Fast path: one in-memory buffer.
        if (*cl).next.is_null() {
            if let Some(s) = mem_slice((*cl).buf) {
                return Some(&s[..s.len().min(limit)]);
            }
        }
        let mut total = 0usize;
        let mut c = cl;
        while !c.is_null() && total < limit {
            total += part_len((*c).buf);
            c = (*c).next;
        }
        let total = total.min(limit);
        if total == 0 {
            return None;
        }
        let dst = ngx::ffi::ngx_pnalloc((*r).pool, total).cast::<u8>();
        if dst.is_null() {
            return None;
        }
        let mut off = 0;
        while !cl.is_null() && off < total {
            let b = (*cl).buf;
            if let Some(s) = mem_slice(b) {
                let n = s.len().min(total - off);
                std::ptr::copy_nonoverlapping(s.as_ptr(), dst.add(off), n);
                off += n;
            } else if let Some((file_pos, len)) = file_part(b) {
                let n = len.min(total - off);
                let got = ngx_read_file((*b).file, dst.add(off), n, file_pos);
                if got <= 0 {
                    break; // unreadable: inspect what was read so far
                }
                off += got as usize;
                if (got as usize) < n {
                    break;
                }
            }
            cl = (*cl).next;
        }
        (off > 0).then(|| std::slice::from_raw_parts(dst, off))
    }
}

/// Bytes a buffer holds, in memory or in the file.
unsafe fn part_len(b: *const ngx_buf_t) -> usize {
    // SAFETY: `b` is a buffer of a live request's body chain (or null).
    unsafe { mem_slice(b).map_or_else(|| file_part(b).map_or(0, |(_, n)| n), <[u8]>::len) }
}

unsafe fn mem_slice<'a>(b: *const ngx_buf_t) -> Option<&'a [u8]> {
    // SAFETY: `b` is null or a live buffer whose pos..last is readable
    // when it is flagged as memory.
    unsafe {
        if b.is_null()
            || ((*b).temporary() == 0 && (*b).memory() == 0 && (*b).mmap() == 0)
            || (*b).pos.is_null()
            || (*b).last.is_null()
        {
            return None;
        }
        let len = (*b).last.offset_from((*b).pos);
        if len <= 0 {
            return None;
        }
        Some(std::slice::from_raw_parts((*b).pos, len as usize))
    }
}

/// `(offset, length)` of a buffer that lives in the temporary file.
unsafe fn file_part(b: *const ngx_buf_t) -> Option<(i64, usize)> {
    // SAFETY: `b` is null or a live buffer; `file` is set when `in_file` is.
    unsafe {
        if b.is_null() || (*b).in_file() == 0 || (*b).file.is_null() {
            return None;
        }
        let len = (*b).file_last - (*b).file_pos;
        (len > 0).then_some(((*b).file_pos, len as usize))
    }
}
