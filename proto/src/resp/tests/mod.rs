//! Tests of the RESP codec, split like the codec itself: `encode.rs` (frames, requests,
//! `d2string`), `request.rs` (the server-side request decoder and its limits), `split.rs`
//! (inline quoting, `sdssplitargs`) and `reply.rs` (the client-side reply decoder). This file
//! holds the helpers they share.

mod encode;
mod reply;
mod request;
mod split;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::*;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn argv(args: &[&str]) -> Vec<Bytes> {
    args.iter().map(|a| b(a)).collect()
}

/// Decodes every request available in `input` with a fresh codec.
fn requests(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
    let mut codec = RequestCodec::new(Limits::default());
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(req) = codec.decode(&mut buf)? {
        out.push(req);
    }
    Ok(out)
}

fn request_error(input: &[u8]) -> String {
    match requests(input) {
        Err(ProtocolError::Invalid(text)) => text,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}
