//! Request bodies: the sizes accepted, and the lingering close — a body the server refused
//! without reading (413, 401, 415 …) is read to its end and thrown away in the background,
//! so the client gets its answer.
//!
//! Without this, hyper closes a connection whose request body was dropped unread. Closing a
//! socket with unread bytes in its receive buffer makes the kernel send a reset, and a client
//! still sending its upload may lose the answer that was already on its way and see
//! "connection reset" instead of "413 file too large". Web servers solve this the same way
//! (nginx's `lingering_close`): keep reading and discarding for a bounded time and amount.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Largest request body accepted at all (uploads included).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;
/// Largest body a JSON or form extractor reads.
pub const MAX_FORM_BYTES: usize = 1024 * 1024;

/// At most this much of a refused body is read and thrown away.
pub const LINGER_BYTES: u64 = 64 * 1024 * 1024;
/// … and for at most this long; then the connection is closed as before.
pub const LINGER_TIME: Duration = Duration::from_secs(15);

/// Middleware (`axum::middleware::map_request`): wraps a request's body so that, dropped
/// unread, the rest is drained in the background. Bodyless requests are left as they are.
pub async fn linger(req: Request) -> Request {
    if req.body().is_end_stream() {
        return req;
    }
    req.map(|inner| Body::new(Lingering { inner, done: false }))
}

struct Lingering {
    inner: Body,
    /// The body was read to its end (or failed): nothing is left to drain.
    done: bool,
}

impl HttpBody for Lingering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.done = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        if self.is_end_stream() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut rest = std::mem::take(&mut self.inner);
        runtime.spawn(async move {
            let drain = async {
                let mut read = 0u64;
                while let Some(Ok(frame)) =
                    std::future::poll_fn(|cx| Pin::new(&mut rest).poll_frame(cx)).await
                {
                    read += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if read > LINGER_BYTES {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(LINGER_TIME, drain).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A body of `frames` frames of 1 KiB that counts what was read from it.
    fn counted(frames: usize, read: Arc<AtomicU64>) -> Body {
        let chunks = (0..frames).map(move |_| {
            read.fetch_add(1024, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(vec![0u8; 1024])))
        });
        Body::new(IterBody(chunks))
    }

    /// A body over an iterator of frames, every frame ready at once.
    struct IterBody<I>(I);

    impl<I> HttpBody for IterBody<I>
    where
        I: Iterator<Item = Result<Frame<Bytes>, std::convert::Infallible>> + Unpin,
    {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.next())
        }
    }

    #[tokio::test]
    async fn a_body_dropped_unread_is_drained_in_the_background() {
        let read = Arc::new(AtomicU64::new(0));
        let req = linger(Request::new(counted(100, read.clone()))).await;
        drop(req);
        for _ in 0..100 {
            if read.load(Ordering::SeqCst) == 100 * 1024 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("drained {} bytes of 102400", read.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_is_passed_through_whole_and_not_drained_again() {
        let read = Arc::new(AtomicU64::new(0));
        let req = linger(Request::new(counted(3, read.clone()))).await;
        let bytes = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap();
        assert_eq!(bytes.len(), 3 * 1024);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(read.load(Ordering::SeqCst), 3 * 1024);
    }

    #[tokio::test]
    async fn draining_stops_after_its_byte_budget() {
        let read = Arc::new(AtomicU64::new(0));
        let frames = (LINGER_BYTES / 1024) as usize + 1000;
        let req = linger(Request::new(counted(frames, read.clone()))).await;
        drop(req);
        let mut last = 0;
        for _ in 0..500 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let now = read.load(Ordering::SeqCst);
            if now == last && now > 0 {
                break;
            }
            last = now;
        }
        let drained = read.load(Ordering::SeqCst);
        assert!(
            drained > LINGER_BYTES && drained <= LINGER_BYTES + 1024,
            "drained {drained} bytes"
        );
    }
}
