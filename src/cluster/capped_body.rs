//! Reading a remote answer into memory with a ceiling. A Prometheus or a sidecar's stats page
//! (which tenants control) may stream without end; reading stops at the cap, so the cockpit's
//! memory stays flat whatever comes back.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use hyper::body::Body as HttpBody;

/// Why a body was not read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// More than `cap` bytes came; reading stopped there.
    TooLarge { cap: usize },
    /// The connection failed while reading.
    Read(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge { cap } => write!(
                f,
                "the answer is larger than the {} cap; reading stopped there",
                size(*cap)
            ),
            BodyError::Read(why) => write!(f, "reading the answer: {why}"),
        }
    }
}

/// `4 MiB`, `512 KiB`, `100 bytes`: the cap as a person reads it.
pub fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads `chunks` to the end, or fails as soon as they add up to more than `cap` bytes. The
/// buffer never grows past `cap`, and the stream is dropped (its connection closed) on failure.
pub async fn read<S, E>(chunks: S, cap: usize) -> Result<Vec<u8>, BodyError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: fmt::Display,
{
    let mut chunks = std::pin::pin!(chunks);
    let mut body = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
        let wanted = body.len() + chunk.len();
        if wanted > cap {
            return Err(BodyError::TooLarge { cap });
        }
        if wanted > body.capacity() {
            // Doubling as Vec does, but never past the cap.
            let grown = wanted.max(body.capacity() * 2).min(cap);
            body.reserve_exact(grown - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The data of an HTTP body as a stream of chunks (trailers are skipped).
pub fn chunks<B>(body: B) -> impl Stream<Item = Result<Bytes, B::Error>>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    futures::stream::unfold(body, |mut body| async move {
        loop {
            let frame = futures::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
            match frame? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some((Ok(data), body)),
                    Err(_trailers) => continue,
                },
                Err(e) => return Some((Err(e), body)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(sizes: &[usize]) -> impl Stream<Item = Result<Bytes, String>> {
        let chunks: Vec<_> = sizes
            .iter()
            .map(|n| Ok(Bytes::from(vec![b'x'; *n])))
            .collect();
        futures::stream::iter(chunks)
    }

    #[tokio::test]
    async fn exactly_the_cap_is_read_whole() {
        let body = read(pieces(&[4, 3, 3]), 10).await.unwrap();
        assert_eq!(body.len(), 10);
        assert!(body.capacity() <= 10, "{}", body.capacity());
    }

    #[tokio::test]
    async fn just_under_the_cap_is_read_whole() {
        assert_eq!(read(pieces(&[5, 4]), 10).await.unwrap().len(), 9);
    }

    #[tokio::test]
    async fn one_byte_over_the_cap_fails_naming_it() {
        let err = read(pieces(&[5, 5, 1]), 10).await.unwrap_err();
        assert_eq!(err, BodyError::TooLarge { cap: 10 });
        let err = read(pieces(&[3 * 1024 * 1024, 1024 * 1024 + 1]), 4 * 1024 * 1024).await;
        assert_eq!(
            err.unwrap_err().to_string(),
            "the answer is larger than the 4 MiB cap; reading stopped there"
        );
    }

    #[tokio::test]
    async fn an_empty_body_is_empty() {
        assert!(read(pieces(&[]), 10).await.unwrap().is_empty());
        assert!(read(pieces(&[0, 0]), 0).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_endless_body_stops_at_the_cap() {
        let endless = futures::stream::repeat_with(|| Ok::<_, String>(Bytes::from_static(b"abc")));
        assert_eq!(
            read(endless, 1000).await.unwrap_err(),
            BodyError::TooLarge { cap: 1000 }
        );
    }

    #[tokio::test]
    async fn a_broken_connection_is_reported() {
        let broken = futures::stream::iter([Ok(Bytes::from_static(b"ab")), Err("reset")]);
        assert_eq!(
            read(broken, 10).await.unwrap_err().to_string(),
            "reading the answer: reset"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(4 * 1024 * 1024), "4 MiB");
        assert_eq!(size(512 * 1024), "512 KiB");
        assert_eq!(size(100), "100 bytes");
    }
}
