//! The error type shared by every parser in this crate.

/// Why a byte string is not a valid IPMI structure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The input ended before the structure did.
    #[error("truncated {what}: need {needed} bytes, have {available}")]
    Truncated {
        /// Which structure was being read.
        what: &'static str,
        /// Bytes the structure needs at this point.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// Bytes were left after a structure that has a fixed or declared length.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// Which structure was being read.
        what: &'static str,
        /// How many bytes were left over.
        count: usize,
    },
    /// A two's-complement checksum did not sum to zero.
    #[error("bad {which} checksum")]
    BadChecksum {
        /// `"header"` or `"data"` (IPMI v2.0 §13.8).
        which: &'static str,
    },
    /// A field holds a value the specification does not allow here.
    #[error("invalid {field}: {value:#04x}")]
    InvalidField {
        /// The field's name.
        field: &'static str,
        /// The offending value.
        value: u32,
    },
    /// A message is longer than the protocol allows.
    #[error("{what} too long: {len} bytes, at most {max}")]
    TooLong {
        /// Which structure.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An integrity check value or authentication code did not verify.
    #[error("authentication code mismatch")]
    BadAuthCode,
    /// Decryption failed or its padding was malformed.
    #[error("malformed confidentiality padding or ciphertext")]
    BadCiphertext,
}
