//! The whole-object checksum zoomvault keeps for every archived file:
//! CRC-64/NVME, the checksum S3 calls `CRC64NVME`, in S3's wire form
//! (base64 of the 8 big-endian bytes). It is a CRC of the object's bytes
//! themselves, not of its parts, so it composes: the CRC of a
//! concatenation follows from the CRCs of the pieces and the length of the
//! second ([`combine`]). That is what lets a file uploaded in parts, by
//! several workers, get a whole-file checksum without any worker reading
//! the whole file, and what S3 itself verifies for a multipart upload
//! created with `ChecksumType: FULL_OBJECT`.
//!
//! This module computes and formats checksums only; it does no I/O and
//! knows nothing of stores. The arithmetic is `crc-fast`'s (SIMD, many
//! GB/s), the same crate the AWS SDK uses for S3's checksums.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const ALGORITHM: crc_fast::CrcAlgorithm = crc_fast::CrcAlgorithm::Crc64Nvme;

/// A CRC-64/NVME value. Displayed, parsed and serialised as S3 writes it in
/// `x-amz-checksum-crc64nvme`: base64 of the 8 big-endian bytes (12
/// characters, ending in `=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Crc64Nvme(pub u64);

impl Crc64Nvme {
    /// The checksum of `bytes`, at once.
    pub fn of(bytes: &[u8]) -> Crc64Nvme {
        Crc64Nvme(crc_fast::crc64_nvme(bytes))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// The CRC of the concatenation `A ‖ B`, from `a` (the CRC of `A`), `b`
/// (the CRC of `B`) and `b_len` (the length of `B` in bytes). The cost
/// grows with the logarithm of `b_len`, not with it.
pub fn combine(a: Crc64Nvme, b: Crc64Nvme, b_len: u64) -> Crc64Nvme {
    Crc64Nvme(crc_fast::checksum_combine(ALGORITHM, a.0, b.0, b_len))
}

/// The CRC of pieces laid end to end, from each piece's CRC and length, in
/// order: how a multipart upload's full-object checksum follows from its
/// parts'.
pub fn compose(pieces: impl IntoIterator<Item = (Crc64Nvme, u64)>) -> Crc64Nvme {
    pieces
        .into_iter()
        .fold(Crc64Nvme::of(b""), |whole, (crc, len)| {
            combine(whole, crc, len)
        })
}

/// A CRC-64/NVME computed over bytes fed in order, in any chunks.
#[derive(Debug, Clone, Copy)]
pub struct Crc64NvmeDigest {
    inner: crc_fast::Digest,
}

impl Default for Crc64NvmeDigest {
    fn default() -> Crc64NvmeDigest {
        Crc64NvmeDigest::new()
    }
}

impl Crc64NvmeDigest {
    pub fn new() -> Crc64NvmeDigest {
        Crc64NvmeDigest {
            inner: crc_fast::Digest::new(ALGORITHM),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.inner.get_amount()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The checksum of the bytes fed so far (the digest may be fed more).
    pub fn finish(&self) -> Crc64Nvme {
        Crc64Nvme(self.inner.finalize())
    }
}

/// Why a text is not a CRC64NVME in S3's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a CRC64NVME checksum (base64 of 8 bytes, like \"AAAAAAAAAAA=\"): {reason}"
)]
pub struct ParseError {
    text: String,
    reason: &'static str,
}

impl FromStr for Crc64Nvme {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Crc64Nvme, ParseError> {
        let error = |reason| ParseError {
            text: text.chars().take(64).collect(),
            reason,
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| error("not standard padded base64"))?;
        let bytes: [u8; 8] = bytes
            .try_into()
            .map_err(|_| error("it does not decode to 8 bytes"))?;
        Ok(Crc64Nvme(u64::from_be_bytes(bytes)))
    }
}

impl fmt::Display for Crc64Nvme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&base64::engine::general_purpose::STANDARD.encode(self.0.to_be_bytes()))
    }
}

impl Serialize for Crc64Nvme {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Crc64Nvme {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Crc64Nvme, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values_in_s3_form() {
        // The CRC catalogue's check value for CRC-64/NVME ("123456789"),
        // and the empty object, which S3 reports as "AAAAAAAAAAA=".
        assert_eq!(Crc64Nvme::of(b"123456789").0, 0xae8b_1486_0a79_9888);
        assert_eq!(Crc64Nvme::of(b"123456789").to_string(), "rosUhgp5mIg=");
        assert_eq!(Crc64Nvme::of(b"").to_string(), "AAAAAAAAAAA=");
        // Computed with a bitwise CRC-64/NVME (below) and Python.
        assert_eq!(Crc64Nvme::of(b"Hello, World!").to_string(), "1Km+Qyat0k0=");
    }

    /// CRC-64/NVME one bit at a time, straight from its parameters
    /// (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones).
    fn bitwise(bytes: &[u8]) -> u64 {
        let mut crc = u64::MAX;
        for &byte in bytes {
            crc ^= u64::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x9a6c_9329_ac4b_c9b5
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn parses_its_own_form_and_refuses_others() {
        let crc = Crc64Nvme::of(b"123456789");
        assert_eq!("rosUhgp5mIg=".parse::<Crc64Nvme>(), Ok(crc));
        let refused = |text: &str| text.parse::<Crc64Nvme>().unwrap_err().to_string();
        assert_eq!(
            refused("rosUhgp5"),
            "\"rosUhgp5\" is not a CRC64NVME checksum (base64 of 8 bytes, like \"AAAAAAAAAAA=\"): it does not decode to 8 bytes"
        );
        assert_eq!(
            refused("not base64!"),
            "\"not base64!\" is not a CRC64NVME checksum (base64 of 8 bytes, like \"AAAAAAAAAAA=\"): not standard padded base64"
        );
    }

    #[test]
    fn serde_uses_the_wire_form() {
        let crc = Crc64Nvme::of(b"123456789");
        let json = serde_json::to_string(&crc).expect("serialises");
        assert_eq!(json, "\"rosUhgp5mIg=\"");
        assert_eq!(serde_json::from_str::<Crc64Nvme>(&json).ok(), Some(crc));
        assert!(serde_json::from_str::<Crc64Nvme>("\"AAAA\"").is_err());
    }

    #[test]
    fn digest_in_chunks_equals_at_once() {
        let mut digest = Crc64NvmeDigest::new();
        digest.update(b"1234");
        digest.update(b"");
        digest.update(b"56789");
        assert_eq!(digest.len(), 9);
        assert_eq!(digest.finish(), Crc64Nvme::of(b"123456789"));
    }

    #[test]
    fn compose_lays_pieces_end_to_end() {
        let pieces: [&[u8]; 4] = [b"", b"1234", b"5", b"6789"];
        let composed = compose(
            pieces
                .iter()
                .map(|piece| (Crc64Nvme::of(piece), piece.len() as u64)),
        );
        assert_eq!(composed, Crc64Nvme::of(b"123456789"));
        assert_eq!(compose([]), Crc64Nvme::of(b""));
    }

    proptest! {
        #[test]
        fn agrees_with_the_bitwise_definition(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            prop_assert_eq!(Crc64Nvme::of(&bytes).0, bitwise(&bytes));
        }

        #[test]
        fn combine_is_the_crc_of_the_concatenation(
            a in proptest::collection::vec(any::<u8>(), 0..3000),
            b in proptest::collection::vec(any::<u8>(), 0..3000),
        ) {
            let whole = [a.as_slice(), b.as_slice()].concat();
            prop_assert_eq!(
                combine(Crc64Nvme::of(&a), Crc64Nvme::of(&b), b.len() as u64),
                Crc64Nvme::of(&whole)
            );
        }
    }
}
