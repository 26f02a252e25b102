//! A bounds-checked cursor over a byte slice.
//!
//! Every read checks what remains first, so a parser built on it cannot index
//! past the end of its input (the rustls `Reader` idea).

use crate::WireError;

/// A cursor that hands out bytes from the front of a slice.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Starts reading `buf`; `what` names the structure in errors.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError::Truncated {
                what: self.what,
                needed: n,
                available: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Takes exactly `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Takes one byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }

    /// Takes a little-endian `u16` (IPMI multi-byte fields are LS-byte first).
    pub fn u16_le(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    /// Takes a little-endian `u32`.
    pub fn u32_le(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// Fails unless every byte was read (no trailing garbage).
    pub fn finish(self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes {
                what: self.what,
                count: self.buf.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_rejects_overrun() {
        let mut r = Reader::new(&[0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0xAA], "t");
        assert_eq!(r.u16_le().unwrap(), 0x1234);
        assert_eq!(r.u32_le().unwrap(), 0x1234_5678);
        assert!(matches!(
            r.take(2),
            Err(WireError::Truncated {
                needed: 2,
                available: 1,
                ..
            })
        ));
        assert_eq!(r.u8().unwrap(), 0xAA);
        r.finish().unwrap();
    }

    #[test]
    fn finish_reports_trailing_bytes() {
        let r = Reader::new(&[1, 2], "t");
        assert_eq!(
            r.finish(),
            Err(WireError::TrailingBytes {
                what: "t",
                count: 2
            })
        );
    }
}
