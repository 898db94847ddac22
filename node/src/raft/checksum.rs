//! Checksums of what Redoubt stores: every Raft log entry and every snapshot ends with the
//! CRC-32 (IEEE) of its bytes, checked whenever it is read. Damaged data is detected and
//! refused, never served. (sled also checks its own pages; this covers our records end to end,
//! and a snapshot on its way between nodes.)

/// Bytes a checksum adds.
pub const LEN: usize = 4;

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = table();

/// Slicing-by-8 tables: `TABLES[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
const fn tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    t[0] = table();
    let mut i = 0;
    while i < 256 {
        let mut k = 1;
        while k < 8 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            k += 1;
        }
        i += 1;
    }
    t
}

static TABLES: [[u32; 256]; 8] = tables();

/// CRC-32 (IEEE 802.3) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

/// A CRC-32 computed piece by piece (for data written or read as a stream): the same value
/// [`crc32`] gives for all the pieces together.
pub struct Crc32(u32);

impl Crc32 {
    pub fn new() -> Crc32 {
        Crc32(0xFFFF_FFFF)
    }

    /// Eight bytes a step (slicing-by-8), then the tail a byte at a time.
    pub fn update(&mut self, data: &[u8]) {
        let mut c = self.0;
        let mut chunks = data.chunks_exact(8);
        for chunk in &mut chunks {
            let one = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ c;
            let two = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            let t = &TABLES;
            c = t[7][(one & 0xFF) as usize]
                ^ t[6][((one >> 8) & 0xFF) as usize]
                ^ t[5][((one >> 16) & 0xFF) as usize]
                ^ t[4][(one >> 24) as usize]
                ^ t[3][(two & 0xFF) as usize]
                ^ t[2][((two >> 8) & 0xFF) as usize]
                ^ t[1][((two >> 16) & 0xFF) as usize]
                ^ t[0][(two >> 24) as usize];
        }
        for &b in chunks.remainder() {
            c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    pub fn finish(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Crc32::new()
    }
}

/// Appends the checksum of `data` to it.
pub fn seal(mut data: Vec<u8>) -> Vec<u8> {
    let sum = crc32(&data);
    data.extend_from_slice(&sum.to_le_bytes());
    data
}

/// A record whose checksum does not match its bytes.
#[derive(Debug, thiserror::Error)]
#[error("checksum mismatch: the data is damaged")]
pub struct Damaged;

/// The bytes of a sealed record, once its checksum matches.
pub fn unseal(sealed: &[u8]) -> Result<&[u8], Damaged> {
    let split = sealed.len().checked_sub(LEN).ok_or(Damaged)?;
    let (data, sum) = sealed.split_at(split);
    let mut le = [0u8; LEN];
    le.copy_from_slice(sum);
    if crc32(data) == u32::from_le_bytes(le) {
        Ok(data)
    } else {
        Err(Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn eight_bytes_a_step_equals_a_byte_at_a_time() {
        let bytewise = |data: &[u8]| {
            let mut c = 0xFFFF_FFFFu32;
            for &b in data {
                c = TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
            }
            c ^ 0xFFFF_FFFF
        };
        let data: Vec<u8> = (0..4099u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in (0..64).chain([1000, 4095, 4099]) {
            assert_eq!(crc32(&data[..len]), bytewise(&data[..len]), "length {len}");
        }
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let sealed = seal(b"a raft log entry".to_vec());
        assert_eq!(unseal(&sealed).expect("intact"), b"a raft log entry");
        for byte in 0..sealed.len() {
            for bit in 0..8 {
                let mut damaged = sealed.clone();
                damaged[byte] ^= 1 << bit;
                assert!(unseal(&damaged).is_err(), "byte {byte} bit {bit}");
            }
        }
        assert!(unseal(&sealed[..3]).is_err());
    }

    #[test]
    fn a_crc_computed_in_pieces_equals_the_whole() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut c = Crc32::new();
        for piece in data.chunks(333) {
            c.update(piece);
        }
        assert_eq!(c.finish(), crc32(&data));
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
