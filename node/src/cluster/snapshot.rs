//! Receiving a snapshot the leader streams (`InstallSnapshot`): its bytes go to a file under
//! the snapshot directory as they arrive, so a snapshot of any size costs one chunk of memory.
//! The file is unlinked as soon as it is created: it is only ever reached through the handle
//! given to the state machine, and a crash leaves nothing behind.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use redoubt_proto::peer::SnapshotChunk;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tonic::Status;

use crate::raft::state_machine::SnapshotFile;

/// Streams `first` and the rest of `stream` into a new file under `dir`; exactly `len` bytes
/// must arrive. Returns the file, rewound.
pub async fn receive(
    dir: &Path,
    len: u64,
    first: Bytes,
    stream: &mut tonic::Streaming<SnapshotChunk>,
) -> Result<SnapshotFile, Status> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let internal = |what: &str, e: std::io::Error| {
        tracing::warn!(error = %e, "receiving a snapshot: {what}");
        Status::internal(format!("receiving a snapshot: {what}: {e}"))
    };
    crate::files::create_private_dir(dir).map_err(|e| internal("snapshot directory", e))?;
    let path = dir.join(format!(
        "incoming-{}-{}.bin",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| internal("create", e))?;
    std::fs::remove_file(&path).map_err(|e| internal("unlink", e))?;
    let mut file = tokio::fs::File::from_std(file);
    let mut received = 0u64;
    let mut chunk = first;
    loop {
        received += chunk.len() as u64;
        if received > len {
            return Err(Status::invalid_argument(format!(
                "snapshot longer than the {len} bytes announced"
            )));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| internal("write", e))?;
        match stream.message().await? {
            Some(next) => chunk = next.data,
            None => break,
        }
    }
    if received != len {
        return Err(Status::invalid_argument(format!(
            "snapshot cut short: {received} of {len} bytes"
        )));
    }
    file.flush().await.map_err(|e| internal("flush", e))?;
    file.seek(std::io::SeekFrom::Start(0))
        .await
        .map_err(|e| internal("rewind", e))?;
    Ok(file)
}
